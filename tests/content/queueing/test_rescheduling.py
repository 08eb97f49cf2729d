"""Moving an event moves its unsent announcement and reminders; what was sent stays sent."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from content.domain.states import PublicationKind, PublicationState
from content.errors import InvalidInput, NotFound
from content.queueing.rescheduling import reschedule_event
from content.queueing.scheduling import NewEvent, add_event, cancel_event
from content.storage.models import AuditEntry, Event, Publication
from tests.support.library import Library, library

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
STARTS = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)  # 18:00 in Vilnius
WEEK, DAY, TWO_HOURS = 10080, 1440, 120


@pytest.fixture
def lib(database_url: str, tmp_path: Path) -> Iterator[Library]:
    with library(database_url, tmp_path) as created:
        yield created


def make_event(lib: Library, channels: list[str] | None = None) -> int:
    with lib.transaction() as (session, org):
        new = NewEvent(
            title="Author talk",
            starts_at=STARTS,
            ends_at=STARTS + timedelta(hours=2),
            channels=channels or ["news", "fb"],
            announce_at=NOW,
            reminder_offsets=[WEEK, DAY, TWO_HOURS],
        )
        return add_event(session, org, new, lib.media_dir, NOW, "test").id


def reminders(lib: Library, event_id: int) -> dict[tuple[str, int, str], datetime]:
    with lib.sessions() as session:
        event = session.get(Event, event_id)
        assert event is not None
        return {
            (p.channel.name, p.offset_minutes or 0, p.state.value): p.due_at
            for p in event.publications
            if p.kind is PublicationKind.REMINDER
        }


def test_moving_later_moves_each_reminder_and_the_end(lib: Library) -> None:
    event_id = make_event(lib)
    later = STARTS + timedelta(days=3)
    with lib.transaction() as (session, org):
        result = reschedule_event(session, org, event_id, later, now=NOW, actor="test")
    assert (result.moved, result.added, result.withdrawn) == (6, 0, 0)
    planned = reminders(lib, event_id)
    assert planned[("news", DAY, "scheduled")] == later - timedelta(days=1)
    assert planned[("fb", WEEK, "scheduled")] == later - timedelta(days=7)
    assert planned[("fb", TWO_HOURS, "scheduled")] == later - timedelta(hours=2)
    with lib.sessions() as session:
        event = session.get(Event, event_id)
        assert event is not None
        assert (event.starts_at, event.ends_at) == (later, later + timedelta(hours=2))
        actions = session.scalars(select(AuditEntry.action)).all()
        assert "event.reschedule" in actions


def test_moving_earlier_withdraws_past_reminders_and_keeps_sent_ones(lib: Library) -> None:
    event_id = make_event(lib)
    with lib.transaction() as (session, _org):
        sent = session.scalars(
            select(Publication).where(
                Publication.event_id == event_id,
                Publication.offset_minutes == WEEK,
                Publication.channel.has(name="news"),
            )
        ).one()
        sent.state = PublicationState.SENT
    sooner = NOW + timedelta(days=3)  # the 7-day reminder's time has passed
    with lib.transaction() as (session, org):
        result = reschedule_event(session, org, event_id, sooner, now=NOW, actor="test")
    planned = reminders(lib, event_id)
    assert planned[("news", WEEK, "sent")] == STARTS - timedelta(days=7)  # history stays
    assert ("fb", WEEK, "cancelled") in planned
    assert planned[("fb", DAY, "scheduled")] == sooner - timedelta(days=1)
    assert result.withdrawn == 1


def test_moving_later_plans_reminders_that_were_skipped(lib: Library) -> None:
    with lib.transaction() as (session, org):
        new = NewEvent(
            title="Soon",
            starts_at=NOW + timedelta(days=2),
            channels=["news"],
            announce_at=NOW,
            reminder_offsets=[WEEK, DAY],
        )
        event_id = add_event(session, org, new, lib.media_dir, NOW, "test").id
    assert set(reminders(lib, event_id)) == {("news", DAY, "scheduled")}
    later = NOW + timedelta(days=20)
    with lib.transaction() as (session, org):
        result = reschedule_event(session, org, event_id, later, now=NOW, actor="test")
    assert result.added == 1
    assert reminders(lib, event_id)[("news", WEEK, "scheduled")] == later - timedelta(days=7)


def test_an_announcement_after_the_new_start_goes_out_now(lib: Library) -> None:
    with lib.transaction() as (session, org):
        new = NewEvent(
            title="Late announcement",
            starts_at=STARTS,
            channels=["news"],
            announce_at=STARTS - timedelta(days=1),
            reminder_offsets=[TWO_HOURS],
        )
        event_id = add_event(session, org, new, lib.media_dir, NOW, "test").id
    with lib.transaction() as (session, org):
        reschedule_event(session, org, event_id, NOW + timedelta(hours=5), now=NOW, actor="test")
        announcement = session.scalars(
            select(Publication).where(
                Publication.event_id == event_id,
                Publication.kind == PublicationKind.ANNOUNCEMENT,
            )
        ).one()
        assert announcement.due_at == NOW


def test_refusals_change_nothing(lib: Library) -> None:
    event_id = make_event(lib)
    before = reminders(lib, event_id)
    with lib.transaction() as (session, org):
        with pytest.raises(InvalidInput, match="in the past"):
            reschedule_event(session, org, event_id, NOW - timedelta(hours=1), now=NOW, actor="t")
        with pytest.raises(InvalidInput, match="end after it starts"):
            reschedule_event(session, org, event_id, STARTS, now=NOW, actor="t", new_ends_at=STARTS)
        with pytest.raises(NotFound):
            reschedule_event(session, org, 999, STARTS, now=NOW, actor="t")
        cancel_event(session, org, event_id, "t")
        with pytest.raises(InvalidInput, match="already cancelled"):
            reschedule_event(session, org, event_id, STARTS, now=NOW, actor="t")
    after = reminders(lib, event_id)
    assert {k[:2] for k in after} == {k[:2] for k in before}
