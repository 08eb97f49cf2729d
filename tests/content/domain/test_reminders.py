"""Reminder planning keeps local wall-clock times across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from content.domain.reminders import plan_reminders, reminder_time
from content.domain.timeparse import zone

VILNIUS = zone("Europe/Vilnius")


def test_day_offsets_keep_the_local_time_across_spring_forward() -> None:
    # 2027-03-28 03:00 local: Vilnius moves from UTC+2 to UTC+3.
    starts = datetime(2027, 3, 28, 18, 0, tzinfo=VILNIUS).astimezone(UTC)
    one_day = reminder_time(starts, 1440, VILNIUS)
    assert one_day.astimezone(VILNIUS).replace(tzinfo=None) == datetime(2027, 3, 27, 18, 0)
    assert starts - one_day == timedelta(hours=23)
    seven_days = reminder_time(starts, 7 * 1440, VILNIUS)
    assert seven_days.astimezone(VILNIUS).hour == 18


def test_hour_offsets_are_exact_durations_across_fall_back() -> None:
    # 2027-10-31 04:00 local: back from UTC+3 to UTC+2.
    starts = datetime(2027, 10, 31, 5, 0, tzinfo=VILNIUS).astimezone(UTC)
    assert starts - reminder_time(starts, 120, VILNIUS) == timedelta(hours=2)


def test_a_day_offset_landing_in_the_gap_moves_to_the_next_valid_time() -> None:
    starts = datetime(2027, 3, 29, 3, 30, tzinfo=VILNIUS).astimezone(UTC)
    due = reminder_time(starts, 1440, VILNIUS)
    assert due.astimezone(VILNIUS).replace(tzinfo=None) == datetime(2027, 3, 28, 4, 30)


def test_offsets_already_past_are_skipped() -> None:
    now = datetime(2026, 12, 1, 10, tzinfo=UTC)
    starts = now + timedelta(days=2)
    planned = plan_reminders(starts, [10080, 1440, 120], now, VILNIUS)
    assert [r.offset_minutes for r in planned] == [1440, 120]
    assert planned == sorted(planned, key=lambda r: r.due_at)


@given(
    st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2030, 1, 1)),
    st.lists(st.integers(min_value=1, max_value=30 * 1440), max_size=6),
)
def test_every_planned_reminder_is_before_the_start_and_after_now(
    start: datetime, offsets: list[int]
) -> None:
    starts = start.replace(tzinfo=UTC)
    now = starts - timedelta(days=10)
    for reminder in plan_reminders(starts, offsets, now, VILNIUS):
        assert now < reminder.due_at < starts
