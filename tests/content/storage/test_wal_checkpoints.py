"""WAL checkpoints taken off the connections that commit, onto a thread of their own."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine

from content.storage.db import make_engine
from content.storage.wal_checkpoints import BackgroundCheckpoints, applies

# More than SQLite's automatic checkpoint threshold (1,000 pages of 4 KiB) in one commit.
ROWS, ROW_BYTES = 300, 16_000


def _autocheckpoint(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())


def test_commits_leave_the_checkpoint_to_the_thread_until_it_stops(tmp_path: Path) -> None:
    path = tmp_path / "afisha.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.exec_driver_sql("CREATE TABLE t (x BLOB)")
    assert _autocheckpoint(engine) == 1000  # SQLite's default: the committing connection's job
    checkpoints = BackgroundCheckpoints(engine, every=3600)  # only the last one, at stop
    checkpoints.start()
    assert _autocheckpoint(engine) == 0
    with engine.begin() as connection:
        for _ in range(ROWS):
            connection.exec_driver_sql(f"INSERT INTO t VALUES (randomblob({ROW_BYTES}))")
    in_log_only = path.stat().st_size
    assert in_log_only < ROWS * ROW_BYTES / 10  # the commit did not copy the log back
    checkpoints.stop()
    assert checkpoints.checkpoints == 1
    assert path.stat().st_size > ROWS * ROW_BYTES  # the thread's last checkpoint did
    assert _autocheckpoint(engine) == 1000  # and new connections checkpoint on their own again
    engine.dispose()


def test_only_a_sqlite_file_has_checkpoints() -> None:
    assert applies(make_engine("sqlite:///afisha.db"))
    assert not applies(make_engine("sqlite://"))
    postgres = make_engine("postgresql+psycopg://postgres@127.0.0.1:5432/test")
    assert not applies(postgres)
    with pytest.raises(ValueError, match="SQLite database file"):
        BackgroundCheckpoints(postgres)
