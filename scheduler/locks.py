"""Who may run: one worker per SQLite database; periodic jobs on one worker at a time."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import IO

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from content.errors import ConfigurationError


class WorkerLock:
    """On SQLite, an exclusive file lock next to the database; released by the OS on a crash."""

    def __init__(self, database_url: str) -> None:
        url = make_url(database_url)
        self.path: Path | None = None
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            self.path = Path(f"{url.database}.worker.lock")
        self._file: IO[str] | None = None

    def acquire(self) -> None:
        if self.path is None:
            return  # PostgreSQL: any number of workers, coordinated by row locks
        handle = self.path.open("a+")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "another process"
            handle.close()
            raise ConfigurationError(
                f"another Afisha worker ({holder}) is already running on this SQLite database; "
                "run one worker, or use PostgreSQL (AFISHA_DATABASE_URL) for several"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(f"pid {os.getpid()}")
        handle.flush()
        self._file = handle

    def release(self) -> None:
        if self._file is not None:
            fcntl.flock(self._file, fcntl.LOCK_UN)
            self._file.close()
            self._file = None


def _key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextlib.asynccontextmanager
async def exclusive(engine: Engine, name: str, *, shared: bool = False) -> AsyncIterator[bool]:
    """Yields True on the one worker that holds the job `name` now (PostgreSQL advisory lock);
    with `shared`, on every holder of the shared kind, while no one holds it alone."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    kind = "_shared" if shared else ""
    with engine.connect() as connection:
        held = bool(
            connection.execute(
                text(f"SELECT pg_try_advisory_lock{kind}(:k)"), {"k": _key(name)}
            ).scalar()
        )
        try:
            yield held
        finally:
            if held:
                connection.execute(text(f"SELECT pg_advisory_unlock{kind}(:k)"), {"k": _key(name)})
            connection.rollback()
