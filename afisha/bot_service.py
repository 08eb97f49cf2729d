"""The staff bot as a service of `afisha run`: PTB polling beside the engine."""

from __future__ import annotations

import asyncio

from afisha.wiring import Afisha
from bot.app import build_application, run_polling
from bot.notify import deliver_notices, queue_monthly_report, queue_weekly_digest
from bot.services import BotServices
from scheduler.timing import PeriodicJob, Worker


def bot_services(afisha: Afisha, worker: Worker) -> BotServices:
    settings = afisha.settings
    return BotServices(
        afisha.sessions,
        worker.engine.clock,
        settings.media_path,
        settings.language,
        queue_changed=worker.queue_changed,
    )


async def run_bot(afisha: Afisha, stop: asyncio.Event, worker: Worker) -> None:
    """Poll Telegram for the bot's updates until `stop` is set; deliver staff notices."""
    settings = afisha.settings
    assert settings.telegram_token is not None
    services = bot_services(afisha, worker)
    application = build_application(services, settings.telegram_token, settings.telegram_api_url)

    async def digest() -> bool:
        return queue_weekly_digest(services)

    async def monthly_report() -> bool:
        return queue_monthly_report(services)

    worker.add_periodic(
        PeriodicJob("notices", lambda: deliver_notices(application.bot, services), 30)
    )
    worker.add_periodic(PeriodicJob("weekly-digest", digest, 15 * 60))
    worker.add_periodic(PeriodicJob("monthly-report", monthly_report, 15 * 60))
    await run_polling(application, stop)
