"""A library network on a real database: a regional head and two member libraries, each with
its own zone, language and channels on the sandbox's chats and Pages."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from afisha.channel_factory import ChannelFactory
from afisha.config import Settings
from content.domain.states import Platform
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import Organization
from content.storage.registry import add_channel
from content.storage.secrets import CredentialCipher, generate_key
from sandbox.runner import SandboxThread
from scheduler.clock import Clock
from scheduler.compose import MediaLocation
from scheduler.engine import Engine, EngineSettings
from scheduler.limits import Pacer

# The sandbox's chats and Pages (sandbox/fixtures.py), as the network's channels use them.
NEWS = -1001000000001  # the district library's Telegram channel
EVENTS = -1001000000002  # the regional library's Telegram channel
GROUP = -1001000000004  # the village library's Telegram group
HEAD_PAGE, DISTRICT_PAGE = "100200300400500", "100200300400501"
IG_ACCOUNT = "17841400000000001"

# name -> (parent, zone, language)
ORGANISATIONS = {
    "Regional Library": (None, "Asia/Almaty", "kk"),
    "District Library": ("Regional Library", "Europe/Moscow", "ru"),
    "Village Library": ("Regional Library", "Europe/Vilnius", "lt"),
}
# name -> (organisation, platform, external id, needs the Page's token)
CHANNELS = {
    "region-tg": ("Regional Library", Platform.TELEGRAM, str(EVENTS)),
    "region-fb": ("Regional Library", Platform.FACEBOOK, HEAD_PAGE),
    "region-ig": ("Regional Library", Platform.INSTAGRAM, IG_ACCOUNT),
    "district-tg": ("District Library", Platform.TELEGRAM, str(NEWS)),
    "district-fb": ("District Library", Platform.FACEBOOK, DISTRICT_PAGE),
    "village-tg": ("Village Library", Platform.TELEGRAM, str(GROUP)),
}


@dataclass
class Network:
    sessions: sessionmaker[Session]
    cipher: CredentialCipher
    ids: dict[str, int]
    media_dir: Path

    @contextmanager
    def transaction(self, name: str) -> Iterator[tuple[Session, Organization]]:
        """A transaction acting as the organisation `name`."""
        with self.sessions.begin() as session:
            yield session, session.get_one(Organization, self.ids[name])

    def count(self, model: type) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

    def counts(self, *models: type) -> tuple[int, ...]:
        return tuple(self.count(m) for m in models)


@contextmanager
def network(
    database_url: str, tmp_path: Path, tokens: dict[str, str] | None = None
) -> Iterator[Network]:
    """The network on a freshly migrated database; `tokens`: Page id -> its access token (the
    sandbox's, when the channels really publish)."""
    engine = make_engine(database_url)
    upgrade(engine)
    sessions = session_factory(engine)
    cipher = CredentialCipher(generate_key())
    ids: dict[str, int] = {}
    with sessions.begin() as session:
        for name, (parent, timezone, language) in ORGANISATIONS.items():
            org = Organization(
                name=name,
                timezone=timezone,
                language=language,
                parent_id=ids.get(parent) if parent else None,
            )
            session.add(org)
            session.flush()
            ids[name] = org.id
        for name, (owner, platform, external) in CHANNELS.items():
            token: Any = None
            if platform is not Platform.TELEGRAM:
                token = (tokens or {}).get(external, "EAAtestPageToken0123456789")
            add_channel(
                session,
                session.get_one(Organization, ids[owner]),
                cipher,
                name=name,
                platform=platform,
                external_id=external,
                token=token,
                language=None,
                actor="test",
            )
    try:
        yield Network(sessions, cipher, ids, tmp_path / "media")
    finally:
        engine.dispose()


def sandbox_tokens(sandbox: SandboxThread) -> dict[str, str]:
    """The sandbox's Page tokens, for `network(tokens=...)` when the channels really publish."""
    return {page.id: page.access_token for page in sandbox.sandbox.fixtures.pages}


@asynccontextmanager
async def publisher(net: Network, sandbox: SandboxThread, clock: Clock) -> AsyncIterator[Engine]:
    """The real engine with the real channel adapters, pointed at the sandbox."""
    settings = Settings(
        telegram_token=sandbox.sandbox.fixtures.bot_token,
        telegram_api_url=sandbox.base_url,
        graph_api_url=f"{sandbox.base_url}/graph",
        media_dir=str(net.media_dir),
    )
    factory = ChannelFactory(settings, net.cipher, net.sessions)
    try:
        yield Engine(
            net.sessions,
            factory,
            clock,
            EngineSettings(worker="test", media=MediaLocation(net.media_dir)),
            Pacer(clock, enabled=False),
            factory.rates,
        )
    finally:
        await factory.close()
