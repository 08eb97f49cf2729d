"""Secrets kept out of logs: bot tokens in URLs, access tokens, configured secrets."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

_PATTERNS = [
    # Telegram bot tokens, e.g. in httpx's "POST https://api.telegram.org/bot123:ABC/sendMessage".
    re.compile(r"\d{5,}:[A-Za-z0-9_-]{30,}"),
    # Graph access tokens in query strings or bodies.
    re.compile(r"(?<=access_token=)[^&\s\"']+"),
    re.compile(r"(?<=Bearer )[A-Za-z0-9._-]+"),
]
MASK = "[REDACTED]"


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(MASK, text)
    return text


class RedactingFilter(logging.Filter):
    """Rewrites each record's message so no secret reaches a handler."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = [s for s in secrets if s]

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message, self.secrets)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
