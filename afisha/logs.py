"""The process's logging set-up: to stderr, through the one redacting filter."""

from __future__ import annotations

import logging
from collections.abc import Iterable

from content.redaction import REDACTION, hide


def setup_logging(level: int = logging.INFO, secrets: Iterable[str] = ()) -> logging.Handler:
    """Log to stderr through the process's redacting filter (attached to the handler, so every
    logger's records pass it), which masks `secrets` from now on; returns the handler so the
    caller can remove it."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    hide(*secrets)
    handler.addFilter(REDACTION)
    root = logging.getLogger()
    for existing in list(root.handlers):
        if getattr(existing, "_afisha", False):
            root.removeHandler(existing)
    handler._afisha = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    # httpx logs every request URL at INFO, and Telegram URLs contain the token: the filter masks
    # it, but only --debug wants a line per request.
    logging.getLogger("httpx").setLevel(logging.INFO if level <= logging.DEBUG else logging.WARNING)
    return handler
