"""Claiming due publications with leases, so workers never take the same one.

PostgreSQL locks candidate rows with `FOR UPDATE SKIP LOCKED`, so any number of workers can claim
concurrently; SQLite serialises writers and Afisha runs one worker on it (see worker_lock).
Candidates come from the partial index of waiting publications in due order, so a claim costs
the same whether ten or a hundred thousand publications wait.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, text, update
from sqlalchemy.orm import Session

from content.domain.states import ChannelStatus, PublicationState
from content.storage.models import WAITING_SQL, Channel, Publication

CLAIMABLE = (PublicationState.SCHEDULED, PublicationState.RETRY_WAIT)
# The same condition as the partial index's, as literal SQL: PostgreSQL uses a partial index
# only when it can see that the query's condition implies the index's (a bound parameter,
# which a prepared statement's generic plan cannot see through, would hide it).
_WAITING = text(WAITING_SQL)
# Rounds of one claim: each looks further down the queue, past rows another worker holds and
# channels whose share is used up.
ROUNDS = 4


def _due(now: datetime, until: datetime | None = None) -> ColumnElement[bool]:
    return and_(
        _WAITING,
        Publication.due_at <= (until or now),
        or_(Publication.lease_until.is_(None), Publication.lease_until < now),
    )


def claim_due(
    session: Session,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    capacity: Callable[[int], int] | None = None,
    *,
    until: datetime | None = None,
    skip: Collection[int] = (),
) -> list[int]:
    """Lease up to `limit` publications due by `until` (default: now) to `worker`, earliest
    first; returns their ids.

    `capacity(channel_id)` says how many sends a channel may start now (its rate limits); a
    channel at its limit, like the channels in `skip`, is passed over so that its backlog does
    not hold up the others.
    """
    if limit <= 0:
        return []
    claimed: list[int] = []
    passed = set(skip)
    budget: dict[int, int] = {}
    for _round in range(ROUNDS):
        wanted = limit - len(claimed)
        fetch = wanted * 2 if capacity else wanted
        rows = _candidates(session, now, until, fetch, passed, claimed)
        chosen = 0
        for publication_id, channel_id in rows:
            if channel_id not in budget:
                budget[channel_id] = capacity(channel_id) if capacity else limit
            if budget[channel_id] <= 0:
                passed.add(channel_id)
            elif chosen < wanted:
                budget[channel_id] -= 1
                claimed.append(publication_id)
                chosen += 1
        if len(claimed) >= limit or len(rows) < fetch:
            break
    if claimed:
        session.connection().execute(
            update(Publication)
            .where(Publication.id.in_(claimed))
            .values(claimed_by=worker, lease_until=now + lease)
            .execution_options(synchronize_session=False)
        )
    return claimed


def _candidates(
    session: Session,
    now: datetime,
    until: datetime | None,
    count: int,
    passed: Collection[int],
    claimed: Collection[int],
) -> list[tuple[int, int]]:
    """Up to `count` claimable publications, earliest first, locked for this transaction (rows
    another worker holds are skipped), leaving out `passed` channels and `claimed` ids."""
    query = (
        select(Publication.id, Publication.channel_id)
        .join(Channel, Channel.id == Publication.channel_id)
        .where(_due(now, until), Channel.status == ChannelStatus.ACTIVE)
        .order_by(Publication.due_at, Publication.id)
        .limit(count)
        .with_for_update(skip_locked=True, of=Publication)
    )
    if passed:
        query = query.where(Publication.channel_id.not_in(list(passed)))
    if claimed:
        query = query.where(Publication.id.not_in(list(claimed)))
    return [(row[0], row[1]) for row in session.connection().execute(query)]


def next_due(session: Session, excluding: Collection[int] = ()) -> datetime | None:
    """When the earliest waiting publication of an active channel falls due (leaving out the
    channels in `excluding`, e.g. those waiting for their rate limit)."""
    query = (
        select(func.min(Publication.due_at))
        .join(Channel, Channel.id == Publication.channel_id)
        .where(_WAITING, Channel.status == ChannelStatus.ACTIVE)
    )
    if excluding:
        query = query.where(Publication.channel_id.not_in(list(excluding)))
    return session.scalar(query)
