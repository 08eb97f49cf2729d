"""Engagement collection on a decaying schedule after each publication is sent."""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.base import ChannelError, Metrics
from content.analytics.latest import record_snapshot
from content.domain.states import ChannelStatus, PublicationState
from content.storage.models import Channel, Publication
from scheduler.engine import Engine

log = logging.getLogger(__name__)

# About +1h, +6h, +24h, +3d, +7d, +30d after sending.
STAGES = (
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(hours=24),
    timedelta(days=3),
    timedelta(days=7),
    timedelta(days=30),
)
BATCH = 500


def next_collection(sent_at: datetime, now: datetime) -> tuple[int, datetime | None]:
    """The first stage still ahead of `now` (after downtime, skipped stages are not replayed)."""
    for stage, offset in enumerate(STAGES):
        if sent_at + offset > now:
            return stage, sent_at + offset
    return len(STAGES), None


def store_metrics(
    session: Session, publication: Publication, metrics: Metrics, collected_at: datetime
) -> bool:
    """Save a snapshot (and the publication's latest counts) unless the platform said nothing
    at all: unknown is not zero."""
    snapshot = record_snapshot(
        session,
        publication,
        collected_at,
        source=metrics.source or "api",
        reactions=metrics.reactions,
        comments=metrics.comments,
        shares=metrics.shares,
        views=metrics.views,
        reach=metrics.reach,
        saves=metrics.saves,
    )
    return snapshot is not None


async def collect_due(engine: Engine) -> int:
    """Read engagement for every publication whose collection is due; returns snapshots stored."""
    now = engine.clock.now()
    with engine.sessions.begin() as session:
        rows = session.execute(
            select(Publication.id, Publication.remote_id, Publication.channel_id)
            .join(Channel, Channel.id == Publication.channel_id)
            .where(
                Publication.state == PublicationState.SENT,
                Publication.next_collect_at <= now,
                Publication.remote_id.is_not(None),
                Channel.status == ChannelStatus.ACTIVE,
            )
            .order_by(Publication.next_collect_at)
            .limit(BATCH)
        ).all()
        by_channel: dict[int, list[tuple[int, str]]] = defaultdict(list)
        for publication_id, remote_id, channel_id in rows:
            by_channel[channel_id].append((publication_id, str(remote_id)))
        channels = {
            c.id: c for c in session.scalars(select(Channel).where(Channel.id.in_(by_channel)))
        }
        for channel in channels.values():
            session.expunge(channel)
    stored = 0
    for channel_id, items in by_channel.items():
        try:
            adapter = engine.channels(channels[channel_id])
            metrics = await adapter.fetch_engagement([remote for _, remote in items])
        except ChannelError as err:
            log.info("collecting engagement of channel %s failed: %s", channel_id, err.reason)
            continue  # stays due: the next round tries again
        with engine.sessions.begin() as session:
            for publication_id, remote_id in items:
                publication = session.get_one(Publication, publication_id)
                if remote_id in metrics and store_metrics(
                    session, publication, metrics[remote_id], now
                ):
                    stored += 1
                assert publication.sent_at is not None
                stage, due = next_collection(publication.sent_at, now)
                publication.collect_stage, publication.next_collect_at = stage, due
    return stored


def record_metrics(
    session: Session, publication: Publication, now: datetime, *, source: str, **values: int | None
) -> bool:
    """Store counts that arrived on their own (e.g. Telegram's reaction updates)."""
    metrics = Metrics(publication.remote_id or "", source=source, **values)
    return store_metrics(session, publication, metrics, now)
