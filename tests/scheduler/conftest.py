"""An engine on a real database with scripted channels and a manual clock."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from content.domain.states import Platform
from content.queueing.scheduling import NewPost, queue_post
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import Channel, Organization, Publication
from content.storage.registry import add_channel, ensure_organization
from content.storage.secrets import CredentialCipher, generate_key
from scheduler.clock import ManualClock
from scheduler.compose import MediaLocation
from scheduler.engine import Engine, EngineSettings
from scheduler.limits import Pacer, rates_for
from tests.support.scripted_channel import ScriptedChannel

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class World:
    database: SqlEngine
    sessions: sessionmaker[Session]
    clock: ManualClock
    media_dir: Path
    adapters: dict[str, ScriptedChannel] = field(default_factory=dict)

    def adapter_for(self, channel: Channel) -> ScriptedChannel:
        return self.adapters.setdefault(channel.name, ScriptedChannel(channel.platform))

    def engine(self, worker: str = "w1", *, pacing: bool = False, **overrides: object) -> Engine:
        settings = EngineSettings(worker=worker, media=MediaLocation(self.media_dir), **overrides)  # type: ignore[arg-type]
        return Engine(
            self.sessions,
            self.adapter_for,
            self.clock,
            settings,
            Pacer(self.clock, enabled=pacing),
            lambda c: rates_for(c.platform.value, c.external_id, "bot-token"),
            rng=random.Random(1),
        )

    def queue(self, text: str, channels: list[str], minutes: float = 0) -> int:
        with self.sessions.begin() as session:
            org = session.scalars(select(Organization)).one()
            due = self.clock.now() + timedelta(minutes=minutes)
            return queue_post(session, org, NewPost(text, channels, due), self.media_dir, "test").id

    def publications(self) -> list[Publication]:
        with self.sessions() as session:
            return list(session.scalars(select(Publication).order_by(Publication.id)))


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    database = make_engine(database_url)
    upgrade(database)
    sessions = session_factory(database)
    cipher = CredentialCipher(generate_key())
    with sessions.begin() as session:
        org = ensure_organization(session, "Library", "Europe/Vilnius", "lt")
        for name, platform, external in (
            ("tg1", Platform.TELEGRAM, "-1001000000001"),
            ("tg2", Platform.TELEGRAM, "-1001000000002"),
            ("fb", Platform.FACEBOOK, "100200300400500"),
        ):
            add_channel(
                session,
                org,
                cipher,
                name=name,
                platform=platform,
                external_id=external,
                token="t0ken-for-tests" if platform is not Platform.TELEGRAM else None,
                language=None,
                actor="test",
            )
    yield World(database, sessions, ManualClock(START), tmp_path / "media")
    database.dispose()
