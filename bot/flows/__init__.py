"""The bot's conversations, one module per flow; `build_router` registers them all."""

from __future__ import annotations

from bot.router import Router


def build_router() -> Router:
    from bot.flows import basics, channels, events, notices, stats

    router = Router()
    for module in (basics, events, notices, channels, stats):
        module.register(router)
    return router
