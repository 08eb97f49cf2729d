"""The sandbox's page at `<base>/`: every channel, Page and Instagram account as followers see it,
a chat with the bot as the staff (or follower) user, and the virtual clock.

Plain HTML, CSS and JavaScript from `static/`, no build step and nothing from outside. The page
polls `GET /_sandbox/feeds` (see `feeds.feeds_json`) and the admin API's chat history, and acts
through the admin API (`telegram/updates`, `clock/advance`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from aiohttp import web

from sandbox.page.feeds import feeds_json

if TYPE_CHECKING:
    from sandbox.app import Sandbox

STATIC = Path(__file__).with_name("static")
ASSETS = {
    "page.css": "text/css",
    "page.js": "text/javascript",
}
NO_CACHE = {"Cache-Control": "no-cache"}


def add_routes(app: web.Application, sandbox: Sandbox) -> None:
    """Register the page, its assets and the feeds endpoint."""

    async def index(request: web.Request) -> web.Response:
        return _asset("index.html", "text/html")

    async def asset(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in ASSETS:
            raise web.HTTPNotFound()
        return _asset(name, ASSETS[name])

    async def feeds(request: web.Request) -> web.Response:
        return web.json_response(feeds_json(sandbox), headers=NO_CACHE)

    app.router.add_get("/", index)
    app.router.add_get("/page/{name}", asset)
    app.router.add_get("/_sandbox/feeds", feeds)


def _asset(name: str, content_type: str) -> web.Response:
    body = (STATIC / name).read_bytes()
    return web.Response(body=body, content_type=content_type, charset="utf-8", headers=NO_CACHE)
