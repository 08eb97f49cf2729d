"""The network report: for a network head, one row per library of its network (the head itself
first, then every member library at any depth), the network's totals, and its top posts.

The month is a calendar month in the head's time zone, for every library alike, so the rows add
up to the network's totals. Each library's figures come from its own channels only. Rendering
is in `bot.reports` (PDF, XLSX) and `network_csv` (CSV).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content.analytics import queries
from content.analytics.metrics import EMPTY, Change, Totals, changes
from content.analytics.periods import Period, month_period, previous_month
from content.analytics.report import ReportFormat
from content.domain.states import EventStatus
from content.domain.timeparse import zone
from content.errors import InvalidInput
from content.storage.models import Event, Organization, Post
from content.storage.organizations import descendants


@dataclass(frozen=True)
class LibraryRow:
    """One library's month against the month before."""

    organization_id: int
    name: str
    parent: str | None  # the library it belongs to (None for the head)
    depth: int  # 0: the head, 1: its members, 2: their members ...
    posts: int
    events: int
    totals: Totals
    previous_posts: int
    previous_events: int
    previous: Totals

    @property
    def change(self) -> dict[str, Change]:
        found = changes(self.totals, self.previous)
        found["posts"] = Change(self.posts, self.previous_posts)
        found["events"] = Change(self.events, self.previous_events)
        return found


@dataclass(frozen=True)
class NetworkPost:
    """A top post of the network, with the library that published it."""

    library: str
    post: queries.TopPost


@dataclass(frozen=True)
class NetworkReport:
    head: str
    month: date
    tz: ZoneInfo
    generated_at: datetime
    period: Period
    previous_period: Period
    libraries: list[LibraryRow]
    top: list[NetworkPost]

    @property
    def totals(self) -> Totals:
        return sum((row.totals for row in self.libraries), EMPTY)

    @property
    def previous(self) -> Totals:
        return sum((row.previous for row in self.libraries), EMPTY)

    @property
    def posts(self) -> int:
        return sum(row.posts for row in self.libraries)

    @property
    def events(self) -> int:
        return sum(row.events for row in self.libraries)

    @property
    def change(self) -> dict[str, Change]:
        found = changes(self.totals, self.previous)
        found["posts"] = Change(self.posts, sum(r.previous_posts for r in self.libraries))
        found["events"] = Change(self.events, sum(r.previous_events for r in self.libraries))
        return found


def is_network_head(session: Session, org: Organization) -> bool:
    """Whether `org` has member libraries (so a network report can be made for it)."""
    return (
        session.scalar(select(Organization.id).where(Organization.parent_id == org.id).limit(1))
        is not None
    )


def _tree(head: Organization, members: list[Organization]) -> list[tuple[Organization, int]]:
    """The head, then each member followed by its own members (siblings by name), with depth."""
    below: dict[int | None, list[Organization]] = defaultdict(list)
    for org in members:
        below[org.parent_id].append(org)
    ordered: list[tuple[Organization, int]] = []
    stack = [(head, 0)]
    while stack:
        org, depth = stack.pop()
        ordered.append((org, depth))
        siblings = sorted(below.get(org.id, []), key=lambda o: (o.name.casefold(), o.id))
        stack.extend((child, depth + 1) for child in reversed(siblings))
    return ordered


def events_held(session: Session, period: Period, orgs: Collection[int]) -> dict[int, int]:
    """Per organisation, its events starting in `period` (cancelled ones not counted)."""
    rows = session.execute(
        select(Event.organization_id, func.count(Event.id))
        .where(
            Event.organization_id.in_(sorted(orgs)),
            Event.starts_at >= period.start,
            Event.starts_at < period.end,
            Event.status != EventStatus.CANCELLED,
        )
        .group_by(Event.organization_id)
    )
    return {org_id: int(count) for org_id, count in rows}


def build_network_report(
    session: Session, head: Organization, month: date, now: datetime, top: int = 10
) -> NetworkReport:
    """The network report of `head` on the month that starts on `month` (in the head's zone).

    Raises:
        InvalidInput: `head` has no member libraries.
    """
    members = descendants(session, head)
    if not members:
        raise InvalidInput(
            "{name} has no member libraries, so it has no network report; its own report is "
            "the monthly report",
            name=head.name,
        )
    tz = zone(head.timezone)
    period = month_period(month, tz)
    before = month_period(previous_month(month), tz)
    tree = _tree(head, members)
    ids = [org.id for org, _depth in tree]
    names = {org.id: org.name for org, _depth in tree}
    current, earlier = (queries.organization_totals(session, p, ids) for p in (period, before))
    held, held_before = (events_held(session, p, ids) for p in (period, before))
    nothing = queries.OrganizationTotals(0, EMPTY)
    rows = [
        LibraryRow(
            organization_id=org.id,
            name=org.name,
            parent=names.get(org.parent_id) if depth and org.parent_id is not None else None,
            depth=depth,
            posts=current.get(org.id, nothing).posts,
            events=held.get(org.id, 0),
            totals=current.get(org.id, nothing).totals,
            previous_posts=earlier.get(org.id, nothing).posts,
            previous_events=held_before.get(org.id, 0),
            previous=earlier.get(org.id, nothing).totals,
        )
        for org, depth in tree
    ]
    best = queries.top_posts(session, period, limit=top, orgs=ids)
    owners: dict[int, int] = {
        post_id: org_id
        for post_id, org_id in session.execute(
            select(Post.id, Post.organization_id).where(Post.id.in_([p.post_id for p in best]))
        )
    }
    return NetworkReport(
        head=head.name,
        month=month,
        tz=tz,
        generated_at=now,
        period=period,
        previous_period=before,
        libraries=rows,
        top=[NetworkPost(names.get(owners.get(p.post_id, 0), ""), p) for p in best],
    )


def network_filename(month: date, lang: str, fmt: ReportFormat) -> str:
    """`afisha-network-2026-11-ru.xlsx`."""
    return f"afisha-network-{month:%Y-%m}-{lang}.{fmt.value}"
