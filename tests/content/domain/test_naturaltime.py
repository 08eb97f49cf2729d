"""Times typed in Russian, Kazakh, Lithuanian and English, read in the organisation's zone."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from content.domain.naturaltime import normalise, parse_natural_time
from content.domain.timeparse import zone
from content.errors import InvalidInput

ALMATY = zone("Asia/Almaty")
VILNIUS = zone("Europe/Vilnius")
# Tuesday 1 December 2026, 09:00 in Almaty.
NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)


def almaty(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, day, hour, minute, tzinfo=ALMATY).astimezone(UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("завтра в 10", almaty(2, 10)),
        ("ертең 10:00", almaty(2, 10)),
        ("rytoj 10:00", almaty(2, 10)),
        ("next Friday 18:30", almaty(4, 18, 30)),
        ("сегодня в 18:00", almaty(1, 18)),
        ("бүгін 18:00", almaty(1, 18)),
        ("šiandien 18:00", almaty(1, 18)),
        ("бүрсігүні 10:00", almaty(3, 10)),
        ("poryt 10", almaty(3, 10)),
        ("келесі жұма 18:30", almaty(4, 18, 30)),
        ("kitą penktadienį 18:30", almaty(4, 18, 30)),
        ("в пятницу в 18:30", almaty(4, 18, 30)),
        ("завтра в 6 вечера", almaty(2, 18)),
        ("tomorrow at 10", almaty(2, 10)),
        ("ертең сағат 10", almaty(2, 10)),
        ("12 декабря 9:30", almaty(12, 9, 30)),
        ("через 2 часа", almaty(1, 11)),
        ("2026-12-05 10:00", almaty(5, 10)),
        ("now", NOW),
    ],
)
def test_the_ways_people_say_a_time(text: str, expected: datetime) -> None:
    assert parse_natural_time(text, ALMATY, NOW) == expected


def test_the_zone_is_the_organisations() -> None:
    # 09:00 in Almaty is 06:00 in Vilnius: "tomorrow 10:00" there is four hours later in UTC.
    assert parse_natural_time("rytoj 10:00", VILNIUS, NOW) == datetime(
        2026, 12, 2, 8, 0, tzinfo=UTC
    )


@pytest.mark.parametrize("name", ["Asia/Almaty", "Europe/Moscow", "Europe/Vilnius"])
def test_a_time_of_day_alone_is_today_in_the_zone(name: str) -> None:
    tz = zone(name)
    local_now = NOW.astimezone(tz)
    later = (local_now.hour + 1) % 24
    expected = local_now.replace(hour=later, minute=30).astimezone(UTC)
    assert parse_natural_time(f"{later}:30", tz, NOW) == expected
    with pytest.raises(InvalidInput, match="is in the past"):
        parse_natural_time(f"{(local_now.hour - 1) % 24:02d}:00", tz, NOW)


def test_a_time_already_gone_today_is_refused_not_moved() -> None:
    with pytest.raises(InvalidInput, match="is in the past"):
        parse_natural_time("сегодня в 8:00", ALMATY, NOW)
    with pytest.raises(InvalidInput, match="is in the past"):
        parse_natural_time("вчера в 10", ALMATY, NOW)
    with pytest.raises(InvalidInput, match="is in the past"):
        parse_natural_time("2026-11-30 10:00", ALMATY, NOW)


@pytest.mark.parametrize("text", ["когда-нибудь в 10", "asdf 10", "в 25:00"])
def test_what_is_not_a_time_is_refused_with_examples(text: str) -> None:
    with pytest.raises(InvalidInput, match="cannot read the time") as caught:
        parse_natural_time(text, ALMATY, NOW)
    assert caught.value.params["text"] == text


@pytest.mark.parametrize("text", ["завтра", "tomorrow", "rytoj"])
def test_a_day_without_an_hour_asks_for_the_hour(text: str) -> None:
    with pytest.raises(InvalidInput, match="has no time of day"):
        parse_natural_time(text, ALMATY, NOW)


def test_normalise_translates_only_what_dateparser_misses() -> None:
    assert normalise("ертең 10:00") == "tomorrow 10:00"
    assert normalise("Kitą  penktadienį 18:30") == "next friday 18:30"
    assert normalise("завтра в 10") == "завтра 10:00"
    assert normalise("rytoj 10:00") == "rytoj 10:00"
    assert normalise("12 марта") == "12 марта"  # a day of the month is not an hour
