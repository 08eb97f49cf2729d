"""Weekly posting slots: wall-clock times across daylight-saving changes, and the next free one."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content.errors import InvalidInput
from content.queueing.scheduling import NewPost, cancel_post, queue_post
from content.queueing.slots import (
    WeeklyTime,
    add_slot,
    means_next_slot,
    next_free_slot,
    parse_clock,
    parse_weekdays,
    remove_slot,
    slot_times,
    slots_of,
    wall_clock_to_utc,
)
from tests.support.images import make_image
from tests.support.library import Library, library

VILNIUS = ZoneInfo("Europe/Vilnius")
TUE_THU_10 = [WeeklyTime(1, 600), WeeklyTime(3, 600)]


def test_weekdays_and_times_are_read_as_people_write_them() -> None:
    assert parse_weekdays("tue,thu") == [1, 3]
    assert parse_weekdays("Mon-Fri") == [0, 1, 2, 3, 4]
    assert parse_weekdays("sat-mon") == [0, 5, 6]
    assert parse_weekdays("daily") == list(range(7))
    assert parse_weekdays("Tuesday, thursday") == [1, 3]
    assert parse_clock("10:00") == 600
    assert parse_clock("7:05") == 425
    for bad in ("", "tue,xyz", "mon-tue-wed"):
        with pytest.raises(InvalidInput, match="weekdays"):
            parse_weekdays(bad)
    for bad in ("25:00", "10", "10:60"):
        with pytest.raises(InvalidInput, match="time of day"):
            parse_clock(bad)
    assert means_next_slot("next-slot")
    assert means_next_slot(" Next Slot ")
    assert not means_next_slot("now")


def test_slots_keep_their_wall_clock_time_across_daylight_saving() -> None:
    # Vilnius moves from +02 to +03 on Sunday 2026-03-29 and back on Sunday 2026-10-25.
    after = datetime(2026, 3, 23, 0, 0, tzinfo=UTC)
    spring = list(slot_times(TUE_THU_10, VILNIUS, after, after + timedelta(days=14)))
    assert [m.astimezone(VILNIUS).strftime("%a %d %H:%M") for m in spring] == [
        "Tue 24 10:00",
        "Thu 26 10:00",
        "Tue 31 10:00",
        "Thu 02 10:00",
    ]
    assert [m.hour for m in spring] == [8, 8, 7, 7]  # UTC: the offset changed, the slot did not
    autumn_after = datetime(2026, 10, 19, 0, 0, tzinfo=UTC)
    autumn = list(slot_times(TUE_THU_10, VILNIUS, autumn_after, autumn_after + timedelta(days=14)))
    assert [m.hour for m in autumn] == [7, 7, 8, 8]


def test_a_slot_skipped_or_repeated_by_the_change_still_happens_once() -> None:
    sunday_0330 = WeeklyTime(6, 3 * 60 + 30)
    after = datetime(2026, 3, 28, tzinfo=UTC)
    (spring,) = slot_times([sunday_0330], VILNIUS, after, after + timedelta(days=2))
    # 03:30 does not exist on 2026-03-29: the slot moves on by the hour the clocks jumped.
    assert spring.astimezone(VILNIUS).strftime("%Y-%m-%d %H:%M %Z") == "2026-03-29 04:30 EEST"
    after = datetime(2026, 10, 24, tzinfo=UTC)
    (autumn,) = slot_times([sunday_0330], VILNIUS, after, after + timedelta(days=2))
    # 03:30 happens twice on 2026-10-25: the slot is the first of them.
    assert autumn == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)


@given(
    day=st.dates(min_value=date(2020, 1, 1), max_value=date(2035, 12, 31)),
    minute=st.integers(min_value=0, max_value=1439),
)
def test_wall_clock_times_round_trip_unless_the_clocks_skip_them(day: date, minute: int) -> None:
    moment = wall_clock_to_utc(day, minute, VILNIUS)
    local = moment.astimezone(VILNIUS)
    if local.date() == day and local.hour * 60 + local.minute == minute:
        return
    # Only a spring-forward gap may move a time, and then by exactly the gap (one hour).
    assert local.date() == day
    assert local.hour * 60 + local.minute == minute + 60


def test_slot_times_are_strictly_after_and_ordered() -> None:
    after = datetime(2026, 3, 24, 8, 0, tzinfo=UTC)  # exactly Tue 10:00 in Vilnius
    moments = list(slot_times(TUE_THU_10, VILNIUS, after, after + timedelta(days=30)))
    assert moments[0] > after
    assert moments == sorted(moments)
    assert len(moments) == 9  # Thu 26 Mar … Thu 23 Apr (10:00 EEST is before 08:00 UTC)


@pytest.fixture
def lib(database_url: str, tmp_path: Path) -> Iterator[Library]:
    with library(database_url, tmp_path) as created:
        yield created


MONDAY = datetime(2026, 3, 23, 9, 0, tzinfo=UTC)  # Monday 11:00 in Vilnius


def test_next_free_slot_skips_slots_already_taken(lib: Library) -> None:
    with lib.transaction() as (session, org):
        add_slot(session, org, "news", [1, 3], 600, "test")
        first = next_free_slot(session, ["news"], MONDAY, org=org)
        assert first == datetime(2026, 3, 24, 8, 0, tzinfo=UTC)
        post = queue_post(session, org, NewPost("A", ["news"], first), lib.media_dir, "test")
        second = next_free_slot(session, ["news"], MONDAY, org=org)
        assert second == datetime(2026, 3, 26, 8, 0, tzinfo=UTC)
        # A post queued near (not exactly at) a slot also takes it.
        queue_post(
            session,
            org,
            NewPost("B", ["news"], second + timedelta(minutes=10)),
            lib.media_dir,
            "test",
        )
        # Across the change to summer time, Tue 10:00 is 07:00 UTC.
        assert next_free_slot(session, ["news"], MONDAY, org=org) == datetime(
            2026, 3, 31, 7, tzinfo=UTC
        )
        # A cancelled post gives its slot back.
        cancel_post(session, org, post.id, "test")
        assert next_free_slot(session, ["news"], MONDAY, org=org) == first


def test_several_channels_share_a_slot_free_on_all_of_them(lib: Library, tmp_path: Path) -> None:
    with lib.transaction() as (session, org):
        add_slot(session, org, "news", [1, 3], 600, "test")
        add_slot(session, org, "fb", [3, 4], 600, "test")
        both = next_free_slot(session, ["news", "fb"], MONDAY, org=org)
        assert both.astimezone(VILNIUS).strftime("%a %H:%M") == "Thu 10:00"
        # A channel without slots of its own follows the others, and must be free too.
        tuesday = datetime(2026, 3, 24, 8, tzinfo=UTC)
        assert next_free_slot(session, ["news", "ig"], MONDAY, org=org) == tuesday
        image = make_image(tmp_path / "poster.jpg")
        new = NewPost("A", ["ig"], tuesday, images=[image])
        queue_post(session, org, new, lib.media_dir, "test")
        assert next_free_slot(session, ["news", "ig"], MONDAY, org=org) == tuesday + timedelta(
            days=2
        )


def test_channels_without_slots_or_free_times_are_refused(lib: Library) -> None:
    with lib.transaction() as (session, org):
        with pytest.raises(InvalidInput, match="has no posting times"):
            next_free_slot(session, ["news"], MONDAY, org=org)
        with pytest.raises(InvalidInput, match="unknown channel"):
            next_free_slot(session, ["nope"], MONDAY, org=org)
        add_slot(session, org, "news", [1], 600, "test")
        add_slot(session, org, "fb", [2], 600, "test")
        with pytest.raises(InvalidInput, match="no free posting time in the next 8 weeks"):
            next_free_slot(session, ["news", "fb"], MONDAY, org=org)


def test_slots_are_added_once_and_removed(lib: Library) -> None:
    with lib.transaction() as (session, org):
        assert len(add_slot(session, org, "news", [1, 3], 600, "test")) == 2
        assert len(add_slot(session, org, "news", [3, 4], 600, "test")) == 1
        assert [(s.weekday, s.minute) for s in slots_of(session)] == [(1, 600), (3, 600), (4, 600)]
        assert remove_slot(session, org, "news", [3, 4], 600, "test") == 2
        with pytest.raises(InvalidInput, match="no such posting time"):
            remove_slot(session, org, "news", [3], 600, "test")
        assert [(s.weekday, s.minute) for s in slots_of(session)] == [(1, 600)]
