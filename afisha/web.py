"""The public web port of `afisha run`: the events feed, the media files, a health check."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from aiohttp import web

from afisha.webhook import WebhookSink, add_webhook_route
from afisha.wiring import Afisha
from content.plans.ical import export_events
from content.storage.store import queue_status

log = logging.getLogger(__name__)


def _events_ics(afisha: Afisha) -> bytes:
    with afisha.transaction() as (session, org):
        return export_events(session, org, afisha.now())


def _health(afisha: Afisha) -> tuple[bool, int | None]:
    try:
        with afisha.sessions() as session:
            return True, queue_status(session).queued
    except Exception:
        log.warning("health check: the database is not reachable", exc_info=True)
        return False, None


def media_file(root: Path, relative: str) -> Path | None:
    """The file `relative` names under `root`, or None when it is missing or lies outside it."""
    base = root.resolve()
    try:
        target = (base / relative).resolve()
    except (OSError, ValueError):
        return None
    if not target.is_relative_to(base) or not target.is_file():
        return None
    return target


def make_web_app(afisha: Afisha, webhook: WebhookSink | None = None) -> web.Application:
    """GET /events.ics (upcoming events), /media/<path> (stored images), /healthz (JSON);
    with `webhook`, also POST /telegram/webhook for the bot's updates."""

    async def events(_request: web.Request) -> web.Response:
        body = await asyncio.to_thread(_events_ics, afisha)
        return web.Response(
            body=body,
            content_type="text/calendar",
            charset="utf-8",
            headers={"Content-Disposition": 'inline; filename="events.ics"'},
        )

    async def media(request: web.Request) -> web.StreamResponse:
        relative = request.match_info["path"]
        target = media_file(afisha.settings.media_path, relative)
        if target is None:
            raise web.HTTPNotFound()
        return web.FileResponse(target, headers={"Cache-Control": "public, max-age=86400"})

    async def healthz(_request: web.Request) -> web.Response:
        database, queued = await asyncio.to_thread(_health, afisha)
        return web.json_response(
            {"ok": database, "database": database, "queue": queued},
            status=200 if database else 503,
        )

    app = web.Application()
    app.router.add_get("/events.ics", events)
    app.router.add_get("/media/{path:.+}", media)
    app.router.add_get("/healthz", healthz)
    if webhook is not None:
        add_webhook_route(app, webhook)
    return app


async def run_web(
    afisha: Afisha, webhook: WebhookSink | None, stop: asyncio.Event, _worker: object
) -> None:
    """Serve the web port until `stop` is set."""
    settings = afisha.settings
    runner = web.AppRunner(make_web_app(afisha, webhook), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.web_host, settings.web_port).start()
        log.info("web port open on %s:%s", settings.web_host, settings.web_port)
        await stop.wait()
    finally:
        await runner.cleanup()
