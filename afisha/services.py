"""What `afisha run` runs beside the engine: the web port and the bot."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from afisha.runtime import Service
from afisha.web import run_web
from afisha.webhook import WebhookSink
from afisha.wiring import Afisha


def run_services(afisha: Afisha, warn: Callable[[str], None]) -> list[Service]:
    settings = afisha.settings
    webhook = (
        WebhookSink(settings.webhook_secret)
        if settings.webhook_url and settings.webhook_secret
        else None
    )
    services: list[Service] = [partial(run_web, afisha, webhook)]
    if settings.telegram_token:
        # Imported here: the bot (and the charts it draws) would cost `afisha worker` some
        # 40 MB of memory it never uses.
        from afisha.bot_service import run_bot

        services.append(partial(run_bot, afisha, webhook))
    else:
        warn("no AFISHA_TELEGRAM_TOKEN: running without the bot")
    return services
