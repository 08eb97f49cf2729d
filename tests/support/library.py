"""A small library on a real database: an organisation and channels, for storage tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from content.domain.states import Platform
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import Organization
from content.storage.registry import add_channel, ensure_organization
from content.storage.secrets import CredentialCipher, generate_key

TOKEN = "EAAsecretPageToken1234567890"


@dataclass
class Library:
    sessions: sessionmaker[Session]
    organization_id: int
    media_dir: Path

    @contextmanager
    def transaction(self) -> Iterator[tuple[Session, Organization]]:
        with self.sessions.begin() as session:
            org = session.get(Organization, self.organization_id)
            assert org is not None
            yield session, org

    def count(self, model: type) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)


@contextmanager
def library(
    database_url: str, tmp_path: Path, timezone: str = "Europe/Vilnius", language: str = "lt"
) -> Iterator[Library]:
    """Channels: news (Telegram, ru), fb (Facebook, lt), ig (Instagram, kk)."""
    engine = make_engine(database_url)
    upgrade(engine)
    sessions = session_factory(engine)
    cipher = CredentialCipher(generate_key())
    with sessions.begin() as session:
        org = ensure_organization(session, "Central Library", timezone, language)
        for name, platform, external, lang in (
            ("news", Platform.TELEGRAM, "@library_news", "ru"),
            ("fb", Platform.FACEBOOK, "100200300400500", "lt"),
            ("ig", Platform.INSTAGRAM, "17841400000000001", "kk"),
        ):
            add_channel(
                session,
                org,
                cipher,
                name=name,
                platform=platform,
                external_id=external,
                token=None if platform is Platform.TELEGRAM else TOKEN,
                language=lang,
                actor="test",
            )
        organization_id = org.id
    try:
        yield Library(sessions, organization_id, tmp_path / "media")
    finally:
        engine.dispose()
