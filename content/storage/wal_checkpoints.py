"""SQLite's WAL checkpoints on a thread of their own, for a process whose event loop must not wait.

By default the connection whose commit takes the write-ahead log past 1,000 pages copies the log
back into the database file, fsync and all, inside that commit: tens of milliseconds with the
engine's event loop blocked, which is what a post due at that moment waits for
(bench/PROFILING.md). SQLite's WAL documentation suggests exactly this for such applications:
automatic checkpoints off on the busy connections, checkpoints run from another thread. The
sqlite3 module releases the GIL while SQLite works, so the event loop goes on meanwhile.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from sqlalchemy import Engine, event

log = logging.getLogger(__name__)

# How often the thread checkpoints (PASSIVE: it never waits for a reader or the writer).
EVERY_SECONDS = 1.0


def _no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA wal_autocheckpoint=0")
    cursor.close()


def applies(engine: Engine) -> bool:
    """Whether `engine` is a SQLite database file (in memory there is no log to checkpoint)."""
    database = engine.url.database
    return engine.dialect.name == "sqlite" and database not in (None, "", ":memory:")


class BackgroundCheckpoints:
    """While started, `engine`'s connections leave checkpoints to a thread of this object."""

    def __init__(self, engine: Engine, every: float = EVERY_SECONDS) -> None:
        if not applies(engine):
            raise ValueError("only a SQLite database file has WAL checkpoints")
        self.engine = engine
        self.every = every
        self.checkpoints = 0  # made so far
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        event.listen(self.engine, "connect", _no_autocheckpoint)
        # Pooled connections opened before now still checkpoint on their own: replace them.
        self.engine.dispose(close=True)
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="wal-checkpoints", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread after one last checkpoint; new connections checkpoint on their own."""
        if self._thread is None:
            return
        self._stop.set()
        self._thread.join()
        self._thread = None
        event.remove(self.engine, "connect", _no_autocheckpoint)
        self.engine.dispose(close=True)

    def checkpoint(self) -> None:
        with self.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        self.checkpoints += 1

    def _run(self) -> None:
        while True:
            stopping = self._stop.wait(self.every)
            try:
                self.checkpoint()
            except Exception:  # noqa: BLE001 - the next round tries again; the log says why
                log.warning("WAL checkpoint failed; trying again shortly", exc_info=True)
            if stopping:
                return
