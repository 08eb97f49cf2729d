"""Logging with every secret redacted: bot tokens in URLs, access tokens, configured secrets."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from content.redaction import RedactingFilter


def setup_logging(level: int = logging.INFO, secrets: Iterable[str] = ()) -> logging.Handler:
    """Log to stderr through the redacting filter (attached to the handler, so every logger's
    records pass it); returns the handler so the caller can remove it."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(secrets))
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_afisha", False):
            root.removeHandler(existing)
    handler._afisha = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL at INFO, and Telegram URLs contain the token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    return handler
