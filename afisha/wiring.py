"""Wiring: from settings to a ready database, session factory, cipher and organisation."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from afisha.config import Settings
from content.domain.timeparse import zone
from content.errors import ConfigurationError, StorageError
from content.storage.db import is_sqlite, is_up_to_date, make_engine, session_factory, upgrade
from content.storage.models import Organization
from content.storage.organizations import choose_organization
from content.storage.registry import ensure_organization
from content.storage.secrets import CredentialCipher


@dataclass
class Afisha:
    """The assembled application core that commands and services share."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    cipher: CredentialCipher

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.settings.timezone)

    def now(self) -> datetime:
        return datetime.now(UTC)

    @contextmanager
    def installation(self) -> Iterator[tuple[Session, Organization]]:
        """A session and the installation's first organisation; all commits or nothing.

        The first organisation is created on first use and kept in step with the settings.
        """
        with self.sessions() as session, session.begin():
            first = ensure_organization(
                session,
                self.settings.organization,
                self.settings.timezone,
                self.settings.language,
                self.settings.requires_approval,
            )
            yield session, first

    @contextmanager
    def transaction(self, org: str | None = None) -> Iterator[tuple[Session, Organization]]:
        """A session and the organisation named (or the only one); all commits or nothing.

        With several and none named, InvalidInput names the choices.
        """
        with self.installation() as (session, _first):
            yield session, choose_organization(session, org)

    def close(self) -> None:
        self.engine.dispose()


def open_afisha(settings: Settings, *, migrate: bool | None = None) -> Afisha:
    """Connect to the database; the embedded SQLite default is migrated automatically."""
    engine = make_engine(settings.database_url)
    if migrate is None:
        migrate = is_sqlite(settings.database_url)
    try:
        up_to_date = is_up_to_date(engine)
        # Only then: running Alembic even to find nothing to do costs a worker some 7 MB.
        if migrate and not up_to_date:
            upgrade(engine)
            up_to_date = is_up_to_date(engine)
    except Exception as exc:
        engine.dispose()
        raise StorageError(f"cannot open the database: {exc.__class__.__name__}") from exc
    if not up_to_date:
        engine.dispose()
        raise ConfigurationError("the database schema is not up to date: run `afisha db upgrade`")
    return Afisha(settings, engine, session_factory(engine), CredentialCipher(settings.secret_key))
