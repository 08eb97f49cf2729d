"""The time parsers: typed times in the four languages, ISO times, reminder offsets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from content.domain.languages import LANGUAGES
from content.domain.naturaltime import _WORDS, normalise, parse_natural_time
from content.domain.timeparse import (
    MAX_OFFSET_MINUTES,
    format_offset,
    local_to_utc,
    parse_offsets,
    parse_when,
)
from content.errors import InvalidInput
from content.i18n import explain
from tests.fuzz import batch, budget, ran

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
# Zones with and without daylight saving, one with a 30-minute change, one far east.
ZONES = st.sampled_from(
    [
        ZoneInfo(z)
        for z in (
            "UTC",
            "Asia/Almaty",
            "Europe/Vilnius",
            "America/New_York",
            "Australia/Lord_Howe",
            "Pacific/Kiritimati",
        )
    ]
)
WORDS = [
    *_WORDS,
    "завтра",
    "послезавтра",
    "сегодня",
    "вчера",
    "в",
    "утра",
    "вечера",
    "пятницу",
    "следующий",
    "ертең",
    "бүгін",
    "кеше",
    "сағат",
    "rytoj",
    "šiandien",
    "vakar",
    "val.",
    "penktadienį",
    "kitą",
    "tomorrow",
    "today",
    "yesterday",
    "next",
    "friday",
    "at",
    "pm",
    "am",
    "noon",
    "midnight",
    "in",
    "hours",
    "minutes",
    "days",
    "weeks",
    "ago",
    "2026-12-01",
    "31.12",
]
# Cheap strategies on purpose (sampled tokens, small integers): regular expressions and aware
# datetimes cost Hypothesis ten times more to draw, and the budget is a million inputs.
TOKENS = [
    *WORDS,
    "0",
    "6",
    "10",
    "18",
    "23",
    "24",
    "25",
    "99",
    "99999",
    "10:00",
    "18:30",
    "24:00",
    "25:61",
    "9:5",
    "10.30",
    "-1",
    "+05:00",
    "Z",
    "T",
    ",",
    ":",
    "",
]
PHRASES = st.lists(st.sampled_from(TOKENS), min_size=1, max_size=5).map(" ".join)
SEPARATORS = st.sampled_from([" ", "T", "  ", "t", "_"])
OFFSETS = st.sampled_from(["", "", "Z", "+05:00", "-03:30", "+0200", "+14:00", "+24:00", "-00:00"])


def _iso(y: int, mo: int, d: int, sep: str, h: int, mi: int, sec: int, off: str) -> str:
    seconds = f":{sec:02d}" if sec >= 0 else ""
    return f"{y:04d}-{mo:02d}-{d:02d}{sep}{h}:{mi:02d}{seconds}{off}"


ISO_LIKE = st.builds(
    _iso,
    st.integers(0, 10000),
    st.integers(0, 13),
    st.integers(0, 32),
    SEPARATORS,
    st.integers(0, 25),
    st.integers(0, 61),
    st.integers(-1, 60),
    OFFSETS,
)


def _explained(refusal: InvalidInput) -> None:
    """A refusal reads in every language (its message formats with its parameters)."""
    for language in LANGUAGES:
        assert explain(refusal, language)


def _an_answer(result: datetime, now: datetime) -> None:
    assert result.tzinfo is not None
    assert result.utcoffset() == timedelta(0)


@budget(4_000, 30)
@given(
    cases=batch(st.tuples(st.one_of(st.text(max_size=40), ISO_LIKE, PHRASES), ZONES, st.booleans()))
)
@example(cases=[("2027-03-28 03:30", ZoneInfo("Europe/Vilnius"), False)])
def test_parse_when(cases: list[tuple[str, ZoneInfo, bool]]) -> None:
    for text, tz, allow_past in cases:
        ran("timeparse.parse_when")
        _parse_when(text, tz, allow_past)


def _parse_when(text: str, tz: ZoneInfo, allow_past: bool) -> None:
    try:
        result = parse_when(text, tz, NOW, allow_past=allow_past)
    except InvalidInput as refusal:
        _explained(refusal)
        return
    _an_answer(result, NOW)
    if not allow_past:
        assert result >= NOW - timedelta(minutes=1)


NAIVE = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30))


@budget(2_000, 20)
@given(cases=batch(st.tuples(NAIVE, ZONES)))
def test_local_to_utc(cases: list[tuple[datetime, ZoneInfo]]) -> None:
    for naive, tz in cases:
        ran("timeparse.local_to_utc")
        _local_to_utc(naive, tz)


def _local_to_utc(naive: datetime, tz: ZoneInfo) -> None:
    try:
        moment = local_to_utc(naive, tz)
    except InvalidInput:
        return  # skipped by a daylight-saving change
    assert moment.tzinfo is UTC
    assert moment.astimezone(tz).replace(tzinfo=None) == naive


@budget(3_000, 20)
@given(texts=batch(st.one_of(st.text(max_size=40), st.from_regex(r"\A[\d\s,mhdwMHDW]*\Z"))))
def test_parse_offsets(texts: list[str]) -> None:
    for text in texts:
        ran("timeparse.parse_offsets")
        _parse_offsets(text)


def _parse_offsets(text: str) -> None:
    try:
        offsets = parse_offsets(text)
    except InvalidInput as refusal:
        _explained(refusal)
        return
    assert offsets == sorted(set(offsets), reverse=True)
    assert all(m > 0 for m in offsets)


@budget(1_000, 10)
@given(offsets=batch(st.integers(1, MAX_OFFSET_MINUTES)))
def test_format_offset_reads_back(offsets: list[int]) -> None:
    for minutes in offsets:
        ran("timeparse.format_offset")
        assert parse_offsets(format_offset(minutes)) == [minutes]


@budget(1_000, 10)
@given(offsets=batch(st.integers(MAX_OFFSET_MINUTES + 1, 10**9)))
def test_an_offset_past_a_year_is_refused(offsets: list[int]) -> None:
    for minutes in offsets:
        ran("timeparse.format_offset(past a year)")
        with pytest.raises(InvalidInput):
            parse_offsets(format_offset(minutes))


@budget(2_000, 20)
@given(texts=batch(st.one_of(st.text(max_size=60), PHRASES)))
def test_normalise(texts: list[str]) -> None:
    for text in texts:
        ran("naturaltime.normalise")
        assert isinstance(normalise(text), str)


@budget(2_500, 10)
@given(cases=batch(st.tuples(st.one_of(PHRASES, st.text(max_size=40), ISO_LIKE), ZONES), 10))
@example(cases=[("завтра в 10", ZoneInfo("Asia/Almaty")), ("ертең 10:00", ZoneInfo("Asia/Almaty"))])
@example(cases=[("kitą penktadienį 18:30", ZoneInfo("Europe/Vilnius"))])
def test_parse_natural_time(cases: list[tuple[str, ZoneInfo]]) -> None:
    for text, tz in cases:
        ran("naturaltime.parse_natural_time")
        _parse_natural_time(text, tz)


def _parse_natural_time(text: str, tz: ZoneInfo) -> None:
    try:
        result = parse_natural_time(text, tz, NOW)
    except InvalidInput as refusal:
        _explained(refusal)
        return
    _an_answer(result, NOW)
    assert result >= NOW - timedelta(minutes=1)
