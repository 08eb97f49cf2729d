"""The engine's storage: the SQL of begins, records, leases and give-backs.

The publishing loop (scheduler.engine) decides when; these functions say what is written, each
in the caller's transaction, so the loop can put several of them in one commit. The hot path
uses Core statements on the tables; the rarer outcomes use the ORM.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from sqlalchemy import (
    JSON,
    Connection,
    Engine,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    case,
    column,
    exists,
    func,
    insert,
    select,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session

from channels.base import Published
from content.domain.states import (
    UNCLAIMED,
    ChannelStatus,
    PostStatus,
    PublicationState,
    move_publication,
    publication_moves,
    transition,
)
from content.queueing.settle import finish_post
from content.storage.models import Attempt, Channel, Post, Publication
from content.storage.notices import NoticeKind, add_notice
from scheduler.claims import CLAIMABLE

COLLECT_FIRST = timedelta(hours=1)
# The tables themselves, for the bulk statements of the hot path.
PUBLICATIONS = cast(Table, Publication.__table__)
ATTEMPTS = cast(Table, Attempt.__table__)
POSTS = cast(Table, Post.__table__)

# A sent publication's row: (publication id, remote id, remote URL, progress).
SentRow = tuple[int, str, str | None, Any]
# A publication to begin: (id, due time as claimed, when its request starts).
BeginRow = tuple[int, datetime, datetime]


class Writer(Protocol):
    """The writes of the engine's hot path, on one backend (APScheduler's data store, for
    these three): SQLite's in one transaction (SqlWriter), PostgreSQL's one statement each
    (scheduler.datastore_pg)."""

    def begin(
        self, worker: str, lease: timedelta, rows: Sequence[BeginRow], now: datetime
    ) -> dict[int, int]:
        """Mark the publications SENDING, if `worker` still holds them at their due time
        (else leave them), and add their attempts; returns publication id -> attempt id."""
        ...

    def record_sent(
        self,
        rows: list[SentRow],
        attempts: Mapping[int, int],
        posts: Mapping[int, int | None],
        now: datetime,
    ) -> set[int]:
        """As record_sent_rows."""
        ...

    def unclaim(self, worker: str, ids: list[int]) -> None:
        """As unclaim."""
        ...


@contextmanager
def open_writer(database: Engine) -> Iterator[Writer]:
    """A writer whose writes are committed together when the block ends (SQLite's; on
    PostgreSQL, scheduler.store keeps a connection for PgWriter instead)."""
    # A connection, not a session: Core statements only, made every few sends.
    with database.begin() as connection:
        yield SqlWriter(connection)


class SqlWriter:
    """The hot path's writes as Core statements in the transaction of `connection`."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def begin(
        self, worker: str, lease: timedelta, rows: Sequence[BeginRow], now: datetime
    ) -> dict[int, int]:
        numbers = begin(self.connection, worker, lease, [(r[0], r[1]) for r in rows], now)
        begun = [row for row in rows if row[0] in numbers]
        if not begun:
            return {}
        attempt_ids = add_attempts(
            self.connection, worker, [(row[0], numbers[row[0]], row[2]) for row in begun]
        )
        return {row[0]: attempt_id for row, attempt_id in zip(begun, attempt_ids, strict=True)}

    def record_sent(
        self,
        rows: list[SentRow],
        attempts: Mapping[int, int],
        posts: Mapping[int, int | None],
        now: datetime,
    ) -> set[int]:
        return record_sent_rows(self.connection, rows, attempts, posts, now)

    def unclaim(self, worker: str, ids: list[int]) -> None:
        unclaim(self.connection, worker, ids)


def unclaim(connection: Connection, worker: str, ids: list[int]) -> None:
    """Give back publications `worker` claimed and has not begun."""
    table = PUBLICATIONS
    connection.execute(
        update(table)
        .where(
            table.c.id.in_(ids),
            table.c.claimed_by == worker,
            table.c.state.in_(CLAIMABLE),
        )
        .values(**UNCLAIMED)
    )


