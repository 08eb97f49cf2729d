"""A seeded month of publications and snapshots (with n/a metrics), and a reference that sums
the raw snapshots in plain Python, independently of the code under test."""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from content.analytics.latest import record_snapshot
from content.analytics.periods import Period, month_period
from content.domain.states import Platform, PostStatus, PublicationKind, PublicationState
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import (
    Channel,
    EngagementSnapshot,
    Event,
    Organization,
    Post,
    Publication,
)
from content.storage.registry import add_channel, ensure_organization
from content.storage.secrets import CredentialCipher, generate_key

TZ = ZoneInfo("Europe/Vilnius")
MONTH = date(2026, 11, 1)
NOVEMBER = month_period(MONTH, TZ)
OCTOBER = month_period(date(2026, 10, 1), TZ)
PARTS = ("reactions", "comments", "shares", "saves")
STORED = ("reactions", "comments", "shares", "saves", "views", "reach")
TITLES = ("Вечер поэзии 📚", "Knygų mugė", "Қазақ әдебиеті күні", "Reading club", "Лекция")


@dataclass
class Seeded:
    engine: Engine
    sessions: sessionmaker[Session]
    url: str


def _metrics(platform: Platform, rng: random.Random) -> dict[str, int | None]:
    """What each platform says: Telegram only reactions, Pages no saves, Instagram no shares."""
    n = rng.randint
    if platform is Platform.TELEGRAM:
        return {"reactions": n(0, 40) if rng.random() < 0.8 else None}
    if platform is Platform.FACEBOOK:
        reach = n(100, 3000) if rng.random() < 0.7 else None  # insights not always granted
        return {
            "reactions": n(0, 90),
            "comments": n(0, 15),
            "shares": n(0, 9),
            "reach": reach,
            "views": n(100, 5000) if reach else None,
        }
    return {
        "reactions": n(0, 200),
        "comments": n(0, 30),
        "saves": n(0, 20),
        "reach": n(0, 4000),
        "views": n(0, 6000),
    }


def _local(day: int, hour: int, minute: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ).astimezone(UTC)


def seed(sessions: sessionmaker[Session], rng: random.Random) -> None:
    with sessions.begin() as session:
        org = ensure_organization(session, "Central Library", "Europe/Vilnius", "lt")
        cipher = CredentialCipher(generate_key())
        channels = [
            add_channel(
                session,
                org,
                cipher,
                name=name,
                platform=platform,
                external_id=external,
                token=None if platform is Platform.TELEGRAM else "t0ken-for-tests",
                language=None,
                actor="test",
            )
            for name, platform, external in (
                ("news", Platform.TELEGRAM, "-1001000000001"),
                ("page", Platform.FACEBOOK, "100200300400500"),
                ("insta", Platform.INSTAGRAM, "17841400000000001"),
            )
        ]
        times = [
            _local(rng.randint(1, 30), rng.randint(8, 21), rng.choice((0, 15, 30)))
            for _ in range(24)
        ]
        times += [_local(rng.randint(1, 31), rng.randint(8, 21), 0, month=10) for _ in range(10)]
        # Edges: the first and last local minutes of November, the DST change in October.
        times += [_local(1, 0, 5), _local(30, 23, 55), _local(25, 3, 30, month=10)]
        publications: list[tuple[Publication, Channel]] = []
        for index, sent in enumerate(times):
            post = Post(
                organization_id=org.id,
                text=f"{TITLES[index % len(TITLES)]} #{index}\nMore text on a second line",
                status=PostStatus.DONE,
            )
            session.add(post)
            for channel in rng.sample(channels, rng.randint(1, 3)):
                publications.append(
                    (_sent(session, PublicationKind.POST, channel, sent, post=post), channel)
                )
        for number, starts in enumerate((_local(20, 18, 0), _local(28, 17, 0))):
            event = Event(
                organization_id=org.id,
                title=f"{TITLES[number]} — event",
                starts_at=starts,
                language="lt",
            )
            session.add(event)
            for channel in channels[:2]:
                for kind, before in (
                    (PublicationKind.ANNOUNCEMENT, timedelta(days=9)),
                    (PublicationKind.REMINDER, timedelta(days=1)),
                    (PublicationKind.REMINDER, timedelta(hours=2)),
                ):
                    pub = _sent(session, kind, channel, starts - before, event=event)
                    publications.append((pub, channel))
        # Not sent: never counted.
        session.add(
            Publication(
                kind=PublicationKind.POST,
                channel_id=channels[0].id,
                due_at=_local(29, 10, 0),
                state=PublicationState.SCHEDULED,
            )
        )
        session.flush()
        for pub, channel in publications:
            assert pub.sent_at is not None
            stages = [pub.sent_at + timedelta(hours=h) for h in (1, 6, 24, 72)]
            chosen = rng.sample(stages, rng.randint(0, 4))  # out of order on purpose
            for collected_at in chosen:
                record_snapshot(
                    session, pub, collected_at, source="test", **_metrics(channel.platform, rng)
                )
            if chosen and rng.random() < 0.2:
                # A second snapshot at the same moment: the later row is the latest.
                record_snapshot(
                    session, pub, max(chosen), source="test", **_metrics(channel.platform, rng)
                )


