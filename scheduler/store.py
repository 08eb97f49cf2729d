"""The engine's storage as its loop sees it: jobs begun, sends recorded, claims taken and given
back, each on a writer of the database's kind (scheduler.datastore, scheduler.datastore_pg).

On PostgreSQL the writes run in a thread (the loop awaits them: psycopg waits for the server
without the GIL, so the sends go on meanwhile) on one connection kept while a publish_due call
lasts; on SQLite they are quick and local, and stay on the event loop in a transaction each.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from channels.base import Published
from scheduler.datastore import Writer, merged, open_writer
from scheduler.datastore_pg import PgWriter
from scheduler.jobs import Job

Sent = tuple[Job, int, Published]


class JobStore:
    """One worker's begins, records and claims."""

    def __init__(self, database: Engine, worker: str, lease: timedelta) -> None:
        self.database = database
        self.worker = worker
        self.lease = lease
        self.offload = database.dialect.name == "postgresql"
        self._held: Connection | None = None

    @contextmanager
    def writer(self) -> Iterator[Writer]:
        """A writer; on PostgreSQL, on the connection kept (made again after an error)."""
        if not self.offload:
            with open_writer(self.database) as writer:
                yield writer
            return
        if self._held is None:
            held = self.database.connect()
            # One statement per write, each committed by itself (see datastore_pg).
            self._held = held.execution_options(isolation_level="AUTOCOMMIT")
        try:
            yield PgWriter(self._held.connection.driver_connection)
        except Exception:
            self.close(invalidate=True)
            raise

    def close(self, *, invalidate: bool = False) -> None:
        """Give the kept connection back (a broken one is thrown away)."""
        held, self._held = self._held, None
        if held is not None:
            if invalidate:
                held.invalidate()
            held.close()

    def claim_rows(self, limit: int, until: datetime, now: datetime) -> list[dict[str, Any]]:
        """PostgreSQL's one-statement claim (PgWriter.claim)."""
        with self.writer() as writer:
            assert isinstance(writer, PgWriter)
            return writer.claim(self.worker, now, until, self.lease, limit)

    def begin(
        self, writer: Writer, jobs: list[Job], now: datetime
    ) -> tuple[list[tuple[Job, int]], list[Job]]:
        """Mark `jobs` SENDING and add their attempts. A job whose publication was changed
        since its claim (cancelled, paused, moved to another time, taken back) is dropped, and
        given back if it is still ours. Returns (the jobs begun with their attempts, those
        dropped)."""
        if not jobs:
            return [], []
        # A job begun ahead starts its request at its due moment.
        attempt_ids = writer.begin(
            self.worker,
            self.lease,
            [(j.publication_id, j.due_at, max(now, j.due_at)) for j in jobs],
            now,
        )
        begun = [
            (j, attempt_ids[j.publication_id]) for j in jobs if j.publication_id in attempt_ids
        ]
        lost = [job for job in jobs if job.publication_id not in attempt_ids]
        if lost:
            writer.unclaim(self.worker, [job.publication_id for job in lost])
        return begun, lost

    def record_sent(
        self, writer: Writer, sent: list[Sent], checkpointed: set[int], now: datetime
    ) -> list[Sent]:
        """mark_sent for many publications together. Returns those left for mark_sent itself:
        rows no longer SENDING (a person or recovery changed them meanwhile), or whose progress
        was saved during their send (`checkpointed`)."""
        quick = [item for item in sent if item[0].publication_id not in checkpointed]
        updated: set[int] = set()
        if quick:
            rows = [
                (
                    job.publication_id,
                    published.remote_id,
                    published.url,
                    merged(job.progress, published.extra),
                )
                for job, _, published in quick
            ]
            attempts: Mapping[int, int] = {job.publication_id: a for job, a, _ in quick}
            posts = {job.publication_id: job.post_id for job, _, _ in quick}
            updated = writer.record_sent(rows, attempts, posts, now)
        return [item for item in sent if item[0].publication_id not in updated]
