"""Best posting times cover the period a report or /stats is about (what of it has passed), for
the library asked about only: not a year of history, not the days still to come."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from content.analytics.latest import record_snapshot
from content.analytics.periods import Period, local_midnight
from content.analytics.report import build_monthly_report
from content.analytics.stats import stats_summary
from content.domain.states import Platform, PublicationKind, PublicationState
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import Organization, Publication
from content.storage.registry import add_channel, ensure_organization
from content.storage.secrets import CredentialCipher, generate_key

VILNIUS, ALMATY = ZoneInfo("Europe/Vilnius"), ZoneInfo("Asia/Almaty")
NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # a Friday


def _publish(
    session: Session, org: Organization, name: str, sent: list[tuple[datetime, int]]
) -> None:
    channel = add_channel(
        session,
        org,
        CredentialCipher(generate_key()),
        name=name,
        platform=Platform.TELEGRAM,
        external_id=f"-100{org.id}000",
        token=None,
        language=None,
        actor="test",
    )
    for at, reactions in sent:
        pub = Publication(
            kind=PublicationKind.POST,
            channel_id=channel.id,
            due_at=at,
            state=PublicationState.SENT,
            sent_at=at,
            remote_id=f"r{at.timestamp():.0f}",
        )
        session.add(pub)
        session.flush()
        record_snapshot(session, pub, at + timedelta(hours=6), source="test", reactions=reactions)


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    upgrade(engine)
    made = session_factory(engine)
    with made.begin() as session:
        vilnius = ensure_organization(session, "Vilnius Library", "Europe/Vilnius", "lt")
        almaty = Organization(name="Almaty Library", timezone="Asia/Almaty", language="ru")
        session.add(almaty)
        session.flush()
        local = lambda d, h, tz: datetime(2026, d.month, d.day, h, tzinfo=tz).astimezone(UTC)  # noqa: E731
        _publish(
            session,
            vilnius,
            "vilnius-news",
            [
                (local(date(2026, 12, 2), 10, VILNIUS), 5),  # this month, this week
                (local(date(2026, 11, 20), 19, VILNIUS), 900),  # last month: not in December's
            ],
        )
        # The other library's best hour must not show up in the first one's.
        _publish(session, almaty, "almaty-news", [(local(date(2026, 12, 3), 15, ALMATY), 700)])
    yield made
    engine.dispose()


def _org(session: Session, name: str) -> Organization:
    found = session.query(Organization).filter_by(name=name).one()
    assert isinstance(found, Organization)
    return found


def test_the_months_best_times_stop_at_now(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        vilnius = build_monthly_report(
            session, _org(session, "Vilnius Library"), date(2026, 12, 1), NOW
        )
        almaty = build_monthly_report(
            session, _org(session, "Almaty Library"), date(2026, 12, 1), NOW
        )
    assert vilnius.heatmap.period == Period(local_midnight(date(2026, 12, 1), VILNIUS), NOW)
    assert almaty.heatmap.period == Period(local_midnight(date(2026, 12, 1), ALMATY), NOW)
    assert vilnius.heatmap.best() == [(2, 10, 5.0)]  # Wednesday 10:00, Vilnius time
    assert almaty.heatmap.best() == [(3, 15, 700.0)]  # Thursday 15:00, Almaty time


def test_a_future_months_best_times_are_empty(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        report = build_monthly_report(
            session, _org(session, "Vilnius Library"), date(2027, 1, 1), NOW
        )
    assert report.heatmap.period.length == timedelta(0)
    assert report.heatmap.cells == {}


def test_stats_best_times_cover_the_span_asked_for(sessions: sessionmaker[Session]) -> None:
    with sessions() as session:
        vilnius = _org(session, "Vilnius Library")
        week = stats_summary(session, NOW, VILNIUS, timedelta(days=7), orgs={vilnius.id})
        month = stats_summary(session, NOW, VILNIUS, timedelta(days=30), orgs={vilnius.id})
        almaty = _org(session, "Almaty Library")
        theirs = stats_summary(session, NOW, ALMATY, timedelta(days=7), orgs={almaty.id})
    assert week.best == [(2, 10, 5.0)]  # 20 November is outside the last 7 days
    assert month.best == [(4, 19, 900.0), (2, 10, 5.0)]
    assert theirs.best == [(3, 15, 700.0)]
