"""The partners job: partner libraries' recent public posts read with the real instaloader from
the sandbox's public Instagram, for two libraries; hidden counts kept unknown, throttling and
accounts gone private handled, each account read again after `PARTNER_EVERY`."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from channels.instagram_public import InstaloaderCollector
from content.analytics.partners import partner_summaries
from content.analytics.periods import Period
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import Organization, PartnerAccount
from content.storage.partners import PARTNER_EVERY, add_partner
from sandbox.graph_state import graph_state
from sandbox.runner import SandboxThread
from scheduler.clock import ManualClock
from scheduler.partners import read_partners

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    database = make_engine(database_url)
    upgrade(database)
    made = session_factory(database)
    with made.begin() as session:
        regional = Organization(name="Regional Library", timezone="Europe/Vilnius", language="lt")
        session.add(regional)
        session.flush()
        district = Organization(
            name="District Library", timezone="Asia/Almaty", language="kk", parent_id=regional.id
        )
        session.add(district)
        session.flush()
        add_partner(session, regional, "district_library", None, "test")
        add_partner(session, regional, "village_reading_room", None, "test")
        add_partner(session, district, "village_reading_room", None, "test")
    yield made
    database.dispose()


@pytest.fixture
def reader(sandbox: SandboxThread) -> Iterator[InstaloaderCollector]:
    collector = InstaloaderCollector(sandbox.base_url + "/instagram-web", timeout=5)
    yield collector
    collector.close()


def _partners(sessions: sessionmaker[Session]) -> dict[tuple[str, str], PartnerAccount]:
    with sessions() as session:
        rows = session.execute(
            select(Organization.name, PartnerAccount).join(
                Organization, Organization.id == PartnerAccount.organization_id
            )
        ).all()
        for _, partner in rows:
            _ = partner.posts  # loaded while the session is open
        return {(org, partner.username): partner for org, partner in rows}


async def test_recent_posts_are_read_for_each_library_and_hidden_counts_stay_unknown(
    sessions: sessionmaker[Session], reader: InstaloaderCollector, sandbox: SandboxThread
) -> None:
    clock = ManualClock(START)
    assert await read_partners(sessions, clock, lambda: reader) == 4 + 2 + 2

    found = _partners(sessions)
    village = found[("District Library", "village_reading_room")]
    assert village.full_name == "Village Reading Room"
    assert village.checked_at == START
    by_code = {p.shortcode: p for p in village.posts}
    assert by_code["VillPost02"].reactions is None  # hidden: unknown, never 0
    assert by_code["VillPost02"].views is None
    assert by_code["VillPost02"].comments is not None
    assert by_code["VillPost01"].reactions is not None
    assert {p.source for p in village.posts} == {"instaloader_public"}

    with sessions() as session:
        district_id = session.scalars(
            select(Organization.id).where(Organization.name == "District Library")
        ).one()
        (summary,) = partner_summaries(session, [district_id])
    assert (summary.totals.publications, summary.totals["reactions"].known) == (2, 1)
    assert summary.totals["reactions"].value == by_code["VillPost01"].reactions

    # Not read again within the 6 hours; after them, read again with the counts of then.
    clock.advance(hours=1)
    assert await read_partners(sessions, clock, lambda: reader) == 0
    before = by_code["VillPost01"].reactions
    sandbox.call(lambda: sandbox.sandbox.clock.advance(12 * 3600))
    clock.advance(seconds=PARTNER_EVERY.total_seconds())
    assert await read_partners(sessions, clock, lambda: reader) == 8
    again = _partners(sessions)[("District Library", "village_reading_room")]
    newer = next(p for p in again.posts if p.shortcode == "VillPost01")
    assert newer.collected_at == clock.now()
    assert newer.reactions is not None
    assert before is not None
    assert newer.reactions >= before

    newest = max(p.posted_at for p in again.posts)  # on the sandbox's clock, 2 h before its start
    recent = Period(newest - timedelta(hours=1), newest + timedelta(hours=1))
    with sessions() as session:
        (only_recent,) = partner_summaries(session, [district_id], recent)
    assert [p.shortcode for p in only_recent.posts] == ["VillPost01"]


async def test_throttling_stops_the_round_and_an_account_gone_private_is_noted(
    sessions: sessionmaker[Session], reader: InstaloaderCollector, sandbox: SandboxThread
) -> None:
    clock = ManualClock(START)
    sandbox.call(lambda: sandbox.sandbox.faults.force("public_web", "429"))
    assert await read_partners(sessions, clock, lambda: reader) == 0
    assert all(p.checked_at is None for p in _partners(sessions).values())  # all still due

    def go_private() -> None:
        graph_state(sandbox.sandbox).public_profiles["district_library"].is_private = True

    sandbox.call(go_private)
    assert await read_partners(sessions, clock, lambda: reader) == 2 + 2
    gone = _partners(sessions)[("Regional Library", "district_library")]
    assert gone.checked_at == START
    assert gone.last_error == "the Instagram account district_library is private"
    assert gone.posts == []
