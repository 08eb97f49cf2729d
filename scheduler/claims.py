"""Claiming due publications with leases, so workers never take the same one.

PostgreSQL locks candidate rows with `FOR UPDATE SKIP LOCKED`, so any number of workers can claim
concurrently; SQLite serialises writers and Afisha runs one worker on it (see worker_lock).
"""

from __future__ import annotations

from collections.abc import Callable
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
    per_channel = limit if capacity is None else None
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
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.id, ranked.c.channel_id)
        .where(ranked.c.rank <= (per_channel or limit))
        .order_by(ranked.c.due_at, ranked.c.id)
        .limit(limit * 4 if capacity else limit)
    ).all()
    chosen: list[int] = []
    budget: dict[int, int] = {}
    for publication_id, channel_id in rows:
        if channel_id not in budget:
            budget[channel_id] = capacity(channel_id) if capacity else limit
        if budget[channel_id] > 0:
            budget[channel_id] -= 1
            chosen.append(publication_id)
            if len(chosen) == limit:
                break
    if not chosen:
        return []
    locked = list(
        session.scalars(
            select(Publication.id)
            .where(Publication.id.in_(chosen), _due(now))
            .with_for_update(skip_locked=True)
        )
    )
    if locked:
        session.execute(
            update(Publication)
            .where(Publication.id.in_(locked))
            .values(claimed_by=worker, lease_until=now + lease)
            .execution_options(synchronize_session=False)
        )
    return locked


def next_due(session: Session) -> datetime | None:
    """When the earliest waiting publication of an active channel falls due."""
    return session.scalar(
        select(func.min(Publication.due_at))
        .join(Channel, Channel.id == Publication.channel_id)
        .where(Publication.state.in_(CLAIMABLE), Channel.status == ChannelStatus.ACTIVE)
    )
