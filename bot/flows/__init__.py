"""The bot's conversations, one module per flow, each with its routes at module level;
`build_router` gathers them."""

from __future__ import annotations

from bot.router import Router


def build_router() -> Router:
    from bot.flows import (
        approvals,
        basics,
        channels,
        events,
        imports,
        network,
        new_post,
        notices,
        queue,
        sharing,
        stats,
        upcoming,
    )

    router = Router()
    modules = (
        basics,
        new_post,
        queue,
        sharing,
        approvals,
        events,
        upcoming,
        notices,
        channels,
        stats,
        network,
        imports,
    )
    for module in modules:
        router.include(module.routes)
    return router
