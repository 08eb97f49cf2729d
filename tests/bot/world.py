"""What the event, notice and channel tests share: a manual clock for the bot, a real engine
publishing to the sandbox, and ways to act as a follower."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from afisha.channel_factory import ChannelFactory
from afisha.config import Settings
from channels.base import Outgoing
from channels.telegram import TelegramChannel
from content.storage.models import Channel, Organization, StaffMember
from sandbox.runner import SandboxThread
from scheduler.clock import ManualClock
from scheduler.compose import MediaLocation
from scheduler.engine import Engine, EngineSettings
from scheduler.followers import remind_followers
from scheduler.limits import Pacer
from scheduler.policy import RetryPolicy
from tests.bot.conftest import Library
from tests.bot.harness import BotHarness

# 14:00 in Almaty (UTC+5), the seeded library's zone.
START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def manual_clock(library: Library) -> ManualClock:
    """Give the bot a clock the test moves (the Dispatcher reads the same services object)."""
    clock = ManualClock(START)
    library.services.clock = clock
    return clock


def build_engine(
    library: Library, sandbox: SandboxThread, clock: ManualClock, *, retries: int = 5
) -> tuple[Engine, ChannelFactory]:
    """The real engine and channel adapters, talking to the sandbox."""
    settings = Settings(
        telegram_token=sandbox.sandbox.fixtures.bot_token,
        telegram_api_url=sandbox.base_url,
        graph_api_url=sandbox.base_url + "/graph",
        graph_api_version="v21.0",
        media_dir=str(library.services.media_dir),
        timezone="Asia/Almaty",
    )
    factory = ChannelFactory(settings, library.cipher, library.sessions)
    engine = Engine(
        library.sessions,
        factory,
        clock,
        EngineSettings(
            worker="test",
            media=MediaLocation(library.services.media_dir),
            retry=RetryPolicy(max_not_sent=retries),
        ),
        Pacer(clock, enabled=False),
        factory.rates,
    )
    return engine, factory


async def remind_followers_now(library: Library, sandbox: SandboxThread, clock: ManualClock) -> int:
    """Run the follower reminders the way the wiring does: private messages through Telegram."""
    token = sandbox.sandbox.fixtures.bot_token

    async def send(user_id: int, text: str) -> None:
        channel = TelegramChannel(token, sandbox.base_url, user_id)
        try:
            await channel.publish(Outgoing(text=text))
        finally:
            await channel.close()

    return await remind_followers(library.sessions, clock, send)


def channel_id(library: Library, name: str) -> int:
    with library.sessions() as session:
        return session.scalars(select(Channel.id).where(Channel.name == name)).one()


def staff_id(library: Library, telegram_user_id: int) -> int:
    with library.sessions() as session:
        return session.scalars(
            select(StaffMember.id).where(StaffMember.telegram_user_id == telegram_user_id)
        ).one()


def organization(session: Any) -> Organization:
    return session.scalars(select(Organization)).one()


def callback_answer(bot: BotHarness) -> str:
    """The text shown to whoever pressed the latest button (answerCallbackQuery)."""
    queries = bot.server.call(lambda: list(bot.state.callback_queries.values()))
    query = queries[-1]
    assert query.answered
    return str(query.answer.get("text") or "")


def set_user_language(bot: BotHarness, user_id: int, language: str) -> None:
    bot.server.call(lambda: setattr(bot.state.user(user_id), "language_code", language))


async def send_document(
    bot: BotHarness, user_id: int, data: bytes, name: str, mime: str
) -> list[dict[str, Any]]:
    """The user sends the bot a file (not a photo)."""
    state = bot.state

    def inject() -> None:
        stored = state.files.add_document(data, name, mime)
        message = state.new_message(
            state.chat_json(user_id), state.user(user_id), document=stored.document()
        )
        state.enqueue("message", message.to_api())

    bot._new_bot_messages(user_id)
    bot.server.call(inject)
    await bot._process()
    return bot._new_bot_messages(user_id)


async def press(bot: BotHarness, user_id: int, data: str) -> dict[str, Any]:
    """Press a button in the user's chat; returns the bot's latest message there (an edit within
    the same second as an earlier one does not show in BotHarness.press)."""
    await bot.press(user_id, data)
    return [m for m in bot.history(user_id) if m["sender"] == "bot"][-1]


def texts(messages: list[dict[str, Any]]) -> str:
    return "\n".join(m.get("text") or m.get("caption") or "" for m in messages)


def channel_chat(sandbox: SandboxThread) -> int:
    return sandbox.sandbox.fixtures.chats[0].id


def media_dir(library: Library) -> Path:
    return library.services.media_dir
