"""A real PTB Application wired to a seeded library database and the sandbox."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.app import build_application
from bot.services import BotServices
from channels.download import download_image
from content.domain.states import Platform
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.registry import add_channel, add_staff, ensure_organization
from content.storage.secrets import CredentialCipher, generate_key
from sandbox.runner import SandboxThread
from scheduler.clock import SystemClock
from tests.bot.harness import BotHarness

ADMIN, MANAGER, EDITOR, STRANGER = 500000001, 500000011, 500000021, 500000099


@dataclass
class Library:
    database: Engine
    sessions: sessionmaker[Session]
    services: BotServices
    cipher: CredentialCipher


@pytest.fixture
def library(tmp_path: Path, sandbox: SandboxThread) -> Iterator[Library]:
    database = make_engine(f"sqlite:///{tmp_path}/afisha.db")
    upgrade(database)
    sessions = session_factory(database)
    cipher = CredentialCipher(generate_key())
    fixtures = sandbox.sandbox.fixtures
    with sessions.begin() as session:
        org = ensure_organization(session, "Regional Library", "Asia/Almaty", "ru")
        add_staff(session, org, ADMIN, "Aigerim", "admin", "ru", "test")
        add_staff(session, org, MANAGER, "Marat", "manager", "kk", "test")
        add_staff(session, org, EDITOR, "Egle", "editor", "lt", "test")
        add_channel(
            session,
            org,
            cipher,
            name="news",
            platform=Platform.TELEGRAM,
            external_id=str(fixtures.chats[0].id),
            token=None,
            language="ru",
            actor="test",
        )
        add_channel(
            session,
            org,
            cipher,
            name="fb",
            platform=Platform.FACEBOOK,
            external_id=fixtures.pages[0].id,
            token=fixtures.pages[0].access_token,
            language="ru",
            actor="test",
        )
    services = BotServices(
        sessions, SystemClock(), tmp_path / "media", "en", fetch_image=download_image
    )
    yield Library(database, sessions, services, cipher)
    database.dispose()


@pytest.fixture
async def bot(library: Library, sandbox: SandboxThread) -> AsyncIterator[BotHarness]:
    application = build_application(
        library.services, sandbox.sandbox.fixtures.bot_token, sandbox.base_url
    )
    await application.initialize()
    try:
        yield BotHarness(sandbox, application)
    finally:
        await application.shutdown()
