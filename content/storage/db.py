"""Database engines, sessions and schema migrations (SQLite by default, PostgreSQL by URL)."""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from content.errors import ConfigurationError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
# Alembic's default, which content/storage/migrations/env.py keeps.
VERSION_TABLE = "alembic_version"
# `revision = "0007"` and `down_revision = "0006"` (or None, or a tuple) in a revision file.
_HEADER = re.compile(r"^(revision|down_revision)\s*(?::[^=\n]*)?=\s*(.+?)\s*$", re.MULTILINE)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets readers (the bot, `afisha status`) work while the engine writes.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`; SQLite gets WAL mode and foreign keys."""
    try:
        parsed = make_url(url)
    except Exception as exc:
        raise ConfigurationError(f"database URL {url!r} is not valid: {exc}") from None
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    return create_engine(parsed, **kwargs)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A session whose work is committed together, or not at all."""
    with factory() as session, session.begin():
        yield session


# Alembic (some 7 MB) is imported only to migrate: checking that the schema is
# current, which every process does as it starts, reads the version table and the revision
# files' headers without it.


def _alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "heads") -> None:
    """Apply migrations up to `revision`."""
    from alembic import command

    command.upgrade(_alembic_config(engine), revision)


def _revision_header(path: Path) -> tuple[str, set[str]]:
    """A revision file's `revision` and the `down_revision`(s) it follows."""
    # A regular expression, not ast.parse: parsing whole files leaves ~1 MB behind in the heap.
    values = {
        name: ast.literal_eval(value)
        for name, value in _HEADER.findall(path.read_text(encoding="utf-8"))
    }
    down = values.get("down_revision")
    follows = set() if down is None else {down} if isinstance(down, str) else set(down)
    return str(values["revision"]), follows


def head_revisions() -> set[str]:
    """The revisions no other follows: what `upgrade` brings a database to."""
    revisions: set[str] = set()
    followed: set[str] = set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        if path.name == "__init__.py":
            continue
        revision, follows = _revision_header(path)
        revisions.add(revision)
        followed |= follows
    return revisions - followed


def current_revisions(engine: Engine) -> set[str]:
    """The revisions the database is at (none before its first migration)."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return set()
        query = text(f"SELECT version_num FROM {VERSION_TABLE}")  # noqa: S608 - a constant
        return set(connection.scalars(query))


def is_up_to_date(engine: Engine) -> bool:
    return current_revisions(engine) == head_revisions()