def begin(
    connection: Connection,
    worker: str,
    lease: timedelta,
    due: Sequence[tuple[int, datetime]],
    now: datetime,
) -> dict[int, int]:
    """Mark the publications `due` (id, due time as claimed) SENDING, if still claimed by
    `worker` at that due time; returns their ids with their attempts' numbers."""
    table = PUBLICATIONS
    # Matched on the due time too: one moved to another time after it was claimed ahead is
    # not due now after all.
    rows = connection.execute(
        update(table)
        .where(
            tuple_(table.c.id, table.c.due_at).in_(list(due)),
            table.c.claimed_by == worker,
            table.c.state.in_(CLAIMABLE),
        )
        .values(
            **publication_moves(CLAIMABLE, PublicationState.SENDING),
            attempts=table.c.attempts + 1,
            lease_until=now + lease,
            updated_at=now,
        )
        .returning(table.c.id, table.c.attempts)
    ).all()
    return {int(row[0]): int(row[1]) for row in rows}


def add_attempts(
    connection: Connection, worker: str, attempts: Sequence[tuple[int, int, datetime]]
) -> list[int]:
    """Add the attempts (publication id, number, started at); returns their ids in order."""
    return list(
        connection.scalars(
            insert(ATTEMPTS).returning(ATTEMPTS.c.id, sort_by_parameter_order=True),
            [
                {
                    "publication_id": publication_id,
                    "number": number,
                    "worker": worker,
                    "started_at": started_at,
                }
                for publication_id, number, started_at in attempts
            ],
        ).all()
    )


def record_sent_rows(
    connection: Connection,
    rows: list[SentRow],
    attempts: Mapping[int, int],
    posts: Mapping[int, int | None],
    now: datetime,
) -> set[int]:
    """mark_sent for many publications in one statement each for the publications, their
    attempts (`attempts`: publication id -> attempt id) and their posts; returns the ids of
    those that were still SENDING and are now SENT."""
    sent_values = sent_row_values(now)
    if connection.dialect.name == "postgresql":
        updated = _mark_sent_rows_pg(connection, rows, sent_values)
    else:
        updated = _mark_sent_rows(connection, rows, sent_values)
    done = [attempts[publication_id] for publication_id in attempts if publication_id in updated]
    if done:
        connection.execute(
            update(ATTEMPTS)
            .where(ATTEMPTS.c.id.in_(done))
            .values(finished_at=now, outcome="sent", error=None)
        )
    finish_posts(
        connection,
        {
            post_id
            for publication_id, post_id in posts.items()
            if publication_id in updated and post_id is not None
        },
    )
    return updated


def sent_row_values(now: datetime) -> dict[str, Any]:
    """The values every row recorded as sent takes, beside its own remote id, URL, progress."""
    return {
        **publication_moves([PublicationState.SENDING], PublicationState.SENT),
        "sent_at": now,
        "last_error": None,
        "next_collect_at": now + COLLECT_FIRST,
        "collect_stage": 0,
        "updated_at": now,
    }


def _mark_sent_rows(
    connection: Connection, rows: list[SentRow], values: dict[str, Any]
) -> set[int]:
    """Set SENT (with each row's remote id, URL and progress) on those of the rows still
    SENDING, in one statement; returns their ids."""
    table = PUBLICATIONS

    def each(column: Any, position: int) -> Any:
        return case(
            {row[0]: type_coerce(row[position], column.type) for row in rows},
            value=table.c.id,
            else_=column,
        )

    return set(
        connection.scalars(
            update(table)
            .where(
                table.c.id.in_([row[0] for row in rows]), table.c.state == PublicationState.SENDING
            )
            .values(
                remote_id=each(table.c.remote_id, 1),
                remote_url=each(table.c.remote_url, 2),
                progress=each(table.c.progress, 3),
                **values,
            )
            .returning(table.c.id)
        )
    )


