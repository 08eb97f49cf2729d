"""What python-telegram-bot sees when the emulator throttles, fails, stalls or drops, and how it
answers requests that leave out a required parameter."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from telegram import Bot, InputMediaPhoto
from telegram.error import BadRequest, NetworkError, RetryAfter, TimedOut

from sandbox.runner import SandboxThread
from sandbox.telegram_methods import METHODS
from sandbox.telegram_spec import required_fields
from tests.sandbox import telegram_fixtures
from tests.sandbox.telegram_fixtures import FakeMonotonic, admin, jpeg, on_loop, raw_call

bot = telegram_fixtures.bot
raw_log = telegram_fixtures.raw_log
flood_clock = telegram_fixtures.flood_clock

NEWS = -1001000000001
EVENTS = -1001000000002


def force(sandbox: SandboxThread, method: str, kind: str) -> None:
    sandbox.call(lambda: sandbox.sandbox.faults.force(method, kind))


# -- flood control -------------------------------------------------------------------------------


async def test_twenty_a_minute_per_channel(
    bot: Bot, sandbox: SandboxThread, flood_clock: FakeMonotonic
) -> None:
    outcomes: list[Any] = []
    for n in range(25):
        flood_clock.advance(0.04)  # 25 messages within one second
        try:
            outcomes.append(await bot.send_message(NEWS, f"post {n}"))
        except RetryAfter as exc:
            outcomes.append(exc)
    assert all(not isinstance(o, RetryAfter) for o in outcomes[:20])
    throttled = outcomes[20:]
    assert all(isinstance(o, RetryAfter) for o in throttled)
    assert throttled[0].retry_after == timedelta(seconds=60)
    assert len(sandbox.sandbox.ledger.items) == 20
    assert await bot.send_message(EVENTS, "another channel is not throttled")
    flood_clock.advance(60)
    assert await bot.send_message(NEWS, "a minute later")


async def test_an_album_counts_each_item(bot: Bot, flood_clock: FakeMonotonic) -> None:
    for _ in range(2):
        await bot.send_media_group(NEWS, [InputMediaPhoto(jpeg(20, 20)) for _ in range(10)])
    with pytest.raises(RetryAfter):
        await bot.send_message(NEWS, "the 21st message this minute")


async def test_flood_limits_are_configurable_and_switchable(
    bot: Bot, sandbox: SandboxThread, flood_clock: FakeMonotonic
) -> None:
    await admin(sandbox, "POST", "limits", {"per_chat_per_minute": 2})
    await bot.send_message(NEWS, "1")
    await bot.send_message(NEWS, "2")
    with pytest.raises(RetryAfter):
        await bot.send_message(NEWS, "3")
    limits = await admin(sandbox, "POST", "limits", {"telegram_flood": False})
    assert limits["telegram_flood"] is False
    for n in range(40):
        await bot.send_message(NEWS, f"benchmark {n}")


async def test_thirty_a_second_overall(
    bot: Bot, sandbox: SandboxThread, flood_clock: FakeMonotonic
) -> None:
    private = [sandbox.sandbox.fixtures.staff_user_id, sandbox.sandbox.fixtures.follower_user_id]
    for n in range(30):
        await bot.send_message(private[n % 2], f"reply {n}")
    with pytest.raises(RetryAfter) as exc:
        await bot.send_message(private[0], "one too many")
    assert exc.value.retry_after == timedelta(seconds=1)
    flood_clock.advance(1)
    assert await bot.send_message(private[0], "next second")


# -- injected faults -----------------------------------------------------------------------------


async def test_fault_429_is_retry_after(bot: Bot, sandbox: SandboxThread) -> None:
    await admin(sandbox, "POST", "faults", {"retry_after": 7})
    force(sandbox, "sendMessage", "429")
    with pytest.raises(RetryAfter) as exc:
        await bot.send_message(NEWS, "x")
    assert exc.value.retry_after == timedelta(seconds=7)
    assert sandbox.sandbox.ledger.items == []


async def test_fault_5xx_is_a_network_error_and_sends_nothing(
    bot: Bot, sandbox: SandboxThread
) -> None:
    messages = set()
    for _ in range(6):
        force(sandbox, "sendMessage", "5xx")
        with pytest.raises(NetworkError) as exc:
            await bot.send_message(NEWS, "x")
        assert not isinstance(exc.value, BadRequest | TimedOut)
        messages.add(exc.value.message.split(".")[0])
    assert messages <= {"Internal Server Error", "Bad Gateway (502)"}
    assert sandbox.sandbox.ledger.items == []


async def test_fault_slow_times_out_but_the_message_is_sent(
    bot: Bot, sandbox: SandboxThread
) -> None:
    await admin(sandbox, "POST", "faults", {"slow_seconds": 0.6})
    force(sandbox, "sendMessage", "slow")
    with pytest.raises(TimedOut):
        await bot.send_message(NEWS, "late", read_timeout=0.2)
    for _ in range(100):
        if sandbox.sandbox.ledger.items:
            break
        await asyncio.sleep(0.02)
    assert [i.text for i in sandbox.sandbox.ledger.items] == ["late"]


async def test_fault_drop_before_sends_nothing(bot: Bot, sandbox: SandboxThread) -> None:
    force(sandbox, "sendMessage", "drop_before")
    with pytest.raises(NetworkError) as exc:
        await bot.send_message(NEWS, "lost")
    assert not isinstance(exc.value, TimedOut)
    assert "httpx.RemoteProtocolError" in exc.value.message
    assert sandbox.sandbox.ledger.items == []
    assert on_loop(sandbox, lambda s: s.chat_history(NEWS)) == []


async def test_fault_drop_after_sends_anyway(bot: Bot, sandbox: SandboxThread) -> None:
    force(sandbox, "sendMessage", "drop_after")
    with pytest.raises(NetworkError) as exc:
        await bot.send_message(NEWS, "did it post?")
    assert not isinstance(exc.value, TimedOut)
    assert [i.text for i in sandbox.sandbox.ledger.items] == ["did it post?"]
    calls = sandbox.sandbox.ledger.calls
    assert calls["telegram.sendMessage"] == 1


# -- missing required parameters -----------------------------------------------------------------

STAFF = 500000001
# A complete call for every method, and Telegram's answer when one required parameter is left out.
COMPLETE: dict[str, dict[str, Any]] = {
    "setWebhook": {"url": "http://127.0.0.1:9/hook"},
    "sendMessage": {"chat_id": NEWS, "text": "x"},
    "sendPhoto": {"chat_id": NEWS, "photo": "__photo__"},
    "sendDocument": {"chat_id": NEWS, "document": "__document__"},
    "sendMediaGroup": {"chat_id": NEWS, "media": "__album__"},
    "deleteMessage": {"chat_id": NEWS, "message_id": "__message__"},
    "copyMessage": {"chat_id": EVENTS, "from_chat_id": NEWS, "message_id": "__message__"},
    "forwardMessage": {"chat_id": EVENTS, "from_chat_id": NEWS, "message_id": "__message__"},
    "answerCallbackQuery": {"callback_query_id": "1"},
    "setMyCommands": {"commands": [{"command": "start", "description": "Start"}]},
    "getChat": {"chat_id": NEWS},
    "getChatMember": {"chat_id": NEWS, "user_id": STAFF},
    "getFile": {"file_id": "__photo__"},
}
MISSING: dict[tuple[str, str], str | None] = {
    # Telegram treats setWebhook without a URL as deleteWebhook, and setMyCommands without
    # commands as an empty list: neither is refused.
    ("setWebhook", "url"): None,
    ("setMyCommands", "commands"): None,
    ("sendMessage", "chat_id"): "Chat_id is empty",
    ("sendMessage", "text"): "Message text is empty",
    ("sendPhoto", "chat_id"): "Chat_id is empty",
    ("sendPhoto", "photo"): "There is no photo in the request",
    ("sendDocument", "chat_id"): "Chat_id is empty",
    ("sendDocument", "document"): "There is no document in the request",
    ("sendMediaGroup", "chat_id"): "Chat_id is empty",
    ("sendMediaGroup", "media"): 'Parameter "media" is required',
    ("deleteMessage", "chat_id"): "Chat_id is empty",
    ("deleteMessage", "message_id"): "Message identifier is not specified",
    ("copyMessage", "chat_id"): "Chat_id is empty",
    ("copyMessage", "from_chat_id"): "From_chat_id is empty",
    ("copyMessage", "message_id"): "Message identifier is not specified",
    ("forwardMessage", "chat_id"): "Chat_id is empty",
    ("forwardMessage", "from_chat_id"): "From_chat_id is empty",
    ("forwardMessage", "message_id"): "Message identifier is not specified",
    ("answerCallbackQuery", "callback_query_id"): (
        "Query is too old and response timeout expired or query id is invalid"
    ),
    ("getChat", "chat_id"): "Chat_id is empty",
    ("getChatMember", "chat_id"): "Chat_id is empty",
    ("getChatMember", "user_id"): "Invalid user_id specified",
    ("getFile", "file_id"): "File_id not specified",
}


def test_every_required_parameter_has_a_case() -> None:
    expected = {(m, f) for m in METHODS for f in required_fields(m)}
    assert set(MISSING) == expected


@pytest.mark.parametrize(("method", "field"), sorted(MISSING))
async def test_missing_required_parameter(
    bot: Bot, sandbox: SandboxThread, method: str, field: str
) -> None:
    photo = await bot.send_photo(NEWS, jpeg(20, 20))
    document = await bot.send_document(NEWS, b"%PDF-1.4", filename="a.pdf")
    message = await bot.send_message(NEWS, "to delete")
    assert document.document is not None
    stand_ins = {
        "__photo__": photo.photo[-1].file_id,
        "__album__": [InputMediaPhoto(photo.photo[-1].file_id)] * 2,
        "__document__": document.document.file_id,
        "__message__": message.message_id,
    }

    params = {
        k: stand_ins.get(v, v) if isinstance(v, str) else v
        for k, v in COMPLETE[method].items()
        if k != field
    }
    expected = MISSING[(method, field)]
    if expected is None:
        assert await raw_call(bot, method, **params) is True
        return
    with pytest.raises(BadRequest) as exc:
        await raw_call(bot, method, **params)
    assert exc.value.message == expected
