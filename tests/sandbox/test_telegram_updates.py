"""Updates from the Telegram emulator: long polling, webhooks, what users do, and engagement."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from functools import partial
from typing import Any

import httpx
import pytest
from aiohttp import web
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Conflict

from sandbox.runner import SandboxThread
from sandbox.telegram_state import TelegramState
from tests.sandbox import telegram_fixtures
from tests.sandbox.telegram_fixtures import admin, jpeg, on_loop

bot = telegram_fixtures.bot
raw_log = telegram_fixtures.raw_log

NEWS = -1001000000001


async def wait_for_poll(sandbox: SandboxThread, generation: int) -> None:
    """Until the emulator has started long poll number `generation`."""
    for _ in range(500):
        if on_loop(sandbox, lambda s: s.poll_generation) >= generation:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the long poll never reached the sandbox")


async def test_long_poll_returns_an_injected_message(bot: Bot, sandbox: SandboxThread) -> None:
    staff = sandbox.sandbox.fixtures.staff_user_id
    poll = asyncio.create_task(bot.get_updates(timeout=10))
    await wait_for_poll(sandbox, 1)
    await admin(
        sandbox,
        "POST",
        "telegram/updates",
        {"type": "message", "user_id": staff, "text": "/new poster"},
    )
    (update,) = await asyncio.wait_for(poll, 5)
    assert update.message is not None
    assert update.message.text == "/new poster"
    assert update.message.from_user is not None
    assert update.message.from_user.id == staff
    assert update.message.chat.type == "private"
    assert [(e.type, e.offset, e.length) for e in update.message.entities] == [
        ("bot_command", 0, 4)
    ]


async def test_long_poll_times_out_empty(bot: Bot) -> None:
    assert await bot.get_updates(timeout=timedelta(seconds=0.2)) == ()


async def test_offset_confirms_updates(bot: Bot, sandbox: SandboxThread) -> None:
    staff = sandbox.sandbox.fixtures.staff_user_id
    for text in ("one", "two", "three"):
        on_loop(sandbox, partial(TelegramState.inject_message, user_id=staff, text=text))
    first = await bot.get_updates(limit=2)
    assert [u.message.text for u in first if u.message] == ["one", "two"]
    rest = await bot.get_updates(offset=first[-1].update_id + 1)
    assert [u.message.text for u in rest if u.message] == ["three"]
    assert await bot.get_updates(offset=rest[-1].update_id + 1) == ()


async def test_a_newer_poll_ends_the_older_one(bot: Bot, sandbox: SandboxThread) -> None:
    older = asyncio.create_task(bot.get_updates(timeout=10))
    await wait_for_poll(sandbox, 1)
    assert await bot.get_updates() == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates request"):
        await asyncio.wait_for(older, 5)


async def test_allowed_updates_are_remembered(bot: Bot, sandbox: SandboxThread) -> None:
    await bot.get_updates(allowed_updates=["callback_query"])
    staff = sandbox.sandbox.fixtures.staff_user_id
    assert on_loop(sandbox, lambda s: s.inject_message(staff, "ignored")) is None
    await bot.get_updates()  # without the parameter the last setting stays
    assert on_loop(sandbox, lambda s: s.inject_message(staff, "still ignored")) is None
    await bot.get_updates(allowed_updates=[])  # an empty list means the default set
    assert on_loop(sandbox, lambda s: s.inject_message(staff, "seen")) is not None


async def test_reaction_counts_need_allowed_updates(bot: Bot, sandbox: SandboxThread) -> None:
    sent = await bot.send_message(NEWS, "Poetry night on Friday")
    await admin(sandbox, "POST", "clock/advance", {"seconds": 6 * 3600})
    assert await bot.get_updates() == ()  # not asked for: the default set leaves them out
    history = on_loop(sandbox, lambda s: s.chat_history(NEWS))
    assert sum(history[0]["reactions"].values()) > 0
    assert history[0]["views"] > 0
    await bot.get_updates(allowed_updates=["message", "message_reaction_count"])
    await admin(sandbox, "POST", "clock/advance", {"seconds": 6 * 3600})
    (update,) = await bot.get_updates()
    counts = update.message_reaction_count
    assert counts is not None
    assert counts.message_id == sent.message_id
    assert counts.chat.id == NEWS
    grown = on_loop(sandbox, lambda s: s.chat_history(NEWS))[0]["reactions"]
    assert {getattr(r.type, "emoji", None): r.total_count for r in counts.reactions} == grown
    assert sum(grown.values()) > sum(history[0]["reactions"].values())


async def test_callback_query_and_answer(bot: Bot, sandbox: SandboxThread) -> None:
    follower = sandbox.sandbox.fixtures.follower_user_id
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Remind me", callback_data="remind:7")]])
    sent = await bot.send_message(NEWS, "Lecture at 5", reply_markup=markup)
    body = {
        "type": "callback",
        "user_id": follower,
        "chat_id": NEWS,
        "message_id": sent.message_id,
        "data": "remind:7",
    }
    injected = await admin(sandbox, "POST", "telegram/updates", body)
    (update,) = await bot.get_updates()
    query = update.callback_query
    assert query is not None
    assert (query.data, query.from_user.id) == ("remind:7", follower)
    assert query.message is not None
    assert query.message.message_id == sent.message_id
    assert await bot.answer_callback_query(query.id, "You will be reminded") is True
    answer = await admin(sandbox, "GET", f"telegram/callbacks/{query.id}")
    assert answer["answer"]["text"] == "You will be reminded"
    assert injected["update"]["callback_query"]["id"] == query.id
    with pytest.raises(BadRequest, match="^Query is too old and response timeout expired"):
        await bot.answer_callback_query(query.id)


async def test_callback_needs_a_real_button(sandbox: SandboxThread) -> None:
    async with httpx.AsyncClient(base_url=f"{sandbox.base_url}/_sandbox/") as client:
        response = await client.post(
            "telegram/updates",
            json={"type": "callback", "user_id": 1, "chat_id": NEWS, "message_id": 1, "data": "x"},
        )
    assert response.status_code == 400
    assert "no bot message" in response.json()["error"]


async def test_photo_from_a_user_round_trips_through_get_file(
    bot: Bot, sandbox: SandboxThread
) -> None:
    staff = sandbox.sandbox.fixtures.staff_user_id
    image = jpeg(700, 500)
    on_loop(sandbox, lambda s: s.inject_photo(staff, image, caption="poster for Friday"))
    (update,) = await bot.get_updates()
    message = update.message
    assert message is not None
    assert message.caption == "poster for Friday"
    largest = message.photo[-1]
    assert (largest.width, largest.height) == (700, 500)
    data = await (await bot.get_file(largest.file_id)).download_as_bytearray()
    assert len(data) == largest.file_size


class WebhookReceiver:
    """A bot's webhook endpoint on loopback, keeping what Telegram POSTs."""

    def __init__(self) -> None:
        self.received: asyncio.Queue[tuple[dict[str, str], dict[str, Any]]] = asyncio.Queue()
        self.status = 200

    async def handle(self, request: web.Request) -> web.Response:
        await self.received.put((dict(request.headers), await request.json()))
        return web.Response(status=self.status)


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[WebhookReceiver, str]]:
    hook = WebhookReceiver()
    app = web.Application()
    app.router.add_post("/hook", hook.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    yield hook, f"http://127.0.0.1:{port}/hook"
    await runner.cleanup()


async def test_webhook_receives_updates_with_the_secret(
    bot: Bot, sandbox: SandboxThread, receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, url = receiver
    assert await bot.set_webhook(url, secret_token="s3cret-token_1") is True
    info = await bot.get_webhook_info()
    assert (info.url, info.pending_update_count) == (url, 0)
    with pytest.raises(
        Conflict, match="^Conflict: can't use getUpdates method while webhook is active"
    ):
        await bot.get_updates()
    staff = sandbox.sandbox.fixtures.staff_user_id
    on_loop(sandbox, lambda s: s.inject_message(staff, "hello"))
    headers, body = await asyncio.wait_for(hook.received.get(), 5)
    assert headers["X-Telegram-Bot-Api-Secret-Token"] == "s3cret-token_1"
    assert headers["Content-Type"] == "application/json"
    update = Update.de_json(body, bot)
    assert update.message is not None
    assert update.message.text == "hello"
    assert await bot.delete_webhook() is True
    assert (await bot.get_webhook_info()).url == ""


async def test_webhook_retries_until_accepted(
    bot: Bot, sandbox: SandboxThread, receiver: tuple[WebhookReceiver, str]
) -> None:
    hook, url = receiver
    hook.status = 500
    await bot.set_webhook(url)
    staff = sandbox.sandbox.fixtures.staff_user_id
    on_loop(sandbox, lambda s: s.inject_message(staff, "again"))
    _, first = await asyncio.wait_for(hook.received.get(), 5)
    info = await bot.get_webhook_info()
    assert info.pending_update_count == 1
    assert info.last_error_message is not None
    assert "500" in info.last_error_message
    hook.status = 200
    _, second = await asyncio.wait_for(hook.received.get(), 5)
    assert second == first
    await bot.delete_webhook(drop_pending_updates=True)


async def test_delete_webhook_can_drop_pending_updates(bot: Bot, sandbox: SandboxThread) -> None:
    staff = sandbox.sandbox.fixtures.staff_user_id
    on_loop(sandbox, lambda s: s.inject_message(staff, "stale"))
    assert await bot.delete_webhook(drop_pending_updates=True) is True
    assert await bot.get_updates() == ()
