"""The staff bot as a service of `afisha run`: PTB polling beside the engine."""

from __future__ import annotations

import asyncio
import hashlib

from afisha.jobs import bot_jobs
from afisha.webhook import WebhookSink
from afisha.wiring import Afisha
from bot.app import build_application, run_polling, run_webhook
from bot.services import BotServices
from channels.download import download_image
from content.errors import ConfigurationError
from content.i18n import N_, translate
from scheduler.locks import exclusive
from scheduler.timing import Worker

POLLING_HERE = N_(
    "Another `afisha run` on this database is already receiving this bot's updates, by polling "
    "or by webhook. Run one poller per bot token, or set the same AFISHA_WEBHOOK_URL on every "
    "replica so that they share one webhook."
)
WEBHOOK_HERE = N_(
    "Another `afisha run` on this database is polling Telegram for this bot, and a webhook would "
    "cut it off. Stop it first, or run every replica with the same AFISHA_WEBHOOK_URL."
)


def poller_lock(token: str) -> str:
    """The name of the one-poller-per-token lock (of the token's digest: no secret in it)."""
    return f"telegram-poller:{hashlib.sha256(token.encode()).hexdigest()[:16]}"


def bot_services(afisha: Afisha, worker: Worker) -> BotServices:
    settings = afisha.settings
    return BotServices(
        afisha.sessions,
        worker.engine.clock,
        settings.media_path,
        settings.language,
        queue_changed=worker.queue_changed,
        fetch_image=download_image,
    )


async def run_bot(
    afisha: Afisha, webhook: WebhookSink | None, stop: asyncio.Event, worker: Worker
) -> None:
    """Serve the bot until `stop` is set (a webhook when configured, else polling); deliver
    staff notices and the scheduled digests."""
    settings = afisha.settings
    assert settings.telegram_token is not None
    services = bot_services(afisha, worker)
    application = build_application(services, settings.telegram_token, settings.telegram_api_url)

    for job in bot_jobs(application, services):
        worker.add_periodic(job)
    # On PostgreSQL, a process on the database knows before asking Telegram whether another
    # receives the bot's updates: webhook replicas share the token's lock, a poller holds it
    # alone (on SQLite the worker's own lock already keeps a second `afisha run` out).
    lock = poller_lock(settings.telegram_token)
    if webhook is not None and settings.webhook_url:
        async with exclusive(afisha.engine, lock, shared=True) as allowed:
            if not allowed:
                raise ConfigurationError(translate(settings.language, WEBHOOK_HERE))
            webhook.application = application
            await run_webhook(application, stop, settings.webhook_url, webhook.secret)
    else:
        async with exclusive(afisha.engine, lock) as alone:
            if not alone:
                raise ConfigurationError(translate(settings.language, POLLING_HERE))
            await run_polling(application, stop, language=settings.language)
