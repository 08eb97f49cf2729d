"""Private chats as Telegram keeps them: a bot may write to a person only after they started it,
and not after they blocked it (403 with Telegram's own words); "Remind me"'s answer may open
the bot with a start parameter, and no other URL."""

from __future__ import annotations

import pytest
from telegram import Bot
from telegram.error import BadRequest, Forbidden

from sandbox.runner import SandboxThread
from tests.sandbox import telegram_fixtures
from tests.sandbox.telegram_fixtures import admin, on_loop

bot = telegram_fixtures.bot
raw_log = telegram_fixtures.raw_log

NEWCOMER = 700000001
OTHER = 700000002
NEWS = -1001000000001


async def test_a_person_who_never_started_the_bot_cannot_be_written_to(
    bot: Bot, sandbox: SandboxThread
) -> None:
    for person in (NEWCOMER, OTHER):
        on_loop(sandbox, lambda state, p=person: state.user(p))  # pressed a button somewhere
        with pytest.raises(Forbidden) as raised:
            await bot.send_message(person, "Your reminder")
        assert raised.value.message == "Forbidden: bot can't initiate conversation with a user"
    await admin(
        sandbox,
        "POST",
        "telegram/updates",
        {"type": "message", "user_id": NEWCOMER, "text": "/start"},
    )
    sent = await bot.send_message(NEWCOMER, "Your reminder")
    assert sent.chat.id == NEWCOMER
    with pytest.raises(Forbidden):
        await bot.send_message(OTHER, "Your reminder")  # still not OTHER


async def test_a_person_who_blocked_the_bot_cannot_be_written_to_until_they_write(
    bot: Bot, sandbox: SandboxThread
) -> None:
    await admin(
        sandbox,
        "POST",
        "telegram/updates",
        {"type": "message", "user_id": NEWCOMER, "text": "/start"},
    )
    await admin(
        sandbox, "POST", "telegram/updates", {"type": "message", "user_id": OTHER, "text": "hi"}
    )
    await admin(sandbox, "POST", "telegram/updates", {"type": "block", "user_id": NEWCOMER})
    with pytest.raises(Forbidden) as raised:
        await bot.send_photo(NEWCOMER, telegram_fixtures.jpeg())
    assert raised.value.message == "Forbidden: bot was blocked by the user"
    assert (await bot.send_message(OTHER, "still fine")).chat.id == OTHER
    await admin(
        sandbox,
        "POST",
        "telegram/updates",
        {"type": "message", "user_id": NEWCOMER, "text": "/start"},
    )
    assert (await bot.send_message(NEWCOMER, "welcome back")).chat.id == NEWCOMER


async def test_a_callback_answer_may_open_this_bot_and_nothing_else(
    bot: Bot, sandbox: SandboxThread
) -> None:
    username = sandbox.sandbox.fixtures.bot_username
    posted = await bot.send_message(
        NEWS,
        "Event",
        reply_markup={"inline_keyboard": [[{"text": "🔔", "callback_data": "remind:5"}]]},
    )
    for url, allowed in [
        (f"https://t.me/{username}?start=remind-5", True),
        ("https://example.org/phish", False),
        ("https://t.me/some_other_bot?start=remind-5", False),
        (f"https://t.me/{username}?start=remind 5", False),
    ]:
        update = await admin(
            sandbox,
            "POST",
            "telegram/updates",
            {
                "type": "callback",
                "user_id": NEWCOMER,
                "chat_id": NEWS,
                "message_id": posted.message_id,
                "data": "remind:5",
            },
        )
        query_id = update["update"]["callback_query"]["id"]
        if allowed:
            assert await bot.answer_callback_query(query_id, "Open the bot", url=url) is True
        else:
            with pytest.raises(BadRequest) as raised:
                await bot.answer_callback_query(query_id, "Open the bot", url=url)
            assert raised.value.message.lower() == "url_invalid"  # PTB capitalises it
