"""How a moment reads to people: one format, in the organisation's zone and the reader's
language."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from content.domain.templates import local_time

ALMATY = ZoneInfo("Asia/Almaty")
VILNIUS = ZoneInfo("Europe/Vilnius")
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "5 December, Saturday, 18:00"),
        ("ru", "5 декабря, суббота, 18:00"),
        ("lt", "5 gruodžio, šeštadienis, 18:00"),
    ],
)
def test_a_moment_reads_in_the_zone_and_language(language: str, expected: str) -> None:
    moment = datetime(2026, 12, 5, 13, 0, tzinfo=UTC)  # 18:00 in Almaty
    assert local_time(moment, ALMATY, language, NOW) == expected


def test_the_zone_decides_the_day_and_the_year() -> None:
    moment = datetime(2026, 12, 31, 22, 30, tzinfo=UTC)  # already 2027 in Vilnius
    assert local_time(moment, ALMATY, "en", NOW) == "1 January 2027, Friday, 03:30"
    assert local_time(moment, VILNIUS, "en", NOW) == "1 January 2027, Friday, 00:30"
    assert local_time(moment, ZoneInfo("UTC"), "en", NOW) == "31 December, Thursday, 22:30"


def test_without_now_the_year_is_left_out() -> None:
    moment = datetime(2027, 1, 5, 10, 0, tzinfo=UTC)
    assert local_time(moment, ZoneInfo("UTC"), "en") == "5 January, Tuesday, 10:00"
