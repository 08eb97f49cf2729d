"""Telegram's webhook on Afisha's own web port: updates handed to the bot's Application."""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web
from telegram import Update
from telegram.ext import Application

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"  # noqa: S105 - a header name


class WebhookSink:
    """Where the web route delivers updates once the bot is running."""

    def __init__(self, secret: str) -> None:
        self.secret = secret
        self.application: Application | None = None

    def accepts(self, offered: str | None) -> bool:
        # Constant time, so the secret cannot be guessed byte by byte from response times.
        return offered is not None and hmac.compare_digest(offered.encode(), self.secret.encode())

    async def handle(self, request: web.Request) -> web.Response:
        if not self.accepts(request.headers.get(SECRET_HEADER)):
            raise web.HTTPForbidden()
        if self.application is None:
            raise web.HTTPServiceUnavailable()  # Telegram retries later
        update = _update(await request.read(), self.application)
        if update is None:
            log.info("webhook: a body that is not an update was refused")
            raise web.HTTPBadRequest()
        await self.application.update_queue.put(update)
        return web.Response(text="ok")


def _update(body: bytes, application: Application) -> Update | None:
    """The update `body` carries: a JSON object with an integer update_id, as Telegram sends;
    None for anything else (a list, a string, invalid JSON)."""
    try:
        data = json.loads(body)
    except ValueError:  # also not UTF-8
        return None
    update_id = data.get("update_id") if isinstance(data, dict) else None
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        return None
    try:
        return Update.de_json(data, application.bot)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def add_webhook_route(app: web.Application, sink: WebhookSink) -> None:
    app.router.add_post(WEBHOOK_PATH, sink.handle)
