"""How Telegram failures become outcomes: the error table `TELEGRAM_ERRORS` and its messages.

`channels.telegram` classifies every exception its Bot raises through this table (see
`channels.base.classify`); the messages are what a person reads about the failure.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import httpx
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from channels.base import ErrorRule, Outcome, matches_type

# --- messages a person reads: plain English for now, kept as templates for the catalog ----------

RATE_LIMITED = "Telegram asked to slow down: try again in {seconds:g} seconds."
UNAUTHORIZED_BOT = (
    "Telegram does not accept the bot token: it was revoked or mistyped. Paste the current token "
    "from @BotFather into the channel settings."
)
NO_RIGHTS = (
    "The bot may not post in this channel ({detail}). Add the bot to the channel as an "
    "administrator with the right to post messages."
)
FORBIDDEN = "Telegram does not allow this: {detail}."
CHAT_MIGRATED = (
    "The group became a supergroup with the chat id {new_chat_id}: change the channel's chat id "
    "to it."
)
CHAT_NOT_FOUND = (
    "Telegram does not know this chat: check the channel's chat id and that the bot was added to "
    "the channel."
)
TEXT_TOO_LONG = "The text is longer than a Telegram message may be (4096 characters)."
CAPTION_TOO_LONG = "The caption is longer than Telegram allows (1024 characters)."
TEXT_EMPTY = "The message has no text."
BAD_FORMATTING = "Telegram could not read the message's formatting: {detail}."
BAD_BUTTON = "A button is not valid: {detail}."
BAD_IMAGE = "Telegram could not use an image: {detail}."
SOURCE_GONE = (
    "The message to share is no longer in its channel (it was deleted there): nothing was shared."
)
REFUSED = "Telegram refused the message: {detail}."
NOT_CONNECTED = "Could not reach Telegram; nothing was sent. It is safe to try again."
NO_ANSWER = "Telegram did not answer in time; the message may or may not have been posted."
CONNECTION_LOST = "The connection to Telegram broke; the message may or may not have been posted."
SERVER_ERROR = "Telegram answered with a server error; the message may or may not have been posted."

# --- the error table -----------------------------------------------------------------------------


def _message(exc: BaseException) -> str:
    return exc.message if isinstance(exc, TelegramError) else str(exc)


def _detail(exc: BaseException) -> str:
    return _message(exc).rstrip(".")


def _retry_after(exc: BaseException) -> float:
    assert isinstance(exc, RetryAfter)
    with warnings.catch_warnings():
        # Without PTB_TIMEDELTA=true, reading retry_after warns that it becomes a timedelta.
        warnings.simplefilter("ignore")
        delay = exc.retry_after
    return delay.total_seconds() if isinstance(delay, timedelta) else float(delay)


def _forbidden_with(*needles: str) -> Any:
    return lambda exc: isinstance(exc, Forbidden) and _contains(exc, needles)


def _bad_request_with(*needles: str) -> Any:
    return lambda exc: isinstance(exc, BadRequest) and _contains(exc, needles)


def _contains(exc: BaseException, needles: Sequence[str]) -> bool:
    text = _message(exc).lower()
    return any(needle in text for needle in needles)


# httpx failures that happen before a request is written: Telegram cannot have seen it.
_BEFORE_SENDING = (httpx.ConnectTimeout, httpx.PoolTimeout, httpx.ConnectError)


def _before_sending(exc: BaseException) -> bool:
    return isinstance(exc, NetworkError) and isinstance(exc.__cause__, _BEFORE_SENDING)


def _connection_lost(exc: BaseException) -> bool:
    # A dropped connection after the request was written (httpx.ReadError,
    # RemoteProtocolError, WriteError...). Telegram may have acted on it: a connection dropped
    # before and after the send look the same to the client.
    return isinstance(exc, NetworkError) and isinstance(exc.__cause__, httpx.HTTPError)


# Permission problems pause the channel (AUTH_EXPIRED): every later post would fail the same way
# until a person re-adds the bot or gives it back its rights.
_NO_RIGHTS = (
    "kicked",
    "blocked",
    "not a member",
    "administrator rights",
    "not enough rights",
    "have no rights",
    "chat_write_forbidden",
)

TELEGRAM_ERRORS: list[ErrorRule] = [
    ErrorRule(
        matches_type(RetryAfter),
        Outcome.RATE_LIMITED,
        lambda exc: RATE_LIMITED.format(seconds=_retry_after(exc)),
        _retry_after,
    ),
    ErrorRule(matches_type(InvalidToken), Outcome.AUTH_EXPIRED, lambda exc: UNAUTHORIZED_BOT),
    ErrorRule(
        _forbidden_with(*_NO_RIGHTS),
        Outcome.AUTH_EXPIRED,
        lambda exc: NO_RIGHTS.format(detail=_detail(exc)),
    ),
    ErrorRule(
        matches_type(Forbidden), Outcome.REJECTED, lambda exc: FORBIDDEN.format(detail=_detail(exc))
    ),
    ErrorRule(
        matches_type(ChatMigrated),
        Outcome.REJECTED,
        lambda exc: CHAT_MIGRATED.format(new_chat_id=getattr(exc, "new_chat_id", "?")),
    ),
    ErrorRule(
        _bad_request_with(*_NO_RIGHTS),
        Outcome.AUTH_EXPIRED,
        lambda exc: NO_RIGHTS.format(detail=_detail(exc)),
    ),
    ErrorRule(_bad_request_with("chat not found"), Outcome.REJECTED, lambda exc: CHAT_NOT_FOUND),
    ErrorRule(
        _bad_request_with("message to copy not found", "message to forward not found"),
        Outcome.REJECTED,
        lambda exc: SOURCE_GONE,
    ),
    ErrorRule(_bad_request_with("message is too long"), Outcome.REJECTED, lambda e: TEXT_TOO_LONG),
    ErrorRule(
        _bad_request_with("caption is too long"), Outcome.REJECTED, lambda e: CAPTION_TOO_LONG
    ),
    ErrorRule(_bad_request_with("text is empty"), Outcome.REJECTED, lambda exc: TEXT_EMPTY),
    ErrorRule(
        _bad_request_with("can't parse entities"),
        Outcome.REJECTED,
        lambda exc: BAD_FORMATTING.format(detail=_detail(exc)),
    ),
    ErrorRule(
        _bad_request_with("button", "inline keyboard"),
        Outcome.REJECTED,
        lambda exc: BAD_BUTTON.format(detail=_detail(exc)),
    ),
    ErrorRule(
        _bad_request_with("file", "photo", "image", "web page content", "http url"),
        Outcome.REJECTED,
        lambda exc: BAD_IMAGE.format(detail=_detail(exc)),
    ),
    ErrorRule(
        matches_type(BadRequest), Outcome.REJECTED, lambda exc: REFUSED.format(detail=_detail(exc))
    ),
    ErrorRule(_before_sending, Outcome.NOT_SENT, lambda exc: NOT_CONNECTED),
    # ReadTimeout and WriteTimeout: the request (or part of it, already in the kernel's buffers)
    # may have reached Telegram.
    ErrorRule(matches_type(TimedOut), Outcome.MAYBE_SENT, lambda exc: NO_ANSWER),
    ErrorRule(_connection_lost, Outcome.MAYBE_SENT, lambda exc: CONNECTION_LOST),
    # What is left of NetworkError is an answer with a 5xx status (500 from the Bot API, 502 from
    # the nginx in front of it). The Bot API has no idempotency key and its 5xx can come after
    # the message was stored (a backend answering too late for the frontend), so a send that got
    # a 5xx may be in the channel: reconcile, never resend blindly. Reads get NOT_SENT through
    # classify(idempotent=True).
    ErrorRule(matches_type(NetworkError), Outcome.MAYBE_SENT, lambda exc: SERVER_ERROR),
]
