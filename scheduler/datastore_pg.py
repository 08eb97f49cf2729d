"""PostgreSQL's writes of the hot path: a batch's begin, and its sends' record, one statement each.

Each is a single statement with the batch as arrays (`unnest`), run on the driver's connection
in autocommit: one round trip, and a statement of one shape whatever the batch's size, which
psycopg prepares once (SQLAlchemy's Core would compile, and process the rows of, each statement
anew: half the engine's database time in the burst profile, bench/PROFILING.md). A statement in
autocommit is a transaction of its own: the begin is committed when it returns, before any of
its requests. The state columns are written as content.domain.states.publication_moves says.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from enum import Enum
from typing import Any, cast

from sqlalchemy import Table

from content.domain.states import (
    UNCLAIMED,
    ChannelStatus,
    Platform,
    PostStatus,
    PublicationState,
    publication_moves,
    transition,
)
from content.storage.models import WAITING_SQL, Channel
from scheduler.claims import CLAIMABLE
from scheduler.datastore import COLLECT_FIRST, BeginRow, SentRow


def _assignments(values: Mapping[str, Any]) -> str:
    """`column = literal` for the constant values of a move (states, NULLs)."""

    def literal(value: Any) -> str:
        if value is None:
            return "NULL"
        assert isinstance(value, Enum), value  # only the module's own constants
        return f"'{value.value}'"

    return ", ".join(f"{name} = {literal(value)}" for name, value in values.items())


def _states(states: Sequence[PublicationState]) -> str:
    return ", ".join(f"'{state.value}'" for state in states)


S = PublicationState
CHANNELS = cast(Table, Channel.__table__)
_BEGIN = f"""
WITH due AS (
    SELECT * FROM unnest(%(ids)s::integer[], %(due_ats)s::timestamptz[],
        %(starts)s::timestamptz[]) AS d(id, due_at, started_at)
), begun AS (
    UPDATE publication AS p
    SET {_assignments(publication_moves(CLAIMABLE, S.SENDING))}, attempts = p.attempts + 1,
        lease_until = %(lease_until)s, updated_at = %(now)s
    FROM due AS d
    WHERE p.id = d.id AND p.due_at = d.due_at AND p.claimed_by = %(worker)s
        AND p.state IN ({_states(CLAIMABLE)})
    RETURNING p.id, p.attempts, d.started_at
)
INSERT INTO attempt (publication_id, number, worker, started_at)
SELECT id, attempts, %(worker)s, started_at FROM begun
RETURNING publication_id, id
"""  # noqa: S608 - the module's constants; every value is a bound parameter

transition(PostStatus.QUEUED, PostStatus.DONE)
_RECORD = f"""
WITH given AS (
    SELECT * FROM unnest(%(ids)s::integer[], %(remote_ids)s::varchar[], %(urls)s::varchar[],
        %(progress)s::text[], %(attempts)s::integer[])
        AS g(id, remote_id, remote_url, progress, attempt_id)
), sent AS (
    UPDATE publication AS p
    SET {_assignments(publication_moves([S.SENDING], S.SENT))}, last_error = NULL,
        collect_stage = 0, remote_id = g.remote_id, remote_url = g.remote_url,
        progress = coalesce(g.progress::json, p.progress), sent_at = %(now)s,
        next_collect_at = %(collect_at)s, updated_at = %(now)s
    FROM given AS g
    WHERE p.id = g.id AND p.state = '{S.SENDING.value}'
    RETURNING p.id, p.post_id, g.attempt_id
), finished AS (
    UPDATE attempt AS a SET finished_at = %(now)s, outcome = 'sent', error = NULL
    FROM sent AS s WHERE a.id = s.attempt_id
), done AS (
    -- Queued posts none of whose publications is left to send (those sent by this statement
    -- are not SENT yet in its snapshot, so they are left out of the search).
    UPDATE post AS o SET status = '{PostStatus.DONE.value}'
    WHERE o.id IN (SELECT post_id FROM sent) AND o.status = '{PostStatus.QUEUED.value}'
        AND NOT EXISTS (
            SELECT 1 FROM publication AS q
            WHERE q.post_id = o.id AND q.state NOT IN ({_states([S.SENT, S.CANCELLED])})
                AND q.id NOT IN (SELECT id FROM sent)
        )
)
SELECT id FROM sent
"""  # noqa: S608 - the module's constants; every value is a bound parameter
_UNCLAIM = f"""
UPDATE publication SET {_assignments(UNCLAIMED)}
WHERE id = ANY(%(ids)s::integer[]) AND claimed_by = %(worker)s AND state IN ({_states(CLAIMABLE)})
"""  # noqa: S608 - the module's constants; every value is a bound parameter

_CHANNEL_COLUMNS = ", ".join(f"c.{c.name} AS channel_{c.name}" for c in CHANNELS.c)
# Claim and read in one statement: the rows due by `until`, earliest first, locked (rows another
# worker holds are skipped) and leased, with what composing them needs (claimed_rows' columns).
# Without rate limits to share out, no row is chosen over another, so no round of choosing
# (scheduler.claims) comes between the look and the lease.
_CLAIM = f"""
WITH picked AS (
    SELECT p.id FROM publication AS p JOIN channel AS c ON c.id = p.channel_id
    WHERE {WAITING_SQL} AND p.due_at <= %(until)s
        AND (p.lease_until IS NULL OR p.lease_until < %(now)s)
        AND c.status = '{ChannelStatus.ACTIVE.value}'
    ORDER BY p.due_at, p.id
    LIMIT %(limit)s
    FOR UPDATE OF p SKIP LOCKED
), claimed AS (
    UPDATE publication AS p SET claimed_by = %(worker)s, lease_until = %(lease_until)s
    FROM picked WHERE p.id = picked.id
    RETURNING p.id, p.due_at, p.post_id, p.event_id, p.progress, p.share_mode, p.channel_id
)
SELECT k.id, k.due_at, k.post_id, k.event_id, k.progress, k.share_mode, o.text, o.variants, o.link,
    EXISTS (SELECT 1 FROM post_media AS m WHERE m.post_id = k.post_id) AS has_images,
    {_CHANNEL_COLUMNS}
