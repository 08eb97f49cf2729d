"""The staff bot as a service of `afisha run`: PTB polling beside the engine."""

from __future__ import annotations

import asyncio

from afisha.wiring import Afisha
from bot.app import build_application, run_polling
from bot.services import BotServices
from scheduler.timing import Worker


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
    """Poll Telegram for the bot's updates until `stop` is set."""
    settings = afisha.settings
    assert settings.telegram_token is not None
    application = build_application(
        bot_services(afisha, worker), settings.telegram_token, settings.telegram_api_url
    )
    await run_polling(application, stop)
