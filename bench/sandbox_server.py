"""The sandbox in a process of its own, for benchmarks: `python -m bench.sandbox_server`.

The engine's figures must not share a GIL with the emulator, so every scenario starts this
process. On top of the stock sandbox it adds what only a benchmark needs, under `/_bench/`:
more Telegram channels (`--telegram-channels N`), published Facebook posts and Instagram media
created directly in the emulator's memory (`POST /_bench/seed_graph`) so collection can be
measured without publishing 12,000 items first, a compact ledger (`GET /_bench/ledger`) and the
Graph call count (`GET /_bench/graph_calls`). It prints one JSON line with its base URL and
fixtures once it listens, then serves until killed.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import sys
from datetime import timedelta
from typing import Any

from aiohttp import web

from sandbox.app import Sandbox, build_app
from sandbox.fixtures import TelegramChat
from sandbox.graph_state import IgMedia, PagePost, graph_state
from sandbox.telegram_spec import load_spec
from sandbox.telegram_state import telegram_state

FIRST_CHAT = -1002000000000
POST_ID_BASE = 1_240_000_000_000_000
MEDIA_ID_BASE = 17_960_000_000_000_000


def bench_chat_ids(count: int) -> list[int]:
    """The ids of the extra channels `--telegram-channels count` adds (same in every process)."""
    return [FIRST_CHAT - i for i in range(count)]


def add_channels(sandbox: Sandbox, count: int) -> None:
    chats = telegram_state(sandbox).chats
    for chat_id in bench_chat_ids(count):
        chats[chat_id] = TelegramChat(chat_id, "channel", f"Bench {-chat_id}", f"bench{-chat_id}")


def seed_graph(sandbox: Sandbox, body: dict[str, Any]) -> dict[str, Any]:
    """Published Page posts and IG media, an hour old, spread over the fixture accounts."""
    state = graph_state(sandbox)
    now = state.now() - timedelta(hours=1)
    pages = sandbox.fixtures.pages
    accounts = sandbox.fixtures.instagram
    facebook: list[dict[str, str]] = []
    for i in range(int(body.get("facebook", 0))):
        page = pages[i % len(pages)]
        post = PagePost(f"{page.id}_{POST_ID_BASE + i}", page.id, f"bench post {i}", now)
        state.posts[post.id] = post
        facebook.append({"page_id": page.id, "remote_id": post.id})
    instagram: list[dict[str, str]] = []
    for i in range(int(body.get("instagram", 0))):
        account = accounts[i % len(accounts)]
        media_id = str(MEDIA_ID_BASE + i)
        state.media[media_id] = IgMedia(
            media_id, account.id, media_id, "IMAGE", f"bench media {i}", [], now, f"B{i}"
        )
        instagram.append({"ig_user_id": account.id, "remote_id": media_id})
    return {"facebook": facebook, "instagram": instagram}


def ledger(sandbox: Sandbox) -> dict[str, Any]:
    """Every item as [platform, target, remote_id, text, unix time], and the call counts."""
    items = [
        [i.platform, i.target, i.remote_id, i.text, i.at.timestamp()] for i in sandbox.ledger.items
    ]
    return {"items": items, "calls": dict(sandbox.ledger.calls)}


def graph_calls(sandbox: Sandbox) -> dict[str, Any]:
    state = graph_state(sandbox)
    return {"http_calls": state.http_calls, "by_operation": dict(state.calls_by_op)}


def bench_app(sandbox: Sandbox) -> web.Application:
    app = build_app(sandbox)

    async def seed(request: web.Request) -> web.Response:
        return web.json_response(seed_graph(sandbox, await request.json()))

    async def read_ledger(_request: web.Request) -> web.Response:
        return web.json_response(ledger(sandbox))

    async def read_calls(_request: web.Request) -> web.Response:
        return web.json_response(graph_calls(sandbox))

    app.router.add_post("/_bench/seed_graph", seed)
    app.router.add_get("/_bench/ledger", read_ledger)
    app.router.add_get("/_bench/graph_calls", read_calls)
    return app


async def serve(port: int, seed: int, channels: int, faults: str) -> None:
    sandbox = Sandbox(seed=seed)
    sandbox.faults.configure(faults)
    runner = web.AppRunner(bench_app(sandbox), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    bound = runner.addresses[0][1]
    sandbox.base_url = f"http://127.0.0.1:{bound}"
    add_channels(sandbox, channels)
    fixtures = sandbox.fixtures
    ready = {
        "base_url": sandbox.base_url,
        "bot_token": fixtures.bot_token,
        "chats": [c.id for c in fixtures.chats if c.bot_is_admin] + bench_chat_ids(channels),
        "pages": [{"id": p.id, "token": p.access_token} for p in fixtures.pages],
        "instagram": [
            {"id": a.id, "token": a.access_token, "page_id": a.page_id} for a in fixtures.instagram
        ],
    }
    # The emulator's fixtures and specifications live as long as it does: out of the garbage
    # collector's way, its full collections do not stall the platform the figures measure.
    load_spec()
    gc.collect()
    gc.freeze()
    sys.stdout.write(json.dumps(ready) + "\n")
    sys.stdout.flush()
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--telegram-channels", type=int, default=0)
    parser.add_argument("--faults", default="")
    args = parser.parse_args(argv)
    asyncio.run(serve(args.port, args.seed, args.telegram_channels, args.faults))


if __name__ == "__main__":
    main()
