"""The staff bot as a service of `afisha run`: PTB polling beside the engine."""

from __future__ import annotations

import asyncio

from afisha.jobs import bot_jobs
from afisha.webhook import WebhookSink
from afisha.wiring import Afisha
from bot.app import build_application, run_polling, run_webhook
from bot.services import BotServices
from channels.download import download_image
from scheduler.timing import Worker


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
    if webhook is not None and settings.webhook_url:
        webhook.application = application
        await run_webhook(application, stop, settings.webhook_url, webhook.secret)
    else:
        await run_polling(application, stop)
