"""The Telegram channel against the sandbox's Bot API over HTTP, with the real python-telegram-bot.

Each kind of failure maps to one Afisha error; the tests say which of them are safe to retry.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import traceback
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from telegram.error import BadRequest, ChatMigrated, Forbidden, NetworkError, RetryAfter, TimedOut

from channels.base import (
    AuthExpired,
    Button,
    Channel,
    ChannelError,
    NotSent,
    OutcomeUnknown,
    Outgoing,
    OutgoingImage,
    RateLimited,
    Rejected,
    Verdict,
    classify,
)
from channels.telegram import TelegramBots, TelegramChannel, TelegramTimeouts
from channels.telegram_errors import CHAT_NOT_FOUND, TELEGRAM_ERRORS, UNAUTHORIZED_BOT
from content.domain.states import Platform
from content.redaction import MASK
from sandbox.runner import SandboxThread
from sandbox.telegram_state import TelegramState, telegram_state
from tests.support.images import make_image

NEWS = -1001000000001  # a public channel where the bot is an administrator
CLOSED = -1001000000003  # a channel where it is not
# Short timeouts: the "slow" fault answers after 0.6 s, past the 0.3 s read timeout.
FAST = TelegramTimeouts(connect=1.0, read=0.3, write=1.0, media_write=2.0, pool=0.2)
SLOW_SECONDS = 0.6
REGISTER = Button("Register", url="https://library.example/e/1")
REMIND = Button("Remind me", callback_data="remind:1")


def state(sandbox: SandboxThread) -> TelegramState:
    return telegram_state(sandbox.sandbox)


def ledger(sandbox: SandboxThread) -> list[tuple[str, str, str, int]]:
    items = sandbox.call(lambda: list(sandbox.sandbox.ledger.items))
    return [(i.target, i.remote_id, i.text, i.media_count) for i in items]


def calls(sandbox: SandboxThread) -> int:
    return sandbox.call(lambda: sum(sandbox.sandbox.ledger.calls.values()))


def history(sandbox: SandboxThread, chat_id: int = NEWS) -> list[dict[str, Any]]:
    return sandbox.call(lambda: state(sandbox).chat_history(chat_id))


def force(sandbox: SandboxThread, method: str, kind: str) -> None:
    sandbox.call(lambda: sandbox.sandbox.faults.force(method, kind))


async def admin(sandbox: SandboxThread, path: str, body: Any) -> Any:
    async with httpx.AsyncClient(base_url=f"{sandbox.base_url}/_sandbox/") as client:
        response = await client.post(path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


async def wait_for(condition: Any, seconds: float = 2.0) -> None:
    """Poll the sandbox until `condition()` holds (for effects of a request we gave up on)."""
    deadline = asyncio.get_running_loop().time() + seconds
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "the sandbox never caught up"
        await asyncio.sleep(0.02)


@pytest.fixture
def images(tmp_path: Path) -> tuple[OutgoingImage, ...]:
    return tuple(
        OutgoingImage(make_image(tmp_path / f"poster{i}.jpg", (800, 600)), "image/jpeg", 800, 600)
        for i in range(10)
    )


@pytest.fixture
async def channel(sandbox: SandboxThread) -> AsyncIterator[TelegramChannel]:
    sandbox.sandbox.faults.slow_seconds = SLOW_SECONDS
    made = TelegramChannel(
        sandbox.sandbox.fixtures.bot_token,
        sandbox.base_url,
        NEWS,
        timeouts=FAST,
        bots=TelegramBots(),
    )
    yield made
    await made.close()


@pytest.fixture
async def closed_channel(sandbox: SandboxThread) -> AsyncIterator[TelegramChannel]:
    made = TelegramChannel(
        sandbox.sandbox.fixtures.bot_token, sandbox.base_url, CLOSED, timeouts=FAST
    )
    yield made
    await made.close()


# --- publishing ----------------------------------------------------------------------------------


async def test_it_is_a_channel(channel: TelegramChannel) -> None:
    assert isinstance(channel, Channel)


async def test_text_with_a_link_and_user_html_arrives_as_literal_text(
    channel: TelegramChannel, sandbox: SandboxThread
) -> None:
    text = "Typed by a librarian: <b>not bold</b> & <i>not italic</i>"
    published = await channel.publish(Outgoing(text, link="https://library.example/e/1"))

    sent = f"{text}\n\nhttps://library.example/e/1"
    assert published.remote_id == "1"
    assert published.url == "https://t.me/library_news/1"
    assert published.extra["message_ids"] == [1]
    assert ledger(sandbox) == [(str(NEWS), "1", sent, 0)]
    [message] = history(sandbox)
    assert message["text"] == sent
    assert message["entities"] == []


async def test_photo_with_caption(
    channel: TelegramChannel, sandbox: SandboxThread, images: tuple[OutgoingImage, ...]
) -> None:
    published = await channel.publish(Outgoing("Poster of the week", images[:1]))
    assert ledger(sandbox) == [(str(NEWS), published.remote_id, "Poster of the week", 1)]
    assert history(sandbox)[0]["caption"] == "Poster of the week"


@pytest.mark.parametrize("count", [2, 10])
async def test_album(
    channel: TelegramChannel, sandbox: SandboxThread, images: tuple[OutgoingImage, ...], count: int
) -> None:
    published = await channel.publish(Outgoing("Our new books", images[:count]))

    assert published.extra["message_ids"] == list(range(1, count + 1))
    assert published.url == "https://t.me/library_news/1"
    assert ledger(sandbox) == [(str(NEWS), "1", "Our new books", count)]
    shown = history(sandbox)
    assert [m["caption"] for m in shown] == ["Our new books"] + [None] * (count - 1)
    assert len({m["media_group_id"] for m in shown}) == 1


async def test_a_long_caption_goes_with_its_photos_and_the_rest_as_a_reply(
    channel: TelegramChannel, sandbox: SandboxThread, images: tuple[OutgoingImage, ...]
) -> None:
    text = "A long story. " * 200  # 2800 characters, over the 1024 caption limit
    saved: list[Mapping[str, Any]] = []

    async def checkpoint(progress: Mapping[str, Any]) -> None:
        saved.append(dict(progress))

    published = await channel.publish(Outgoing(text, images[:3]), checkpoint)

    assert published.remote_id == "1"
    assert published.extra["message_ids"] == [1, 2, 3, 4]
    # The album with the first sentences as its caption, the rest replying to it: nothing
    # truncated, nothing shown twice, cut after a sentence.
    (album, _caption, _, _), (reply, _id, rest, _) = ledger(sandbox)
    caption = history(sandbox)[0]["caption"]
    assert len(caption) <= 1024
    assert caption.endswith("A long story.")
    assert f"{caption} {rest}" == text.strip()
    assert history(sandbox)[3]["reply_to_message_id"] == 1
    # Before the follow-up the engine learnt that the album is out.
    assert saved == [{"chat_id": NEWS, "message_ids": [1, 2, 3], "username": "library_news"}]


async def test_a_text_over_4096_goes_as_messages_in_order_with_progress_saved(
    channel: TelegramChannel, sandbox: SandboxThread
) -> None:
    paragraph = "Our library turns fifty this winter. " * 40  # 1480 characters
    text = "\n\n".join(f"{n}. {paragraph.strip()}" for n in range(1, 7))  # 8900
    saved: list[list[int]] = []

    async def checkpoint(progress: Mapping[str, Any]) -> None:
        saved.append(list(progress["message_ids"]))

    published = await channel.publish(Outgoing(text, buttons=(REGISTER,)), checkpoint)

    shown = history(sandbox)
    assert published.remote_id == "1"
    assert published.extra["message_ids"] == [1, 2, 3]
    assert [m["text"][:2] for m in shown] == ["1.", "3.", "5."]  # cut between paragraphs
    assert "\n\n".join(m["text"] for m in shown) == text
    assert all(len(m["text"]) <= 4096 for m in shown)
    assert [bool(m["buttons"]) for m in shown] == [False, False, True]  # under the last part
    assert saved == [[1], [1, 2]]  # a crash after a part leaves it known, never resent


async def test_buttons_ride_on_the_photo_or_on_the_message_after_an_album(
    channel: TelegramChannel, sandbox: SandboxThread, images: tuple[OutgoingImage, ...]
) -> None:
    await channel.publish(Outgoing("Book club", images[:1], buttons=(REGISTER, REMIND)))
    await channel.publish(Outgoing("Book club", images[:2], buttons=(REGISTER, REMIND)))

    keyboard = [
        [{"text": "Register", "url": "https://library.example/e/1"}],
        [{"text": "Remind me", "callback_data": "remind:1"}],
    ]
    photo, album_1, album_2, follow_up = history(sandbox)
    assert (photo["caption"], photo["buttons"]) == ("Book club", keyboard)
    assert album_1["caption"] is None
    assert album_1["buttons"] == album_2["buttons"] == []
    assert (follow_up["text"], follow_up["buttons"]) == ("Book club", keyboard)
    assert [item[3] for item in ledger(sandbox)] == [1, 2, 0]


async def test_uploaded_photos_are_reused_by_file_id(
    channel: TelegramChannel, sandbox: SandboxThread, images: tuple[OutgoingImage, ...]
) -> None:
    def stored_files() -> int:
        return sandbox.call(lambda: len(state(sandbox).files.by_id))

    await channel.publish(Outgoing("First", images[:1]))
    after_upload = stored_files()
    await channel.publish(Outgoing("Again", images[:1]))
    assert stored_files() == after_upload
    first, again = history(sandbox)
    assert first["photo"]["file_id"] == again["photo"]["file_id"]


async def test_content_that_cannot_fit_is_rejected_before_any_request(
    channel: TelegramChannel, sandbox: SandboxThread, images: tuple[OutgoingImage, ...]
) -> None:
    before = calls(sandbox)
    with pytest.raises(Rejected) as too_long:
        await channel.publish(Outgoing("x" * 50000))
    with pytest.raises(Rejected) as bad_button:
        await channel.publish(Outgoing("x", buttons=(Button("Remind me", callback_data="d" * 65),)))
    missing = OutgoingImage(images[0].path.with_name("gone.jpg"), "image/jpeg", 1, 1)
    with pytest.raises(Rejected) as no_file:
        await channel.publish(Outgoing("x", (missing,)))

    assert calls(sandbox) == before
    assert too_long.value.reason == (
        "Telegram: the number of messages is 13, over the Telegram limit of 10 by 3."
    )
    assert "more than 64 bytes" in bad_button.value.reason
    assert "gone.jpg" in no_file.value.reason
    assert not too_long.value.retry_safe


async def test_a_failed_follow_up_leaves_the_post_published_and_is_never_resent(
    channel: TelegramChannel, sandbox: SandboxThread, images: tuple[OutgoingImage, ...]
) -> None:
    force(sandbox, "sendMessage", "5xx")
    published = await channel.publish(Outgoing("y" * 2000, images[:2]))

    assert published.remote_id == "1"
    assert published.extra["message_ids"] == [1, 2]
    assert published.extra["unsent_parts"] == 1
    assert (
        "The post is published, but its follow-up message was not"
        in (published.extra["warnings"][0])
    )
    assert ledger(sandbox) == [(str(NEWS), "1", "y" * 1024, 2)]  # the caption's part is out
    assert sandbox.sandbox.ledger.calls["telegram.sendMediaGroup"] == 1


@pytest.mark.parametrize(("retry_after", "goes"), [(3, True), (31, False)])
async def test_a_throttled_follow_up_is_sent_after_a_short_wait_only(
    sandbox: SandboxThread, images: tuple[OutgoingImage, ...], retry_after: int, goes: bool
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    channel = TelegramChannel(
        sandbox.sandbox.fixtures.bot_token,
        sandbox.base_url,
        NEWS,
        timeouts=FAST,
        bots=TelegramBots(),
        sleep=sleep,
    )
    usual, sandbox.sandbox.faults.retry_after = sandbox.sandbox.faults.retry_after, retry_after
    force(sandbox, "sendMessage", "429")
    try:
        published = await channel.publish(Outgoing("y" * 2000, images[:2]))
    finally:
        sandbox.sandbox.faults.retry_after = usual
        await channel.close()

    assert published.remote_id == "1"
    if goes:  # a 429 is a sure "not sent": the follow-up goes once the wait is over
        assert waits == [3]
        assert published.extra["message_ids"] == [1, 2, 3]
        assert "unsent_parts" not in published.extra
    else:  # too long to hold the slot: reported, not waited for
        assert waits == []
        assert published.extra["message_ids"] == [1, 2]
        assert published.extra["unsent_parts"] == 1
    assert sandbox.sandbox.ledger.calls["telegram.sendMessage"] == (2 if goes else 1)


# --- failures: each maps to one Afisha error --------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "error", "retry_safe", "arrives"),
    [
        ("429", RateLimited, True, False),
        # A 5xx may come after Telegram stored the message: reconcile, do not resend.
        ("5xx", OutcomeUnknown, False, False),
        # No answer within the read timeout; the sandbox posts it anyway.
        ("slow", OutcomeUnknown, False, True),
        # The client cannot tell a connection dropped before the send from one dropped after.
        ("drop_before", OutcomeUnknown, False, False),
        ("drop_after", OutcomeUnknown, False, True),
    ],
)
async def test_faults_of_a_send(
    channel: TelegramChannel,
    sandbox: SandboxThread,
    kind: str,
    error: type[ChannelError],
    retry_safe: bool,
    arrives: bool,
) -> None:
    force(sandbox, "sendMessage", kind)
    with pytest.raises(error) as raised:
        await channel.publish(Outgoing("Opening hours change on Monday"))

    assert type(raised.value) is error
    assert raised.value.retry_safe is retry_safe
    if isinstance(raised.value, RateLimited):
        assert raised.value.retry_after == sandbox.sandbox.faults.retry_after == 3
    if arrives:
        await wait_for(lambda: len(ledger(sandbox)) == 1)
    assert len(ledger(sandbox)) == int(arrives)


@pytest.mark.parametrize("kind", ["5xx", "slow", "drop_before", "drop_after"])
async def test_faults_of_a_read_are_safe_to_retry(
    channel: TelegramChannel, sandbox: SandboxThread, kind: str
) -> None:
    force(sandbox, "getMe", kind)
    with pytest.raises(NotSent) as raised:
        await channel.check_credentials()
    assert raised.value.retry_safe


async def test_flood_control_gives_telegrams_retry_after(
    channel: TelegramChannel, sandbox: SandboxThread
) -> None:
    def frozen_flood(tg: TelegramState) -> None:
        tg.flood.clock = lambda: 1000.0
        tg.flood.limits.per_chat_per_minute = 2

    sandbox.call(lambda: frozen_flood(state(sandbox)))
    await channel.publish(Outgoing("one"))
    await channel.publish(Outgoing("two"))
    with pytest.raises(RateLimited) as raised:
        await channel.publish(Outgoing("three"))

    assert raised.value.retry_after == 60.0  # a whole per-chat minute, as the sandbox answered
    assert raised.value.retry_safe
    assert len(ledger(sandbox)) == 2


async def test_unreachable_api_is_not_sent(sandbox: SandboxThread) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    channel = TelegramChannel("1:x", f"http://127.0.0.1:{port}", NEWS, timeouts=FAST)
    try:
        with pytest.raises(NotSent) as raised:
            await channel.publish(Outgoing("hello"))
    finally:
        await channel.close()
    assert type(raised.value) is NotSent
    assert raised.value.retry_safe


async def test_an_exhausted_connection_pool_is_not_sent(sandbox: SandboxThread) -> None:
    sandbox.sandbox.faults.slow_seconds = SLOW_SECONDS
    one_connection = TelegramTimeouts(read=2.0, pool=0.2, connections=1)
    channel = TelegramChannel(
        sandbox.sandbox.fixtures.bot_token, sandbox.base_url, NEWS, timeouts=one_connection
    )
    try:
        force(sandbox, "sendMessage", "slow")
        first = asyncio.create_task(channel.publish(Outgoing("first")))
        await wait_for(lambda: calls(sandbox) == 1)  # the first holds the only connection
        with pytest.raises(NotSent) as raised:
            await channel.publish(Outgoing("second"))
        assert (await first).remote_id == "1"
    finally:
        await channel.close()
    assert raised.value.retry_safe
    assert [item[2] for item in ledger(sandbox)] == ["first"]


async def test_a_channel_without_the_bot_as_admin_pauses_the_channel(
    closed_channel: TelegramChannel, sandbox: SandboxThread
) -> None:
    with pytest.raises(AuthExpired) as raised:
        await closed_channel.publish(Outgoing("hello"))
    assert "bot is not a member of the channel chat" in raised.value.reason
    assert "as an administrator" in raised.value.reason
    assert not raised.value.retry_safe
    status = await closed_channel.check_credentials()
    assert not status.valid
    assert "administrator" in status.detail


async def test_an_unknown_chat_is_rejected_with_a_reason_a_person_understands(
    sandbox: SandboxThread,
) -> None:
    channel = TelegramChannel(sandbox.sandbox.fixtures.bot_token, sandbox.base_url, -100999)
    try:
        with pytest.raises(Rejected) as raised:
            await channel.publish(Outgoing("hello"))
    finally:
        await channel.close()
    assert raised.value.reason == CHAT_NOT_FOUND


async def test_a_revoked_token_expires_the_channel(
    channel: TelegramChannel, sandbox: SandboxThread
) -> None:
    await admin(sandbox, "revoke", {"token": sandbox.sandbox.fixtures.bot_token})
    with pytest.raises(AuthExpired) as raised:
        await channel.publish(Outgoing("hello"))
    assert raised.value.reason == UNAUTHORIZED_BOT
    status = await channel.check_credentials()
    assert (status.valid, status.detail) == (False, UNAUTHORIZED_BOT)


async def test_the_token_never_reaches_logs_or_errors(
    sandbox: SandboxThread, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="httpx")
    token = sandbox.sandbox.fixtures.bot_token
    channel = TelegramChannel(token, sandbox.base_url, NEWS, timeouts=FAST)
    errors: list[BaseException] = []
    try:
        await channel.publish(Outgoing("hello"))
        await channel.check_credentials()
        for kind in ("drop_after", "5xx"):
            force(sandbox, "sendMessage", kind)
            with pytest.raises(OutcomeUnknown) as raised:
                await channel.publish(Outgoing("hello"))
            errors.append(raised.value)
        await admin(sandbox, "revoke", {"token": token})
        with pytest.raises(AuthExpired) as revoked:
            await channel.publish(Outgoing("hello"))
        errors.append(revoked.value)
    finally:
        await channel.close()

    requests = [r.getMessage() for r in caplog.records if r.name == "httpx"]
    assert any(f"/bot{MASK}/sendMessage" in line for line in requests)
    assert token not in caplog.text
    assert all(token not in record.getMessage() for record in caplog.records)
    for error in errors:
        assert token not in "".join(traceback.format_exception(error))


# --- credentials, verification, engagement ----------------------------------------------------


async def test_check_credentials_of_an_admin_bot(channel: TelegramChannel) -> None:
    status = await channel.check_credentials()
    assert status.valid
    assert "@afisha_sandbox_bot" in status.detail


async def test_verify_knows_only_what_telegram_confirmed(channel: TelegramChannel) -> None:
    since = datetime.now(UTC)
    unknown = await channel.verify(Outgoing("x"), {}, since)
    assert unknown.verdict is Verdict.UNKNOWN
    assert "cannot read the channel's history" in unknown.detail
    progress = {"chat_id": NEWS, "message_ids": [7, 8], "username": "library_news"}
    posted = await channel.verify(Outgoing("x"), progress, since)
    assert posted.verdict is Verdict.POSTED
    assert posted.published is not None
    assert (posted.published.remote_id, posted.published.url) == (
        "7",
        "https://t.me/library_news/7",
    )


async def test_engagement_is_unknown_not_zero(channel: TelegramChannel) -> None:
    published = await channel.publish(Outgoing("React to this"))
    before = await channel.fetch_engagement([published.remote_id])
    assert before[published.remote_id].reactions is None  # unknown, not zero
    assert before[published.remote_id].views is None  # bots cannot read views


async def test_channels_of_one_bot_share_its_http_pool(sandbox: SandboxThread) -> None:
    bots = TelegramBots()
    token = sandbox.sandbox.fixtures.bot_token
    news = TelegramChannel(token, sandbox.base_url, NEWS, bots=bots)
    events = TelegramChannel(token, sandbox.base_url, -1001000000002, bots=bots)
    assert news.bot is events.bot
    await news.close()
    assert (await events.publish(Outgoing("still open"))).url == "https://t.me/library_events/1"
    await events.close()


# --- the error table, for failures the sandbox cannot produce --------------------------------


def _caused(error: Exception, cause: BaseException) -> Exception:
    error.__cause__ = cause
    return error


@pytest.mark.parametrize(
    ("exc", "expected", "retry_safe"),
    [
        (_caused(TimedOut(), httpx.ConnectTimeout("connect")), NotSent, True),
        (_caused(TimedOut(), httpx.PoolTimeout("pool")), NotSent, True),
        (_caused(TimedOut(), httpx.ReadTimeout("read")), OutcomeUnknown, False),
        (_caused(TimedOut(), httpx.WriteTimeout("write")), OutcomeUnknown, False),
        (_caused(NetworkError("x"), httpx.ConnectError("refused")), NotSent, True),
        (_caused(NetworkError("x"), httpx.ReadError("reset")), OutcomeUnknown, False),
        (NetworkError("Bad Gateway (502)"), OutcomeUnknown, False),
        (Forbidden("Forbidden: bot was blocked by the user"), AuthExpired, False),
        (Forbidden("Forbidden: bot was kicked from the channel chat"), AuthExpired, False),
        (Forbidden("Forbidden: bots can't send messages to bots"), Rejected, False),
        (
            BadRequest("Bad Request: need administrator rights in the channel chat"),
            AuthExpired,
            False,
        ),
        (BadRequest("Bad Request: message is too long"), Rejected, False),
    ],
)
def test_error_table(exc: Exception, expected: type[Exception], retry_safe: bool) -> None:
    error = classify(exc, TELEGRAM_ERRORS, Platform.TELEGRAM)
    assert type(error) is expected
    assert error.retry_safe is retry_safe


@pytest.mark.parametrize("delay", [7, timedelta(seconds=7)])
def test_retry_after_as_seconds_or_timedelta(delay: int | timedelta) -> None:
    error = classify(RetryAfter(delay), TELEGRAM_ERRORS, Platform.TELEGRAM)
    assert isinstance(error, RateLimited)
    assert error.retry_after == 7.0
    assert error.reason == "Telegram asked to slow down: try again in 7 seconds."


def test_reasons_a_person_understands() -> None:
    def reason(exc: Exception) -> str:
        return classify(exc, TELEGRAM_ERRORS, Platform.TELEGRAM).reason

    assert reason(BadRequest("Bad Request: chat not found")) == CHAT_NOT_FOUND
    assert reason(BadRequest("Bad Request: message is too long")) == (
        "The text is longer than a Telegram message may be (4096 characters)."
    )
    assert "chat id -1001234" in reason(ChatMigrated(-1001234))
    # 5xx on a read: nothing can be doubled, so it is safe to retry.
    read = classify(
        NetworkError("Internal Server Error"), TELEGRAM_ERRORS, Platform.TELEGRAM, idempotent=True
    )
    assert type(read) is NotSent
