"""Helpers for the post flows' tests: a manual clock for the bot, the real engine against the
sandbox, and the kinds of message the harness does not inject itself."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from PIL import Image
from sqlalchemy import select

from afisha.channel_factory import ChannelFactory
from afisha.config import Settings
from content.domain.states import Platform
from content.storage.models import Organization, Post, Publication, StaffMember
from content.storage.registry import add_channel
from sandbox.runner import SandboxThread
from scheduler.clock import ManualClock
from scheduler.compose import MediaLocation
from scheduler.engine import Engine, EngineSettings
from scheduler.limits import Pacer
from tests.bot.conftest import Library
from tests.bot.harness import BotHarness

# Tuesday 1 December 2026, 09:00 in Almaty (UTC+5), the library's zone.
START = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)


def jpeg(size: tuple[int, int] = (800, 600), colour: tuple[int, int, int] = (30, 90, 160)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, colour).save(buffer, "JPEG")
    return buffer.getvalue()


def manual_clock(library: Library, start: datetime = START) -> ManualClock:
    """Give the bot a clock that moves only when the test says."""
    clock = ManualClock(start)
    library.services.clock = clock
    return clock


@asynccontextmanager
async def publisher(
    library: Library, sandbox: SandboxThread, clock: ManualClock
) -> AsyncIterator[Engine]:
    """The real engine with the real channel adapters, pointed at the sandbox."""
    fixtures = sandbox.sandbox.fixtures
    settings = Settings(
        telegram_token=fixtures.bot_token,
        telegram_api_url=sandbox.base_url,
        graph_api_url=f"{sandbox.base_url}/graph",
        media_dir=str(library.services.media_dir),
    )
    factory = ChannelFactory(settings, library.cipher, library.sessions)
    engine = Engine(
        library.sessions,
        factory,
        clock,
        EngineSettings(worker="test", media=MediaLocation(library.services.media_dir)),
        Pacer(clock, enabled=False),
        factory.rates,
    )
    try:
        yield engine
    finally:
        await factory.close()


def add_instagram(library: Library, sandbox: SandboxThread) -> None:
    account = sandbox.sandbox.fixtures.instagram[0]
    with library.sessions.begin() as session:
        org = session.scalars(select(Organization)).one()
        add_channel(
            session,
            org,
            library.cipher,
            name="ig",
            platform=Platform.INSTAGRAM,
            external_id=account.id,
            token=account.access_token,
            language="ru",
            actor="test",
            linked_page_id=account.page_id,
        )


def require_approval(library: Library) -> None:
    with library.sessions.begin() as session:
        session.scalars(select(Organization)).one().requires_approval = True


def set_language(library: Library, user_id: int, language: str) -> None:
    with library.sessions.begin() as session:
        staff = session.scalars(
            select(StaffMember).where(StaffMember.telegram_user_id == user_id)
        ).one()
        staff.language = language


def posts(library: Library) -> list[Post]:
    with library.sessions() as session:
        return list(session.scalars(select(Post).order_by(Post.id)))


def publications(library: Library) -> list[Publication]:
    with library.sessions() as session:
        return list(session.scalars(select(Publication).order_by(Publication.id)))


def channel_id(library: Library, name: str) -> int:
    from content.storage.models import Channel

    with library.sessions() as session:
        return session.scalars(select(Channel.id).where(Channel.name == name)).one()


async def send_document(
    bot: BotHarness, user_id: int, data: bytes, file_name: str, mime: str
) -> list[dict[str, Any]]:
    """The user sends a file (not a photo)."""

    def inject() -> None:
        state = bot.state
        stored = state.files.add_document(data, file_name, mime)
        message = state.new_message(
            state.chat_json(user_id), state.user(user_id), document=stored.document()
        )
        state.enqueue("message", message.to_api())

    return await _inject(bot, user_id, inject)


async def send_forwarded(bot: BotHarness, user_id: int, text: str) -> list[dict[str, Any]]:
    """The user forwards a channel's message to the bot."""

    def inject() -> None:
        state = bot.state
        message = state.new_message(state.chat_json(user_id), state.user(user_id), text=text)
        payload = message.to_api()
        payload["forward_origin"] = {
            "type": "channel",
            "chat": {"id": -1009999999999, "type": "channel", "title": "Partner library"},
            "message_id": 77,
            "date": payload["date"] - 3600,
        }
        state.enqueue("message", payload)

    return await _inject(bot, user_id, inject)


async def _inject(bot: BotHarness, user_id: int, inject: Any) -> list[dict[str, Any]]:
    bot._new_bot_messages(user_id)
    bot.server.call(inject)
    await bot._process()
    return bot._new_bot_messages(user_id)


def texts(messages: list[dict[str, Any]]) -> str:
    """Every text and caption of `messages`, for looking a phrase up."""
    return "\n".join((m.get("text") or m.get("caption") or "") for m in messages)


def last_with_buttons(messages: list[dict[str, Any]]) -> dict[str, Any]:
    return next(m for m in reversed(messages) if m.get("buttons"))


def message_with(bot: BotHarness, user_id: int, data: str) -> dict[str, Any]:
    """The newest bot message in the user's chat with a button carrying `data`, as it is now
    (edits made within the same second are not told apart by the harness, so read them here)."""
    return next(m for m in reversed(bot.history(user_id)) if data in BotHarness.buttons(m))


async def press_and_read(bot: BotHarness, user_id: int, data: str) -> dict[str, Any]:
    """Press `data` and return the message it was under, as the bot left it."""
    target = message_with(bot, user_id, data)["message_id"]
    await bot.press(user_id, data)
    return next(m for m in bot.history(user_id) if m["message_id"] == target)


def published(sandbox: SandboxThread) -> list[Any]:
    """What followers see in channels and on Pages (not the bot's private chats)."""
    return [i for i in sandbox.sandbox.ledger.items if i.kind != "private"]
