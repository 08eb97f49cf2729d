"""Fixtures of the bad-input catalogue: databases shared by a module, and the bot's library."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text

from tests.bot.conftest import bot, library  # noqa: F401 - the bot cases use the bot's fixtures
from tests.conftest import POSTGRES_URL


@contextmanager
def scratch_database(kind: str, directory: Path) -> Iterator[str | None]:
    """A fresh empty database (a SQLite file or a PostgreSQL schema of its own); None when
    PostgreSQL is asked for and not answering."""
    if kind == "sqlite":
        yield f"sqlite:///{directory}/afisha.db"
        return
    if POSTGRES_URL is None:
        yield None
        return
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(POSTGRES_URL)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in POSTGRES_URL else "?"
    try:
        yield f"{POSTGRES_URL}{separator}options=-csearch_path%3D{schema}&application_name={schema}"
    finally:
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
