"""Queries over the publications' latest counts: totals, per channel, per post, per event, over
time and by weekday × hour.

Everything reads the copies on `publication` (see `latest`), selected by `sent_at` through its
index, and sums in the database; unknowns stay NULL so SUM skips them and COUNT says how many
were known. Local days and hours are computed from epoch seconds plus the zone's offset, piece by
piece between the zone's offset changes, so both SQLite and PostgreSQL group the same way.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, ColumnElement, Integer, Select, and_, case, cast, func, select
from sqlalchemy.orm import Session

from content.analytics.metrics import (
    EMPTY,
    METRICS,
    STORED,
    Counts,
    Total,
    Totals,
)
from content.analytics.periods import Period, offset_spans
from content.domain.states import Platform, PublicationKind
from content.domain.text import headline
from content.storage.models import Channel, Event, Post, Publication

DAY = 86400
EPOCH_DAY = date(1970, 1, 1)


def _latest(metric: str) -> Any:
    return getattr(Publication, f"latest_{metric}")


@functools.cache
def _aggregates(metrics: tuple[str, ...] = METRICS) -> tuple[Any, ...]:
    """Columns that sum a group of publications into a `Totals` (read by `_totals`).

    The full set also carries the engagement rate's sums; fewer metrics make a cheaper query.
    """
    columns: list[Any] = [func.count(Publication.id).label("publications")]
    for metric in metrics:
        expression = _latest(metric)
        columns.append(func.sum(expression).label(f"{metric}_sum"))
        columns.append(func.count(expression).label(f"{metric}_known"))
    if metrics == METRICS:
        found, reach = Publication.latest_interactions, Publication.latest_reach
        counted = and_(found.is_not(None), reach > 0)
        columns += [
            func.sum(case((counted, found), else_=0)).label("rate_interactions"),
            func.sum(case((counted, reach), else_=0)).label("rate_reach"),
            func.count(case((counted, 1))).label("rate_publications"),
        ]
    return tuple(columns)


def _totals(row: Any) -> Totals:
    """A row of `_aggregates` as Totals; metrics it did not sum are n/a."""
    mapping = row._mapping
    values = {}
    for metric in METRICS:
        known = int(mapping.get(f"{metric}_known") or 0)
        value = mapping.get(f"{metric}_sum")
        values[metric] = Total(int(value) if known else None, known)
    return Totals(
        publications=int(mapping["publications"]),
        values=values,
        rate_interactions=int(mapping.get("rate_interactions") or 0),
        rate_reach=int(mapping.get("rate_reach") or 0),
        rate_publications=int(mapping.get("rate_publications") or 0),
    )


def _sent_in(period: Period) -> ColumnElement[bool]:
    return and_(Publication.sent_at >= period.start, Publication.sent_at < period.end)


def _of(orgs: Collection[int] | None) -> list[ColumnElement[bool]]:
    """Publications on the channels of these organisations (None: of every organisation)."""
    if orgs is None:
        return []
    channels = select(Channel.id).where(Channel.organization_id.in_(sorted(orgs)))
    return [Publication.channel_id.in_(channels)]


def _epoch_seconds(session: Session) -> ColumnElement[int]:
    if session.get_bind().dialect.name == "sqlite":
        return cast(func.strftime("%s", Publication.sent_at), Integer)
    return cast(func.floor(func.extract("epoch", Publication.sent_at)), BigInteger)


def _counts(row: Any) -> Counts:
    return Counts(**{name: getattr(row, f"latest_{name}") for name in STORED})


# --- single publications, posts and events ----------------------------------------------------


@dataclass(frozen=True)
class PublicationMetrics:
    """One publication with its latest counts."""

    publication_id: int
    kind: PublicationKind
    channel: str
    platform: Platform
    post_id: int | None
    event_id: int | None
    sent_at: datetime | None
    remote_url: str | None
    collected_at: datetime | None
    counts: Counts


def _publication_rows(session: Session, *where: ColumnElement[bool]) -> list[PublicationMetrics]:
    rows = session.execute(
        select(Publication, Channel.name, Channel.platform)
        .join(Channel, Channel.id == Publication.channel_id)
        .where(*where)
        .order_by(Publication.sent_at, Publication.id)
    )
    return [
        PublicationMetrics(
            publication_id=p.id,
            kind=p.kind,
            channel=name,
            platform=platform,
            post_id=p.post_id,
            event_id=p.event_id,
            sent_at=p.sent_at,
            remote_url=p.remote_url,
            collected_at=p.latest_collected_at,
            counts=_counts(p),
        )
        for p, name, platform in rows
    ]


def latest_metrics(session: Session, publication_ids: Collection[int]) -> list[PublicationMetrics]:
    """The latest counts of these publications."""
    return _publication_rows(session, Publication.id.in_(publication_ids))


def publications_sent(
    session: Session, period: Period, orgs: Collection[int] | None = None
) -> list[PublicationMetrics]:
    """Every publication sent in `period` (on these organisations' channels), oldest first."""
    return _publication_rows(session, _sent_in(period), *_of(orgs))


@dataclass(frozen=True)
class Breakdown:
    """A post or an event across its channels: each publication and their totals."""

    title: str
    publications: list[PublicationMetrics]
    totals: Totals


def post_breakdown(session: Session, post_id: int) -> Breakdown | None:
    """A post's sent publications on every channel, with their totals."""
    post = session.get(Post, post_id)
    if post is None:
        return None
    rows = _publication_rows(
        session, Publication.post_id == post_id, Publication.sent_at.is_not(None)
    )
    return Breakdown(headline(post.text, 60), rows, _sum(session, Publication.post_id == post_id))


def event_breakdown(session: Session, event_id: int) -> Breakdown | None:
    """An event's sent announcement, reminders (and cancellation) together, on every channel."""
    event = session.get(Event, event_id)
    if event is None:
        return None
    where = Publication.event_id == event_id
    rows = _publication_rows(session, where, Publication.sent_at.is_not(None))
    return Breakdown(event.title, rows, _sum(session, where))


# --- totals -----------------------------------------------------------------------------------


def _sum(session: Session, *where: ColumnElement[bool]) -> Totals:
    row = session.execute(
        select(*_aggregates()).where(Publication.sent_at.is_not(None), *where)
    ).one()
    return _totals(row)


def totals(
    session: Session,
    period: Period,
    channel_id: int | None = None,
    orgs: Collection[int] | None = None,
) -> Totals:
    """The totals of the publications sent in `period` (on one channel, or on these
    organisations' channels, if given)."""
    where = [_sent_in(period), *_of(orgs)]
    if channel_id is not None:
        where.append(Publication.channel_id == channel_id)
    return _sum(session, *where)


@dataclass(frozen=True)
class ChannelTotals:
    channel_id: int
    channel: str
    platform: Platform
    totals: Totals
    # How many of its publications' latest counts came from each source (graph_insights...).
    sources: dict[str, int] = field(default_factory=dict)


def channel_totals(
    session: Session, period: Period, orgs: Collection[int] | None = None
) -> list[ChannelTotals]:
    """Every channel (of these organisations) with the totals of its publications sent in
    `period` (by name)."""
    grouped = {
        row.channel_id: _totals(row)
        for row in session.execute(
            select(Publication.channel_id, *_aggregates())
            .where(_sent_in(period), *_of(orgs))
            .group_by(Publication.channel_id)
        )
    }
    sources: dict[int, dict[str, int]] = defaultdict(dict)
    for channel_id, source, count in session.execute(
        select(Publication.channel_id, Publication.latest_source, func.count())
        .where(_sent_in(period), Publication.latest_source.is_not(None), *_of(orgs))
        .group_by(Publication.channel_id, Publication.latest_source)
    ):
        sources[channel_id][str(source)] = int(count)
    statement = select(Channel.id, Channel.name, Channel.platform).order_by(Channel.name)
    if orgs is not None:
        statement = statement.where(Channel.organization_id.in_(sorted(orgs)))
    channels = session.execute(statement)
    return [
        ChannelTotals(
            id_, name, platform, grouped.get(id_, EMPTY), dict(sorted(sources[id_].items()))
        )
        for id_, name, platform in channels
    ]


@dataclass(frozen=True)
class OrganizationTotals:
    """One organisation's publications in a period: how many posts they carried, and totals."""

    posts: int
    totals: Totals


def organization_totals(
    session: Session, period: Period, orgs: Collection[int]
) -> dict[int, OrganizationTotals]:
    """Per organisation (of `orgs`, that sent something), its channels' totals in `period`.

    One grouped query over the publications' latest counts, however many organisations.
    """
    post = case((Publication.kind == PublicationKind.POST, Publication.post_id))
    posts = func.count(func.distinct(post))
    rows = session.execute(
        select(Channel.organization_id, posts.label("posts"), *_aggregates())
        .select_from(Publication)
        .join(Channel, Channel.id == Publication.channel_id)
        .where(_sent_in(period), Channel.organization_id.in_(sorted(orgs)))
        .group_by(Channel.organization_id)
    )
    return {row.organization_id: OrganizationTotals(int(row.posts), _totals(row)) for row in rows}


# --- over time --------------------------------------------------------------------------------


class Bucket(StrEnum):
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


def bucket_start(day: date, bucket: Bucket) -> date:
    """The local day a bucket starts: the day, its week's Monday, or its month's first day."""
    if bucket is Bucket.WEEK:
        return day - timedelta(days=day.weekday())
    if bucket is Bucket.MONTH:
        return day.replace(day=1)
    return day


@dataclass(frozen=True)
class SeriesPoint:
    channel: str
    start: date
    totals: Totals


def _local_groups(
    session: Session,
    period: Period,
    tz: ZoneInfo,
    unit: int,
    *keys: Any,
    cycle: int = 0,
    metrics: tuple[str, ...] = METRICS,
    orgs: Collection[int] | None = None,
) -> Iterable[tuple[Any, int, Totals]]:
    """Totals grouped by `keys` and by local time // `unit` seconds, one offset span at a time."""
    epoch = _epoch_seconds(session)
    for span, offset in offset_spans(tz, period):
        local = (epoch + offset) // unit
        # With a cycle (hours of a week), the database returns one row per slot, not per hour.
        slot = (local % cycle if cycle else local).label("slot")
        statement: Select[Any] = (
            select(*keys, slot, *_aggregates(metrics))
            .select_from(Publication)
            .where(_sent_in(span), *_of(orgs))
            .group_by(*keys, slot)
        )
        for row in session.execute(statement):
            yield tuple(row[: len(keys)]), int(row.slot), _totals(row)


def channel_series(
    session: Session,
    period: Period,
    tz: ZoneInfo,
    bucket: Bucket = Bucket.DAY,
    orgs: Collection[int] | None = None,
) -> list[SeriesPoint]:
    """Per channel (of these organisations), the totals of the publications sent in each local
    day, week or month.

    Only buckets in which a channel sent something appear (nothing sent is not a zero).
    """
    names = {id_: name for id_, name in session.execute(select(Channel.id, Channel.name))}
    merged: dict[tuple[str, date], Totals] = defaultdict(lambda: EMPTY)
    for (channel_id,), day, found in _local_groups(
        session, period, tz, DAY, Publication.channel_id, orgs=orgs
    ):
        key = (names[channel_id], bucket_start(EPOCH_DAY + timedelta(days=day), bucket))
        merged[key] = merged[key] + found
    return [SeriesPoint(c, d, t) for (c, d), t in sorted(merged.items())]


@dataclass(frozen=True)
class Heatmap:
    """Publications and their interactions by local weekday (0 = Monday) and hour (other
    metrics are not summed here)."""

    period: Period
    cells: dict[tuple[int, int], Totals]

    def mean(self, weekday: int, hour: int) -> float | None:
        """Average interactions per publication (with interactions known) sent in that hour."""
        found = self.cells.get((weekday, hour), EMPTY)["interactions"]
        return found.value / found.known if found.value is not None and found.known else None

    def best(self, count: int = 3) -> list[tuple[int, int, float]]:
        """The hours with the highest average interactions: (weekday, hour, average)."""
        ranked = [
            (weekday, hour, mean)
            for weekday, hour in self.cells
            if (mean := self.mean(weekday, hour)) is not None
        ]
        ranked.sort(key=lambda cell: (-cell[2], cell[0], cell[1]))
        return ranked[:count]


def best_times(
    session: Session, period: Period, tz: ZoneInfo, orgs: Collection[int] | None = None
) -> Heatmap:
    """The weekday × hour grid of the publications sent in `period` (on these organisations'
    channels), in local time."""
    cells: dict[tuple[int, int], Totals] = defaultdict(lambda: EMPTY)
    week = 7 * 24
    # Only interactions: the grid needs no other sums.
    hours = _local_groups(
        session, period, tz, 3600, cycle=week, metrics=("interactions",), orgs=orgs
    )
    for _, hour_of_week, found in hours:
        # Day 0 of the epoch (1970-01-01) was a Thursday, weekday 3.
        key = ((hour_of_week // 24 + 3) % 7, hour_of_week % 24)
        cells[key] = cells[key] + found
    return Heatmap(period, dict(cells))


# --- rankings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    channel: str
    platform: Platform
    url: str | None


@dataclass(frozen=True)
class TopPost:
    post_id: int
    title: str
    totals: Totals
    links: list[Link]


def top_posts(
    session: Session, period: Period, limit: int = 10, orgs: Collection[int] | None = None
) -> list[TopPost]:
    """Posts sent in `period` (on these organisations' channels) with the most interactions
    over their channels (n/a ones last)."""
    interactions_sum = func.sum(Publication.latest_interactions)
    rows = session.execute(
        select(Publication.post_id, *_aggregates())
        .where(_sent_in(period), Publication.kind == PublicationKind.POST, *_of(orgs))
        .where(Publication.post_id.is_not(None))
        .group_by(Publication.post_id)
        .order_by(interactions_sum.desc().nulls_last(), Publication.post_id)
        .limit(limit)
    ).all()
    ids = [row.post_id for row in rows]
    texts = {
        id_: text
        for id_, text in session.execute(select(Post.id, Post.text).where(Post.id.in_(ids)))
    }
    links: dict[int, list[Link]] = defaultdict(list)
    for post_id, name, platform, url in session.execute(
        select(Publication.post_id, Channel.name, Channel.platform, Publication.remote_url)
        .join(Channel, Channel.id == Publication.channel_id)
        .where(
            _sent_in(period),
            Publication.post_id.in_(ids),
            Publication.kind == PublicationKind.POST,
            *_of(orgs),
        )
        .order_by(Channel.name)
    ):
        links[post_id or 0].append(Link(name, platform, url))
    return [
        TopPost(
            row.post_id,
            headline(texts.get(row.post_id, ""), 60),
            _totals(row),
            links[row.post_id],
        )
        for row in rows
    ]


@dataclass(frozen=True)
class EventTotals:
    event_id: int
    title: str
    starts_at: datetime
    totals: Totals


def event_totals(
    session: Session, period: Period, orgs: Collection[int] | None = None
) -> list[EventTotals]:
    """Each event with publications sent in `period` (on these organisations' channels): their
    totals together, by start time."""
    rows = session.execute(
        select(Publication.event_id, Event.title, Event.starts_at, *_aggregates())
        .join(Event, Event.id == Publication.event_id)
        .where(_sent_in(period), *_of(orgs))
        .group_by(Publication.event_id, Event.title, Event.starts_at)
        .order_by(Event.starts_at, Publication.event_id)
    )
    return [EventTotals(r.event_id, r.title, r.starts_at, _totals(r)) for r in rows]
