"""copyMessage and forwardMessage in the Telegram emulator, through the real python-telegram-bot
client: what each answers (MessageId vs Message), what the target chat shows, and the errors."""

from __future__ import annotations

import pytest
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    MessageId,
    MessageOriginChannel,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from sandbox.runner import SandboxThread
from tests.sandbox import telegram_fixtures
from tests.sandbox.telegram_fixtures import jpeg, on_loop, raw_call

bot = telegram_fixtures.bot
raw_log = telegram_fixtures.raw_log

NEWS = -1001000000001  # the bot is an administrator
EVENTS = -1001000000002  # the bot is an administrator
CLOSED = -1001000000003  # the bot is not


async def test_copy_answers_a_message_id_and_drops_the_origin(
    bot: Bot, sandbox: SandboxThread
) -> None:
    original = await bot.send_message(NEWS, "<b>Book club</b> tonight", parse_mode=ParseMode.HTML)
    copied = await bot.copy_message(EVENTS, NEWS, original.message_id)
    assert isinstance(copied, MessageId)
    history = on_loop(sandbox, lambda s: s.chat_history(EVENTS))
    assert [(m["message_id"], m["text"], m["forward_origin"]) for m in history] == [
        (copied.message_id, "Book club tonight", None)
    ]
    assert history[0]["entities"] == [{"offset": 0, "length": 9, "type": "bold"}]
    targets = [(i.target, i.remote_id) for i in sandbox.sandbox.ledger.items]
    assert targets == [
        (str(NEWS), str(original.message_id)),
        (str(EVENTS), str(copied.message_id)),
    ]


async def test_copy_of_a_photo_may_change_its_caption_and_keyboard(
    bot: Bot, sandbox: SandboxThread
) -> None:
    original = await bot.send_photo(NEWS, jpeg(), caption="Exhibition")
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("More", url="https://lib.example/")]])
    copied = await bot.copy_message(
        "@library_events",
        "@library_news",
        original.message_id,
        caption="Shared",
        reply_markup=keyboard,
    )
    shown = on_loop(sandbox, lambda s: s.chat_history(EVENTS))[-1]
    assert shown["message_id"] == copied.message_id
    assert shown["caption"] == "Shared"
    assert shown["photo"]["file_id"] == original.photo[-1].file_id
    assert shown["buttons"][0][0]["url"] == "https://lib.example/"


async def test_forward_answers_the_message_with_its_channel_origin(
    bot: Bot, sandbox: SandboxThread
) -> None:
    original = await bot.send_message(NEWS, "Reading marathon")
    forwarded = await bot.forward_message(EVENTS, NEWS, original.message_id)
    assert forwarded.chat.id == EVENTS
    assert forwarded.text == "Reading marathon"
    origin = forwarded.forward_origin
    assert isinstance(origin, MessageOriginChannel)
    assert (origin.chat.id, origin.message_id) == (NEWS, original.message_id)
    # A forward of the forward still names the first channel.
    again = await bot.forward_message(NEWS, EVENTS, forwarded.message_id)
    assert isinstance(again.forward_origin, MessageOriginChannel)
    assert again.forward_origin.message_id == original.message_id


@pytest.mark.parametrize(
    ("method", "missing"),
    [
        ("copyMessage", "Message to copy not found"),
        ("forwardMessage", "Message to forward not found"),
    ],
)
async def test_sharing_errors(bot: Bot, sandbox: SandboxThread, method: str, missing: str) -> None:
    original = await bot.send_message(NEWS, "x")
    share = bot.copy_message if method == "copyMessage" else bot.forward_message
    with pytest.raises(BadRequest, match=f"^{missing}$"):
        await share(EVENTS, NEWS, original.message_id + 50)
    with pytest.raises(BadRequest, match="^Chat not found$"):
        await share(EVENTS, -100999, original.message_id)
    with pytest.raises(BadRequest, match="^Chat not found$"):
        await share(-100999, NEWS, original.message_id)
    # The bot may not post in the target, nor read the source.
    with pytest.raises(Forbidden, match="bot is not a member of the channel chat"):
        await share(CLOSED, NEWS, original.message_id)
    with pytest.raises(BadRequest, match="^Chat not found$"):
        await share(EVENTS, CLOSED, 1)
    with pytest.raises(BadRequest, match="^Chat_id is empty$"):
        await raw_call(bot, method, from_chat_id=NEWS, message_id=original.message_id)
    with pytest.raises(BadRequest, match="^From_chat_id is empty$"):
        await raw_call(bot, method, chat_id=EVENTS, message_id=original.message_id)
    with pytest.raises(BadRequest, match="^Message identifier is not specified$"):
        await raw_call(bot, method, chat_id=EVENTS, from_chat_id=NEWS)
    assert on_loop(sandbox, lambda s: s.chat_history(EVENTS)) == []
    assert len(sandbox.sandbox.ledger.items) == 1