def _mark_sent_rows_pg(
    connection: Connection, rows: list[SentRow], values: dict[str, Any]
) -> set[int]:
    """As _mark_sent_rows, with the rows as arrays: one statement of one shape whatever their
    number, which PostgreSQL prepares once (a CASE per row would be parsed and planned anew)."""
    from sqlalchemy.dialects.postgresql import ARRAY  # here: SQLite workers need not load it

    table = PUBLICATIONS
    given = (
        func.unnest(
            bindparam("ids", type_=ARRAY(Integer)),
            bindparam("remote_ids", type_=ARRAY(String)),
            bindparam("urls", type_=ARRAY(String)),
            bindparam("progress", type_=ARRAY(Text)),
        )
        .table_valued(
            column("id", Integer),
            column("remote_id", String),
            column("remote_url", String),
            column("progress", Text),
        )
        .render_derived()
    )
    statement = (
        update(table)
        .where(table.c.id == given.c.id, table.c.state == PublicationState.SENDING)
        .values(
            remote_id=given.c.remote_id,
            remote_url=given.c.remote_url,
            progress=func.coalesce(sql_cast(given.c.progress, JSON), table.c.progress),
            **values,
        )
        .returning(table.c.id)
    )
    return set(
        connection.scalars(
            statement,
            {
                "ids": [row[0] for row in rows],
                "remote_ids": [row[1] for row in rows],
                "urls": [row[2] for row in rows],
                "progress": [None if row[3] is None else json.dumps(row[3]) for row in rows],
            },
        )
    )


def not_sent_count(session: Session, publication_id: int) -> int:
    """How many of the publication's latest attempts in a row were not sent."""
    outcomes = session.scalars(
        select(Attempt.outcome)
        .where(Attempt.publication_id == publication_id)
        .order_by(Attempt.number.desc())
    )
    count = 0
    for outcome in outcomes:
        if outcome != "not_sent":
            break
        count += 1
    return count


def merged(progress: Mapping[str, Any] | None, extra: Mapping[str, Any]) -> Any:
    if not extra:
        return progress
    return {**(progress or {}), **extra}


def save_progress(session: Session, publication_id: int, progress: Mapping[str, Any]) -> None:
    publication = session.get_one(Publication, publication_id)
    publication.progress = {**(publication.progress or {}), **progress}


def finish_attempt(
    session: Session, attempt_id: int, now: datetime, outcome: str, error: str | None = None
) -> None:
    attempt = session.get_one(Attempt, attempt_id)
    attempt.finished_at = now
    attempt.outcome = outcome
    attempt.error = error


def finish_posts(connection: Connection, post_ids: set[int]) -> None:
    """Queued posts none of whose publications is left to send are done."""
    if not post_ids:
        return
    transition(PostStatus.QUEUED, PostStatus.DONE)
    posts, publications = POSTS, PUBLICATIONS
    unsent = exists().where(
        publications.c.post_id == posts.c.id,
        publications.c.state.not_in((PublicationState.SENT, PublicationState.CANCELLED)),
    )
    connection.execute(
        update(posts)
        .where(posts.c.id.in_(post_ids), posts.c.status == PostStatus.QUEUED, ~unsent)
        .values(status=PostStatus.DONE)
    )


def mark_sent(
    session: Session, publication: Publication, published: Published, now: datetime
) -> None:
    """Record where a publication landed, and finish its post when nothing is left to send."""
    move_publication(publication, PublicationState.SENT)
    publication.remote_id = published.remote_id
    publication.remote_url = published.url
    publication.sent_at = now
    publication.last_error = None
    if published.extra:
        publication.progress = {**(publication.progress or {}), **published.extra}
    publication.next_collect_at = now + COLLECT_FIRST
    publication.collect_stage = 0
    finish_post(publication.post)


def fail(session: Session, publication: Publication, reason: str) -> None:
    """The publication failed for good: staff are told why."""
    move_publication(publication, PublicationState.FAILED)
    publication.last_error = reason
    add_notice(
        session,
        NoticeKind.PUBLICATION_FAILED,
        publication_id=publication.id,
        channel_id=publication.channel_id,
        reason=reason,
    )


def expire_channel(session: Session, channel_id: int, reason: str) -> None:
    """Mark a channel's credentials dead (once) and tell staff."""
    channel = session.get_one(Channel, channel_id, with_for_update=True)
    if channel.status is ChannelStatus.AUTH_EXPIRED:
        return
    channel.status = transition(channel.status, ChannelStatus.AUTH_EXPIRED)
    channel.status_reason = reason
    add_notice(
        session,
        NoticeKind.CHANNEL_AUTH_EXPIRED,
        organization_id=channel.organization_id,
        channel_id=channel.id,
        reason=reason,
    )
