"""Claiming due publications with leases, so workers never take the same one.

PostgreSQL locks candidate rows with `FOR UPDATE SKIP LOCKED`, so any number of workers can claim
concurrently; SQLite serialises writers and Afisha runs one worker on it (see worker_lock).
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from content.models import Channel, Publication
from content.states import ChannelStatus, PublicationState

CLAIMABLE = (PublicationState.SCHEDULED, PublicationState.RETRY_WAIT)


def _due(now: datetime) -> ColumnElement[bool]:
    return and_(
        Publication.state.in_(CLAIMABLE),
        Publication.due_at <= now,
        or_(Publication.lease_until.is_(None), Publication.lease_until < now),
    )


def claim_due(
    session: Session,
    worker: str,
    now: datetime,
    lease: timedelta,
    limit: int,
    capacity: Callable[[int], int] | None = None,
) -> list[int]:
    """Lease up to `limit` due publications of active channels to `worker`; returns their ids.

    `capacity(channel_id)` says how many sends a channel may start now (its rate limits); a
    channel at its limit is skipped so its backlog does not hold up the others.
    """
    if limit <= 0:
        return []
    claimed: list[int] = []
    tried: set[int] = set()
    budget: dict[int, int] = {}
    # Another worker may hold locks on the same first candidates: SKIP LOCKED passes over them,
    # and the next round looks further down the queue.
    for _round in range(4):
        wanted = limit - len(claimed)
        rows = _candidates(session, now, wanted, tried, spare=4 if capacity else 1)
        chosen: list[int] = []
        for publication_id, channel_id in rows:
            if channel_id not in budget:
                budget[channel_id] = capacity(channel_id) if capacity else limit
            if budget[channel_id] > 0 and len(chosen) < wanted:
                budget[channel_id] -= 1
                chosen.append(publication_id)
        if not chosen:
            break
        tried.update(chosen)
        locked = list(
            session.scalars(
                select(Publication.id)
                .where(Publication.id.in_(chosen), _due(now))
                .with_for_update(skip_locked=True)
            )
        )
        for publication_id, channel_id in rows:
            if publication_id in chosen and publication_id not in locked:
                budget[channel_id] += 1  # not ours after all: the channel's share is unused
        claimed += locked
        if len(claimed) >= limit or len(rows) < wanted:
            break
    if claimed:
        session.execute(
            update(Publication)
            .where(Publication.id.in_(claimed))
            .values(claimed_by=worker, lease_until=now + lease)
            .execution_options(synchronize_session=False)
        )
    return claimed


def _candidates(
    session: Session, now: datetime, wanted: int, tried: set[int], spare: int
) -> list[tuple[int, int]]:
    """Due publications, earliest first, at most `wanted` per channel, skipping `tried`."""
    ranked = (
        select(
            Publication.id,
            Publication.channel_id,
            Publication.due_at,
            func.row_number()
            .over(
                partition_by=Publication.channel_id, order_by=(Publication.due_at, Publication.id)
            )
            .label("rank"),
        )
        .join(Channel, Channel.id == Publication.channel_id)
        .where(_due(now), Channel.status == ChannelStatus.ACTIVE)
    )
    if tried:
        ranked = ranked.where(Publication.id.not_in(tried))
    subquery = ranked.subquery()
    rows = session.execute(
        select(subquery.c.id, subquery.c.channel_id)
        .where(subquery.c.rank <= wanted)
        .order_by(subquery.c.due_at, subquery.c.id)
        .limit(wanted * spare)
    ).all()
    return [(row[0], row[1]) for row in rows]


def next_due(session: Session, excluding: Collection[int] = ()) -> datetime | None:
    """When the earliest waiting publication of an active channel falls due (leaving out the
    channels in `excluding`, e.g. those waiting for their rate limit)."""
    query = (
        select(func.min(Publication.due_at))
        .join(Channel, Channel.id == Publication.channel_id)
        .where(Publication.state.in_(CLAIMABLE), Channel.status == ChannelStatus.ACTIVE)
    )
    if excluding:
        query = query.where(Publication.channel_id.not_in(list(excluding)))
    return session.scalar(query)
