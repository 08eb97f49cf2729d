"""Secrets kept out of logs: one filter for messages, their arguments, tracebacks and stacks.

Bot tokens travel in Telegram URLs (`/bot<token>/sendMessage`), which httpx logs and exceptions
quote; Graph tokens in `access_token=` parameters and bodies; the Fernet key and the webhook
secret sit in the settings. Each shape is masked by a pattern, and every secret the process
knows (`hide`) is masked wherever it appears, whatever its shape.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator

MASK = "[REDACTED]"

# Each pattern's first group (if any) is kept: it says what was masked.
_PATTERNS = [
    # Telegram bot tokens: in a Bot API URL (any token, e.g. the sandbox's short ones) or bare.
    re.compile(r"(/bot)\d+:[A-Za-z0-9_-]+"),
    re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}"),
    # Tokens and secrets named as parameters: query strings, form and JSON bodies, reprs, headers.
    re.compile(
        r"((?:access_token|client_secret|secret_token|x-telegram-bot-api-secret-token)"
        r"[\"']?\s*[=:]\s*[\"']?)[^&\s\"',;}]+",
        re.IGNORECASE,
    ),
    re.compile(r"(Bearer )[A-Za-z0-9._~+/=-]+"),
    # Meta access tokens, wherever they stand.
    re.compile(r"\bEAA[A-Za-z0-9]{20,}"),
    # Fernet keys (32 url-safe base64 bytes).
    re.compile(r"(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}="),
]


def _mask(match: re.Match[str]) -> str:
    return (match.group(1) if match.re.groups else "") + MASK


# A secret this long is masked wherever it appears; a shorter one (a test's token "t", a short
# webhook secret) only where it stands alone, or it would mask letters inside every word.
_ANYWHERE = 8


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret in `secrets` and every token-shaped string masked."""
    for secret in secrets:
        if len(secret) >= _ANYWHERE:
            text = text.replace(secret, MASK)
        elif secret:
            text = re.sub(rf"(?<![\w-]){re.escape(secret)}(?![\w-])", MASK, text)
    for pattern in _PATTERNS:
        text = pattern.sub(_mask, text)
    return text


class RedactingFilter(logging.Filter):
    """Masks secrets in a record's message and arguments, its traceback and its stack.

    A traceback with a secret (in its text, or in the arguments of any exception of its chain)
    is handed on as finished text, `exc_text`, and `exc_info` is dropped, so that no handler can
    render the original exception again.
    """

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        # Replaced rather than mutated: a handler in another thread reads a consistent set.
        self._secrets: frozenset[str] = frozenset()
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        """Mask these values from now on (empty ones are ignored)."""
        self._secrets = self._secrets | {s for s in secrets if s}

    def redact(self, text: str) -> str:
        return redact(text, self._secrets)

    def filter(self, record: logging.LogRecord) -> bool:
        self._clean_message(record)
        if record.exc_info and record.exc_info[1] is not None:
            self._clean_exception(record)
        elif record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True

    def _clean_message(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: its handler reports it, with no secret in it
            message = f"{record.msg!s} (arguments: {record.args!r})"
        cleaned = self.redact(message)
        if cleaned != message or not isinstance(record.msg, str):
            record.msg, record.args = cleaned, None

    def _clean_exception(self, record: logging.LogRecord) -> None:
        assert record.exc_info is not None
        rendered = record.exc_text or logging.Formatter().formatException(record.exc_info)
        cleaned = self.redact(rendered)
        exception = record.exc_info[1]
        if cleaned != rendered or any(
            self.redact(repr(arg)) != repr(arg) for arg in _arguments(exception)
        ):
            record.exc_text, record.exc_info = cleaned, None


def _arguments(exception: BaseException | None) -> Iterator[object]:
    """The arguments of an exception and of every exception it was raised from or during."""
    seen: set[int] = set()
    while exception is not None and id(exception) not in seen:
        seen.add(id(exception))
        yield from exception.args
        exception = exception.__cause__ or exception.__context__


REDACTION = RedactingFilter()
"""The process's one filter: `afisha.logs.setup_logging` puts it on its handler, channels on
the loggers of the libraries that print their request URLs."""


def hide(*secrets: str) -> None:
    """Mask these secrets in every record the process's filter sees from now on."""
    REDACTION.add(*secrets)


def guard_loggers(*names: str) -> None:
    """Put the process's filter on these loggers, so their records are masked before any
    handler sees them, whatever logging set-up the process has (tests, a host application)."""
    for name in names:
        logger = logging.getLogger(name)
        if REDACTION not in logger.filters:
            logger.addFilter(REDACTION)
