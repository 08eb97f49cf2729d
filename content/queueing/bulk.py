"""Queueing many text posts at once (an import, a campaign): checked one by one, written in bulk.

`queue_post` flushes each post through the ORM unit of work, about a millisecond a post; 20,000
posts then take many seconds. Here every post is checked as `queue_post` checks it (text, time,
channels, the platforms' limits) before anything is written. Then the posts' ids are reserved, so
no row has to be read back, and the rows go to the driver in two bulk writes in the caller's
transaction (COPY on PostgreSQL), every column filled as the ORM's defaults would fill it.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import repeat
from typing import Any, NamedTuple, cast

import psycopg
from psycopg import sql
from sqlalchemy import JSON, Column, Connection, Dialect, Table, func, insert, select, text
from sqlalchemy.orm import Session

from content.domain.characters import check_characters, visible
from content.domain.rules import fit_problems
from content.domain.states import PostStatus, PublicationKind, PublicationState, transition
from content.errors import InvalidInput
from content.storage.models import Channel, Organization, Post, Publication
from content.storage.orm_base import utcnow
from content.storage.registry import audit, reachable_channel

_POSTS = cast(Table, Post.__table__)
_PUBLICATIONS = cast(Table, Publication.__table__)
_CHANNELS = cast(Table, Channel.__table__)
# A PostgreSQL import of at least this many posts refreshes the planner's statistics.
ANALYZE_FROM = 1000


@dataclass(frozen=True)
class BulkPost:
    """One text post of a bulk queueing: no images (those go through `queue_post`)."""

    text: str
    channels: Sequence[str]
    due_at: datetime
    link: str | None = None
    variants: dict[str, str] | None = None
    author_id: int | None = None


class _Checked(NamedTuple):
    """A post that passed the checks, with its text stripped and its channels found."""

    post: BulkPost
    text: str
    variants: dict[str, str]
    channels: list[Channel]


class _Rows(NamedTuple):
    """Rows for one table, column by column: `varying` holds a list per column, one value a
    row; `same` holds the columns whose value is the same in every row, once."""

    varying: dict[str, list[Any]]
    same: dict[str, Any]


def queue_many(
    session: Session, org: Organization, posts: Sequence[BulkPost], actor: str
) -> list[int]:
    """Queue every post with one publication per channel; returns the posts' ids in order.

    Raises:
        InvalidInput: naming the first post that cannot be queued; nothing is written.
        NotFound: a channel name is unknown; nothing is written.
    """
    # The library's own channels; a member library's are looked up (and kept) when named.
    known = {
        c.name: c for c in session.scalars(select(Channel).where(Channel.organization_id == org.id))
    }
    checked = [
        _check(session, org, known, number, new) for number, new in enumerate(posts, start=1)
    ]
    if not checked:
        return []
    audit(
        session,
        org,
        actor,
        "post.queue_many",
        None,
        posts=len(checked),
        channels=sorted({c.name for one in checked for c in one.channels}),
        first_due=min(p.due_at for p in posts).isoformat(),
        last_due=max(p.due_at for p in posts).isoformat(),
    )
    session.flush()  # before the ids are reserved: on SQLite, this first write takes the lock
    post_ids = _reserve_post_ids(session, len(checked))
    now = utcnow()
    connection = session.connection()
    _insert(connection, _POSTS, _post_rows(org, checked, post_ids, now))
    publications = _publication_rows(checked, post_ids, now)
    _insert(connection, _PUBLICATIONS, publications)
    if connection.dialect.name == "postgresql" and len(checked) >= ANALYZE_FROM:
        _analyze(connection)
    return post_ids


def _analyze(connection: Connection) -> None:
    """Give PostgreSQL's planner fresh statistics after a large import.

    Rows that COPY brings are not in the statistics until autovacuum's next analyse (a minute
    or more away; never, for a table of a few channels). Until then the planner takes the
    tables for nearly empty, and the engine's claim read every waiting publication of every
    channel and sorted them instead of reading the head of its index: 12 ms instead of 0.7 ms
    per claim with 3,000 waiting, growing with the queue (bench/PROFILING.md).
    """
    connection.exec_driver_sql(f"ANALYZE {_PUBLICATIONS.name}, {_CHANNELS.name}")


def _check(
    session: Session, org: Organization, known: dict[str, Channel], number: int, new: BulkPost
) -> _Checked:
    """`new` as it will be queued, or InvalidInput naming it by `number`."""
    text = new.text.strip()
    if not visible(text):
        raise InvalidInput("post {number} has no text", number=number)
    check_characters(new.text)
    if new.due_at.tzinfo is None:
        raise InvalidInput("post {number}: its time has no time zone", number=number)
    names = list(dict.fromkeys(n.strip() for n in new.channels if n.strip()))
    if not names:
        raise InvalidInput("post {number}: choose at least one channel", number=number)
    for name in names:
        if name not in known:
            known[name] = reachable_channel(session, name, org)
    chosen = [known[name] for name in names]
    variants = dict(new.variants or {})
    problems = [
        problem
        for channel in chosen
        for problem in fit_problems(
            channel.platform, str(variants.get(channel.language) or text), 0, channel.name
        )
    ]
    if problems:
        raise InvalidInput(
            "post {number}: {problems}",
            number=number,
            problems="; ".join(str(p) for p in problems),
        )
    return _Checked(new, text, variants, chosen)


def _reserve_post_ids(session: Session, count: int) -> list[int]:
    """`count` unused post ids, ascending, that no other transaction can take."""
    if session.get_bind().dialect.name == "sqlite":
        # SQLite has no sequences but one writer at a time: this transaction has written, so no
        # other can add a post before it commits, and the ids past the largest are free.
        largest = session.scalar(select(func.max(Post.id))) or 0
        return list(range(largest + 1, largest + count + 1))
    # PostgreSQL: the sequence hands each id out once, whatever other sessions insert meanwhile;
    # the ids need not be contiguous. Its name is looked up once (per row, the lookup costs more
    # than nextval), and one array is much cheaper to fetch than 20,000 rows.
    sequence = session.scalar(text("SELECT pg_get_serial_sequence('post', 'id')"))
    reserved = session.scalar(
        text("SELECT array(SELECT nextval(:sequence) FROM generate_series(1, :count))"),
        {"sequence": sequence, "count": count},
    )
    return sorted(reserved)


def _post_rows(
    org: Organization, checked: Sequence[_Checked], post_ids: list[int], now: datetime
) -> _Rows:
    varying: dict[str, list[Any]] = {
        "id": post_ids,
        "author_id": [one.post.author_id for one in checked],
        "text": [one.text for one in checked],
        "variants": [one.variants for one in checked],
        "link": [one.post.link for one in checked],
    }
    same = {
        "organization_id": org.id,
        "status": transition(PostStatus.DRAFT, PostStatus.QUEUED),
        "planned_channels": [],
        "created_at": now,
    }
    return _Rows(varying, same)


def _publication_rows(checked: Sequence[_Checked], post_ids: list[int], now: datetime) -> _Rows:
    targets = [
        (post_id, channel.id, one.post.due_at)
        for post_id, one in zip(post_ids, checked, strict=True)
        for channel in one.channels
    ]
    post_column, channel_column, due_column = map(list, zip(*targets, strict=True))
    varying = {"post_id": post_column, "channel_id": channel_column, "due_at": due_column}
    same = {
        "kind": PublicationKind.POST,
        "state": PublicationState.SCHEDULED,
        "attempts": 0,
        "collect_stage": 0,
        "updated_at": now,
    }
    return _Rows(varying, same)


def insert_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert plain rows, all with the same keys, the way `queue_many` does (for imports and
    benchmarks: no ORM events; a column's Python default fills the columns the rows omit)."""
    if not rows:
        return
    varying = {key: [row[key] for row in rows] for key in rows[0]}
    same = {}
    for column in table.c:
        default = column.default
        if column.key in varying or default is None or column.primary_key:
            continue
        if getattr(default, "is_scalar", False):
            same[column.key] = getattr(default, "arg", None)
        elif getattr(default, "is_callable", False):
            same[column.key] = default.arg(None)  # type: ignore[attr-defined]
    _insert(connection, table, _Rows(varying, same))


