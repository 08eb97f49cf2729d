"""The python-telegram-bot Application: one handler for every update, commands in four
languages, polling or a webhook."""

from __future__ import annotations

import asyncio
import logging

from telegram import BotCommand, BotCommandScopeDefault, Update
from telegram.error import Conflict, TelegramError
from telegram.ext import Application, ApplicationBuilder, TypeHandler

from bot.dispatch import Dispatcher
from bot.flows import build_router
from bot.router import Router
from bot.services import BotServices
from content.domain.languages import LANGUAGES
from content.errors import ConfigurationError
from content.i18n import N_, translate

log = logging.getLogger(__name__)

# message_reaction_count is not delivered unless asked for (and the bot is a channel admin).
ALLOWED_UPDATES = ["message", "callback_query", "message_reaction_count"]
# A poller told "Conflict" this soon after it began is the newcomer, and gives way: the one
# polling already retries a second after its own conflict (PTB), which ends the newcomer's poll.
SETTLE_SECONDS = 5.0
ANOTHER_POLLER = N_(
    "Another program is already receiving this bot's updates (Telegram answered: {detail}). "
    "Run one poller per bot token: stop the other one, or set AFISHA_WEBHOOK_URL so that "
    "several replicas share one webhook."
)


def build_application(
    services: BotServices, token: str, api_url: str, *, router: Router | None = None
) -> Application:
    router = router or build_router()
    application = (
        ApplicationBuilder()
        .token(token)
        .base_url(f"{api_url.rstrip('/')}/bot")
        .base_file_url(f"{api_url.rstrip('/')}/file/bot")
        .build()
    )
    application.add_handler(TypeHandler(Update, Dispatcher(services, router)))
    application.bot_data["router"] = router
    return application


async def set_commands(application: Application, router: Router) -> None:
    """The command menu in each language (English also as the default)."""
    for language in LANGUAGES:
        commands = [
            BotCommand(c.name, translate(language, c.description))
            for c in router.commands.values()
            if c.menu
        ]
        await application.bot.set_my_commands(
            commands, scope=BotCommandScopeDefault(), language_code=language
        )
        if language == "en":
            await application.bot.set_my_commands(commands, scope=BotCommandScopeDefault())


async def _initialize(application: Application) -> None:
    """Initialise `application`; if it cannot (Telegram refuses the token at getMe, say), close
    the HTTP clients it opened before raising, so that a failed start leaks no connections."""
    try:
        await application.initialize()
    except BaseException:
        await application.bot.shutdown()
        raise


async def run_webhook(application: Application, stop: asyncio.Event, url: str, secret: str) -> None:
    """Receive updates through a webhook (delivered to `application.update_queue` by the web
    port) until `stop` is set."""
    await _initialize(application)
    await set_commands(application, application.bot_data["router"])
    await application.start()
    await application.bot.set_webhook(url, secret_token=secret, allowed_updates=ALLOWED_UPDATES)
    try:
        await stop.wait()
    finally:
        await application.stop()
        await application.shutdown()


async def run_polling(
    application: Application,
    stop: asyncio.Event,
    *,
    language: str = "en",
    settle: float = SETTLE_SECONDS,
) -> None:
    """Poll for updates until `stop` is set.

    Raises:
        ConfigurationError: (in `language`) Telegram answered "Conflict" within `settle`
            seconds of the start: someone else polls for this token, and this poller stops
            rather than take turns with it. A conflict later is a newcomer's, which gives way.
    """
    await _initialize(application)
    await set_commands(application, application.bot_data["router"])
    await application.start()
    assert application.updater is not None
    loop = asyncio.get_running_loop()
    began = loop.time()
    conflicts: list[Conflict] = []
    refused = asyncio.Event()

    def on_error(error: TelegramError) -> None:
        if isinstance(error, Conflict) and loop.time() - began < settle:
            conflicts.append(error)
            refused.set()
        elif isinstance(error, Conflict):
            log.warning("another poller for this bot started (%s); it stops on its own", error)
        else:
            log.error("polling for updates failed: %s", error)

    await application.updater.start_polling(
        allowed_updates=ALLOWED_UPDATES, error_callback=on_error
    )
    try:
        waits = [asyncio.create_task(stop.wait()), asyncio.create_task(refused.wait())]
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()
    if conflicts:
        raise ConfigurationError(translate(language, ANOTHER_POLLER, detail=conflicts[0].message))
