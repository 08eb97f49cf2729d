"""Engagement collection on a decaying schedule after each publication is sent.

Where Graph refuses a channel's token its insights (an Instagram account connected without
`instagram_manage_insights`), the adapter falls back to counts without insights and public
counts read with instaloader; the refusal is kept on the channel (`insights_refused_at`) so
later rounds do not ask Graph in vain, and Graph is asked again a day later (`INSIGHTS_RECHECK`):
a token may have been granted the permission since, and one refused call a day is cheap.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from channels.base import Channel as ChannelAdapter
from channels.base import ChannelError, InsightsGated, Metrics
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
INSIGHTS_RECHECK = timedelta(days=1)


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
            select(
                Publication.id,
                Publication.remote_id,
                Publication.channel_id,
                Publication.remote_url,
            )
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
        addresses: dict[str, str] = {}
        for publication_id, remote_id, channel_id, remote_url in rows:
            by_channel[channel_id].append((publication_id, str(remote_id)))
            if remote_url:
                addresses[str(remote_id)] = remote_url
        channels = {
            c.id: c for c in session.scalars(select(Channel).where(Channel.id.in_(by_channel)))
        }
        for channel in channels.values():
            session.expunge(channel)
    stored = 0
    for channel_id, items in by_channel.items():
        channel = channels[channel_id]
        try:
            adapter = engine.channels(channel)
            if isinstance(adapter, InsightsGated):
                remember_refusal(adapter, channel.insights_refused_at, now)
                # This round's only: the adapter lives as long as the process.
                adapter.public_addresses = {
                    remote: addresses[remote] for _, remote in items if remote in addresses
                }
            metrics = await adapter.fetch_engagement([remote for _, remote in items])
        except ChannelError as err:
            log.info("collecting engagement of channel %s failed: %s", channel_id, err.reason)
            continue  # stays due: the next round tries again
        with engine.sessions.begin() as session:
            if isinstance(adapter, InsightsGated):
                keep_refusal(session, channel, adapter, now)
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


def remember_refusal(adapter: ChannelAdapter, refused_at: datetime | None, now: datetime) -> None:
    """Tell the adapter what the channel's last refusal of insights says about asking again."""
    assert isinstance(adapter, InsightsGated)
    if refused_at is None:
        return  # never refused, or the adapter's own knowledge is all there is
    if now - refused_at < INSIGHTS_RECHECK:
        adapter.insights_allowed = False
    else:
        adapter.insights_allowed = None  # a day on: ask Graph again


def keep_refusal(
    session: Session, channel: Channel, adapter: ChannelAdapter, now: datetime
) -> None:
    """Store (or clear) the channel's refusal of insights as the adapter found it."""
    assert isinstance(adapter, InsightsGated)
    refused_at = channel.insights_refused_at
    if adapter.insights_allowed is False:
        fresh = refused_at is not None and now - refused_at < INSIGHTS_RECHECK
        value = refused_at if fresh else now
    elif adapter.insights_allowed is True:
        value = None
    else:
        return
    if value != refused_at:
        session.execute(
            update(Channel).where(Channel.id == channel.id).values(insights_refused_at=value)
        )
        channel.insights_refused_at = value


def record_metrics(
    session: Session, publication: Publication, now: datetime, *, source: str, **values: int | None
) -> bool:
    """Store counts that arrived on their own (e.g. Telegram's reaction updates)."""
    metrics = Metrics(publication.remote_id or "", source=source, **values)
    return store_metrics(session, publication, metrics, now)
