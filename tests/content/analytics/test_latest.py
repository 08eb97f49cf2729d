"""Snapshots keep each publication's latest counts: in order, out of order, and on migration."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, select, text

from content.analytics.latest import record_snapshot
from content.domain.states import PublicationKind, PublicationState
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import EngagementSnapshot, Publication
from content.storage.registry import ensure_organization

SENT = datetime(2026, 11, 5, 10, 0, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


def test_the_latest_snapshot_wins_whatever_the_order_of_arrival(engine: Engine) -> None:
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        org = ensure_organization(session, "Library", "UTC", "en")
        session.execute(
            text(
                "INSERT INTO channel (organization_id, platform, name, external_id, language, "
                "status, created_at) VALUES (:o, 'telegram', 'news', '-1001', 'en', 'active', "
                ":t)"
            ),
            {"o": org.id, "t": SENT.replace(tzinfo=None)},
        )
        pub = Publication(
            kind=PublicationKind.POST,
            channel_id=1,
            due_at=SENT,
            sent_at=SENT,
            state=PublicationState.SENT,
        )
        session.add(pub)
        session.flush()
        assert record_snapshot(session, pub, SENT + timedelta(hours=6), source="t", reactions=7)
        # An older snapshot arriving late is kept in the history but is not the latest.
        assert record_snapshot(session, pub, SENT + timedelta(hours=1), source="t", reactions=3)
        assert pub.latest_reactions == 7
        # The platform said nothing: nothing is stored, and nothing becomes zero.
        assert record_snapshot(session, pub, SENT + timedelta(days=1), source="t") is None
        record_snapshot(session, pub, SENT + timedelta(days=3), source="t", reactions=9, views=40)
    with sessions() as session:
        stored = session.get_one(Publication, pub.id)
        assert (stored.latest_reactions, stored.latest_views, stored.latest_reach) == (9, 40, None)
        assert stored.latest_interactions == 9
        assert stored.latest_collected_at == SENT + timedelta(days=3)
        assert len(session.scalars(select(EngagementSnapshot)).all()) == 3


def test_the_migration_copies_existing_snapshots(engine: Engine) -> None:
    upgrade(engine, "0003")
    naive = SENT.replace(tzinfo=None)
    with engine.begin() as connection:
        for statement in (
            "INSERT INTO organization (id, name, timezone, language, requires_approval, created_at)"
            " VALUES (1, 'Library', 'UTC', 'en', false, :t)",
            "INSERT INTO channel (id, organization_id, platform, name, external_id, language, "
            "status, created_at) VALUES (1, 1, 'facebook', 'page', '1', 'en', 'active', :t)",
            "INSERT INTO publication (id, kind, channel_id, due_at, state, attempts, sent_at, "
            "collect_stage, updated_at) VALUES (1, 'post', 1, :t, 'sent', 1, :t, 0, :t), "
            "(2, 'post', 1, :t, 'sent', 1, :t, 0, :t)",
            "INSERT INTO engagement_snapshot (publication_id, collected_at, reactions, reach, "
            "source) VALUES (1, :t, 1, 100, 'graph'), (1, :later, 5, NULL, 'graph')",
        ):
            connection.execute(text(statement), {"t": naive, "later": naive + timedelta(hours=6)})
    upgrade(engine)
    with session_factory(engine)() as session:
        first, second = session.get_one(Publication, 1), session.get_one(Publication, 2)
        assert (first.latest_reactions, first.latest_reach) == (5, None)
        assert first.latest_interactions == 5
        assert first.latest_collected_at == SENT + timedelta(hours=6)
        assert (second.latest_reactions, second.latest_collected_at) == (None, None)
