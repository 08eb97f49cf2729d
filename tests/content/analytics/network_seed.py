"""A regional network seeded for the network report's tests: a head, two member libraries (with
long Lithuanian and Kazakh names) and a village library below the Kazakh one, each with its own
channels, posts and events in October and November 2026, and the figures each library should
show, added up while seeding (independently of the code under test)."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from content.analytics.latest import record_snapshot
from content.domain.states import (
    EventStatus,
    Platform,
    PostStatus,
    PublicationKind,
    PublicationState,
)
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import Event, Organization, Post, Publication
from content.storage.registry import add_channel, add_staff, ensure_organization
from content.storage.secrets import CredentialCipher, generate_key

TZ = ZoneInfo("Europe/Vilnius")  # the head's zone: the network report's months are its months
NOVEMBER, OCTOBER = date(2026, 11, 1), date(2026, 10, 1)
HEAD = "Regional Library"
LT = "Kauno rajono savivaldybės viešosios bibliotekos Vilkijos miesto filialas — vaikų skyrius"
KK = "Қарағанды облыстық әмбебап ғылыми кітапханасының аудандық филиалы — балалар бөлімі"
VILLAGE = "Ауылдық кітапхана"
HEAD_MANAGER, LT_MANAGER, KK_MANAGER, KK_ADMIN, HEAD_EDITOR = (
    600000001,
    600000002,
    600000003,
    600000004,
    600000005,
)
# name: (parent, zone, language, posts in November, posts in October, events in November)
LIBRARIES = {
    HEAD: (None, "Europe/Vilnius", "lt", 3, 2, 1),
    LT: (HEAD, "Europe/Vilnius", "lt", 5, 1, 2),
    KK: (HEAD, "Asia/Almaty", "kk", 2, 4, 0),
    VILLAGE: (KK, "Asia/Almaty", "kk", 1, 0, 1),
}
FIGURES = ("publications", "reactions", "comments", "shares", "views", "interactions")


@dataclass
class Network:
    engine: Engine
    sessions: sessionmaker[Session]
    url: str
    # (library, month) -> figure -> value, from what was seeded
    expected: dict[tuple[str, date], Counter[str]] = field(default_factory=dict)
    titles: dict[str, list[str]] = field(default_factory=dict)

    def org(self, session: Session, name: str) -> Organization:
        return session.scalars(select(Organization).where(Organization.name == name)).one()


def _at(month: date, day: int, hour: int) -> datetime:
    return datetime(month.year, month.month, day, hour, 0, tzinfo=TZ).astimezone(UTC)


def seed_network(engine: Engine, url: str, seed: int = 15) -> Network:
    sessions = session_factory(engine)
    rng = random.Random(seed)
    expected: dict[tuple[str, date], Counter[str]] = defaultdict(Counter)
    titles: dict[str, list[str]] = defaultdict(list)
    cipher = CredentialCipher(generate_key())
    with sessions.begin() as session:
        orgs: dict[str, Organization] = {}
        for number, (name, (parent, zone, language, *_counts)) in enumerate(LIBRARIES.items()):
            if parent is None:
                org = ensure_organization(session, name, zone, language)
            else:
                org = Organization(
                    name=name, parent_id=orgs[parent].id, timezone=zone, language=language
                )
                session.add(org)
                session.flush()
            orgs[name] = org
            channels = [
                add_channel(
                    session,
                    org,
                    cipher,
                    name=f"{platform.value}-{number}",
                    platform=platform,
                    external_id=f"-100{number}00{index}" if index == 0 else f"10020030{number}",
                    token=None if platform is Platform.TELEGRAM else "t0ken-for-tests",
                    language=None,
                    actor="test",
                )
                for index, platform in enumerate((Platform.TELEGRAM, Platform.FACEBOOK))
            ]
            _, _, _, november, october, events = LIBRARIES[name]
            for month, count in ((NOVEMBER, november), (OCTOBER, october)):
                for index in range(count):
                    title = f"{name[:12]} · {month:%m} · post {index}"
                    titles[name].append(title)
                    post = Post(organization_id=org.id, text=title, status=PostStatus.DONE)
                    session.add(post)
                    sent = _at(month, 2 + 3 * index, 10 + number)
                    expected[(name, month)]["posts"] += 1
                    for channel in channels:
                        publication = Publication(
                            kind=PublicationKind.POST,
                            post=post,
                            channel_id=channel.id,
                            due_at=sent,
                            state=PublicationState.SENT,
                            sent_at=sent,
                            remote_id=f"{channel.id}-{index}-{month:%m}",
                            remote_url=f"https://example.org/{channel.name}/{index}/{month:%m}",
                        )
                        session.add(publication)
                        session.flush()
                        counts: dict[str, int | None] = {"reactions": rng.randint(1, 50)}
                        if channel.platform is Platform.FACEBOOK:
                            counts |= {
                                "comments": rng.randint(0, 9),
                                "shares": rng.randint(0, 5),
                                "views": rng.randint(100, 900),
                            }
                        # An earlier, smaller snapshot: only the latest one counts.
                        early = {k: (v or 0) // 2 for k, v in counts.items()}
                        record_snapshot(
                            session, publication, sent + timedelta(hours=1), source="t", **early
                        )
                        record_snapshot(
                            session, publication, sent + timedelta(days=1), source="t", **counts
                        )
                        found = expected[(name, month)]
                        found["publications"] += 1
                        for key, value in counts.items():
                            found[key] += value or 0
                        found["interactions"] += sum(
                            counts.get(k) or 0 for k in ("reactions", "comments", "shares")
                        )
            for index in range(events):
                session.add(
                    Event(
                        organization_id=org.id,
                        title=f"{name[:10]} event {index}",
                        starts_at=_at(NOVEMBER, 10 + index, 18),
                        language=language,
                    )
                )
                expected[(name, NOVEMBER)]["events"] += 1
            # Cancelled: never counted.
            session.add(
                Event(
                    organization_id=org.id,
                    title=f"{name[:10]} cancelled",
                    starts_at=_at(NOVEMBER, 20, 18),
                    language=language,
                    status=EventStatus.CANCELLED,
                )
            )
        add_staff(session, orgs[HEAD], HEAD_MANAGER, "Rasa", "manager", "ru", "test")
        add_staff(session, orgs[HEAD], HEAD_EDITOR, "Jonas", "editor", "lt", "test")
        add_staff(session, orgs[LT], LT_MANAGER, "Eglė", "manager", "lt", "test")
        add_staff(session, orgs[KK], KK_MANAGER, "Dana", "manager", "kk", "test")
        add_staff(session, orgs[KK], KK_ADMIN, "Asel", "admin", "ru", "test")
    return Network(engine, sessions, url, dict(expected), dict(titles))


@pytest.fixture
def network(database_url: str) -> Iterator[Network]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield seed_network(engine, database_url)
    engine.dispose()