FROM claimed AS k JOIN channel AS c ON c.id = k.channel_id LEFT JOIN post AS o ON o.id = k.post_id
ORDER BY k.due_at, k.id
"""  # noqa: S608 - the module's constants; every value is a bound parameter


class PgWriter:
    """The hot path's writes on a psycopg connection in autocommit mode."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection  # psycopg.Connection (the driver's, under SQLAlchemy's)

    def begin(
        self, worker: str, lease: timedelta, rows: Sequence[BeginRow], now: datetime
    ) -> dict[int, int]:
        if not rows:
            return {}
        result = self.connection.execute(
            _BEGIN,
            {
                "ids": [row[0] for row in rows],
                "due_ats": [row[1] for row in rows],
                "starts": [row[2] for row in rows],
                "lease_until": now + lease,
                "now": now,
                "worker": worker,
            },
        )
        return {int(publication_id): int(attempt_id) for publication_id, attempt_id in result}

    def record_sent(
        self,
        rows: list[SentRow],
        attempts: Mapping[int, int],
        posts: Mapping[int, int | None],
        now: datetime,
    ) -> set[int]:
        if not rows:
            return set()
        result = self.connection.execute(
            _RECORD,
            {
                "ids": [row[0] for row in rows],
                "remote_ids": [row[1] for row in rows],
                "urls": [row[2] for row in rows],
                "progress": [None if row[3] is None else json.dumps(row[3]) for row in rows],
                "attempts": [attempts[row[0]] for row in rows],
                "now": now,
                "collect_at": now + COLLECT_FIRST,
            },
        )
        return {int(publication_id) for (publication_id,) in result}

    def claim(
        self, worker: str, now: datetime, until: datetime, lease: timedelta, limit: int
    ) -> list[dict[str, Any]]:
        """Lease up to `limit` publications due by `until` to `worker`, earliest first; returns
        them as claimed_rows.claimed_from reads them."""
        from psycopg.rows import dict_row

        cursor = self.connection.cursor(row_factory=dict_row)
        rows = cursor.execute(
            _CLAIM,
            {
                "until": until,
                "now": now,
                "limit": limit,
                "worker": worker,
                "lease_until": now + lease,
            },
        ).fetchall()
        for row in rows:  # as SQLAlchemy's column types would give them
            row["channel_platform"] = Platform(row["channel_platform"])
            row["channel_status"] = ChannelStatus(row["channel_status"])
        return list(rows)

    def unclaim(self, worker: str, ids: list[int]) -> None:
        self.connection.execute(_UNCLAIM, {"ids": ids, "worker": worker})
