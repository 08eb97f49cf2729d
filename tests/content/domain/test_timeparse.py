"""Reading times and reminder offsets as people type them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content.domain.timeparse import format_offset, parse_offsets, parse_when, zone
from content.errors import InvalidInput
from content.i18n import explain

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
ALMATY = zone("Asia/Almaty")


def test_local_time_is_read_in_the_organisations_zone() -> None:
    assert parse_when("2026-12-01 10:00", ALMATY, NOW) == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)


def test_iso_with_offset_keeps_its_offset() -> None:
    assert parse_when("2026-12-01T10:00+02:00", ALMATY, NOW) == datetime(
        2026, 12, 1, 8, 0, tzinfo=UTC
    )
    assert parse_when("2026-12-01T10:00Z", ALMATY, NOW) == datetime(2026, 12, 1, 10, tzinfo=UTC)


def test_now_is_now() -> None:
    assert parse_when(" NOW ", ALMATY, NOW) == NOW


@pytest.mark.parametrize("text", ["tomorrow", "2026-13-01 10:00", "10:00", "2026-12-01", ""])
def test_unreadable_times_are_refused_with_the_text(text: str) -> None:
    with pytest.raises(InvalidInput, match="cannot read the time"):
        parse_when(text, ALMATY, NOW)


def test_past_times_are_refused() -> None:
    with pytest.raises(InvalidInput, match="is in the past"):
        parse_when("2026-11-20 10:00", ALMATY, NOW)
    assert parse_when("2026-11-20 10:00", ALMATY, NOW, allow_past=True) < NOW


def test_a_refused_time_is_named_as_staff_read_times_elsewhere() -> None:
    with pytest.raises(InvalidInput) as raised:
        parse_when("2026-11-20 10:00", ALMATY, NOW)
    assert str(raised.value) == "20 November, Friday, 10:00 is in the past: choose a later time"
    assert explain(raised.value, "ru").startswith("20 ноября, пятница, 10:00")
    with pytest.raises(InvalidInput) as long_ago:
        parse_when("2025-11-20T10:00+05:00", ALMATY, NOW)
    assert str(long_ago.value).startswith("20 November 2025, Thursday, 10:00 is in the past")


def test_a_time_skipped_by_daylight_saving_is_refused() -> None:
    vilnius = zone("Europe/Vilnius")
    with pytest.raises(InvalidInput, match="does not exist in Europe/Vilnius"):
        parse_when("2027-03-28 03:30", vilnius, NOW)


def test_unknown_zone_is_named() -> None:
    with pytest.raises(InvalidInput, match="Mars/Olympus"):
        zone("Mars/Olympus")


def test_offsets_read_and_print_back() -> None:
    assert parse_offsets("7d, 1d,2h,30m,2h") == [10080, 1440, 120, 30]
    assert [format_offset(m) for m in (10080, 1440, 120, 30, 90)] == [
        "7d",
        "1d",
        "2h",
        "30m",
        "90m",
    ]
    assert parse_offsets("1w") == [10080]


@pytest.mark.parametrize("text", ["7x", "d", "0h", "-1d"])
def test_bad_offsets_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput, match="reminder offset"):
        parse_offsets(text)


@pytest.mark.parametrize("text", ["366d", "99999w", "8761h", "525601m", "53w"])
def test_offsets_beyond_a_year_are_refused_with_the_limit(text: str) -> None:
    with pytest.raises(InvalidInput, match=r"at most 365 days \(365d\) before the event"):
        parse_offsets(f"1d,{text}")


@given(st.integers(min_value=1, max_value=10**30), st.sampled_from("mhdw"))
def test_every_offset_read_is_within_a_year(number: int, unit: str) -> None:
    text = f"{number}{unit}"
    if number * {"m": 1, "h": 60, "d": 1440, "w": 10080}[unit] > 365 * 1440:
        with pytest.raises(InvalidInput, match="365 days"):
            parse_offsets(text)
        return
    (minutes,) = parse_offsets(text)
    assert 0 < minutes <= 365 * 1440
    assert parse_offsets(format_offset(minutes)) == [minutes]