def _insert(connection: Connection, table: Table, rows: _Rows) -> None:
    """Insert `rows` (the columns they omit get NULL) straight through the driver: SQLAlchemy's
    executemany costs several times more a row than the database itself."""
    columns = _driver_columns(connection.dialect, table, rows)
    if connection.dialect.name == "sqlite":
        statement = insert(table).compile(dialect=connection.dialect, column_keys=list(columns))
        order = statement.positiontup or []
        # strict=False: the columns of `same` values repeat without end.
        values = list(zip(*(columns[name] for name in order), strict=False))
        connection.exec_driver_sql(str(statement), values)
        return
    # PostgreSQL: psycopg's executemany still sends a statement per row; COPY streams them all.
    copy_into = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.name), sql.SQL(", ").join(map(sql.Identifier, columns))
    )
    driver = cast("psycopg.Connection[Any]", connection.connection.driver_connection)
    with driver.cursor() as cursor, cursor.copy(copy_into) as copy:
        for row in zip(*columns.values(), strict=False):
            copy.write_row(row)


def _driver_columns(dialect: Dialect, table: Table, rows: _Rows) -> dict[str, Iterable[Any]]:
    """Each column's values as the driver takes them; a `same` value repeats endlessly."""
    columns: dict[str, Iterable[Any]] = {
        name: _converted(dialect, table.c[name], values) for name, values in rows.varying.items()
    }
    for name, value in rows.same.items():
        columns[name] = repeat(_convert(dialect, table.c[name])(value))
    return columns


def _converted(dialect: Dialect, column: Column[Any], values: list[Any]) -> list[Any]:
    """`values` as the driver takes them for `column`."""
    convert = _convert(dialect, column)
    if convert is _unchanged:
        return values
    if not isinstance(column.type, JSON):
        # Thousands of rows share a time: convert each distinct value once. (Dicts and lists,
        # JSON's values, cannot be remembered by value.)
        convert = functools.cache(convert)
    return list(map(convert, values))


def _convert(dialect: Dialect, column: Column[Any]) -> Callable[[Any], Any]:
    """How SQLAlchemy converts a value bound to `column` (enums to strings, times to UTC...)."""
    if isinstance(column.type, JSON) and dialect.name == "postgresql":
        # SQLAlchemy hands psycopg a Json wrapper that psycopg dumps with json.dumps (Afisha's
        # engines set no other serializer), microseconds a value; COPY takes the text as well.
        return json.dumps
    return column.type.dialect_impl(dialect).bind_processor(dialect) or _unchanged


def _unchanged(value: Any) -> Any:
    return value