def _sent(
    session: Session,
    kind: PublicationKind,
    channel: Channel,
    sent: datetime,
    post: Post | None = None,
    event: Event | None = None,
) -> Publication:
    pub = Publication(
        kind=kind,
        post=post,
        event=event,
        channel_id=channel.id,
        due_at=sent,
        state=PublicationState.SENT,
        sent_at=sent,
        remote_id=f"r{sent.timestamp():.0f}",
        remote_url=f"https://example.org/{channel.name}/{sent.timestamp():.0f}",
    )
    session.add(pub)
    return pub


@pytest.fixture
def seeded(database_url: str) -> Iterator[Seeded]:
    engine = make_engine(database_url)
    upgrade(engine)
    sessions = session_factory(engine)
    seed(sessions, random.Random(20261101))
    yield Seeded(engine, sessions, database_url)
    engine.dispose()


# --- the reference: straight from the raw snapshots --------------------------------------------


@dataclass
class Raw:
    publication: Publication
    channel: Channel
    latest: EngagementSnapshot | None

    def value(self, metric: str) -> int | None:
        if self.latest is None:
            return None
        if metric == "interactions":
            parts = [getattr(self.latest, p) for p in PARTS if getattr(self.latest, p) is not None]
            return sum(parts) if parts else None
        value: int | None = getattr(self.latest, metric)
        return value


def raw(session: Session, period: Period | None = None) -> list[Raw]:
    """Each sent publication (in `period`) with its latest snapshot, found by scanning them all."""
    snapshots = session.scalars(select(EngagementSnapshot)).all()
    latest: dict[int, EngagementSnapshot] = {}
    for snap in snapshots:
        seen = latest.get(snap.publication_id)
        if seen is None or (snap.collected_at, snap.id) > (seen.collected_at, seen.id):
            latest[snap.publication_id] = snap
    found = []
    for pub in session.scalars(select(Publication).where(Publication.sent_at.is_not(None))):
        assert pub.sent_at is not None
        if period is None or period.start <= pub.sent_at < period.end:
            found.append(Raw(pub, pub.channel, latest.get(pub.id)))
    return found


def reference(rows: list[Raw]) -> dict[str, Any]:
    """{metric: (sum or None, known)}, plus publications and the engagement rate."""
    result: dict[str, Any] = {"publications": len(rows)}
    for metric in ("interactions", *STORED):
        known = [v for r in rows if (v := r.value(metric)) is not None]
        result[metric] = (sum(known) if known else None, len(known))
    rated = [r for r in rows if r.value("interactions") is not None and (r.value("reach") or 0) > 0]
    reach = sum(r.value("reach") or 0 for r in rated)
    result["rate"] = sum(r.value("interactions") or 0 for r in rated) / reach if reach else None
    return result


def as_reference(totals: Any) -> dict[str, Any]:
    """A Totals in the reference's shape."""
    result: dict[str, Any] = {"publications": totals.publications, "rate": totals.rate}
    for metric in ("interactions", *STORED):
        result[metric] = (totals[metric].value, totals[metric].known)
    return result


def central(session: Session) -> Organization:
    """The seeded library."""
    return session.scalars(select(Organization).where(Organization.name == "Central Library")).one()
