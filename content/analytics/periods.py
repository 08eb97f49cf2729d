"""Periods reports cover: calendar months and spans such as `30d`, in the organisation's zone."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from content.errors import InvalidInput

_MONTH = re.compile(r"^\s*(\d{4})-(\d{1,2})\s*$")
_SPAN = re.compile(r"^\s*(\d{1,4})\s*([dw])\s*$")


@dataclass(frozen=True)
class Period:
    """From `start` (inclusive) to `end` (exclusive), aware UTC."""

    start: datetime
    end: datetime

    @property
    def length(self) -> timedelta:
        return self.end - self.start

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - self.length, self.start)


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(), tzinfo=tz).astimezone(UTC)


def parse_month(text: str) -> date:
    """`2026-11` as the first day of that month."""
    found = _MONTH.match(text)
    if found and 1 <= int(found.group(2)) <= 12 and int(found.group(1)) >= 1970:
        return date(int(found.group(1)), int(found.group(2)), 1)
    raise InvalidInput(
        "cannot read the month {month!r}: write it as YYYY-MM, e.g. 2026-11", month=text
    )


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def previous_month(first: date) -> date:
    return date(first.year - (first.month == 1), (first.month - 2) % 12 + 1, 1)


def month_period(first: date, tz: ZoneInfo) -> Period:
    """The calendar month that starts on `first`, in `tz`."""
    return Period(local_midnight(first, tz), local_midnight(next_month(first), tz))


def last_month(now: datetime, tz: ZoneInfo) -> date:
    """The first day of the month before `now`'s (what a monthly report on the 1st covers)."""
    return previous_month(now.astimezone(tz).date().replace(day=1))


def parse_span(text: str) -> timedelta:
    """`30d` or `4w` as a length of time."""
    found = _SPAN.match(text)
    if found and int(found.group(1)) > 0:
        days = int(found.group(1)) * (7 if found.group(2) == "w" else 1)
        if days <= 3660:
            return timedelta(days=days)
    raise InvalidInput(
        "cannot read the period {period!r}: write a number of days or weeks, e.g. 30d or 4w",
        period=text,
    )


def ending_at(now: datetime, span: timedelta) -> Period:
    return Period(now - span, now)


def local_days(period: Period, tz: ZoneInfo) -> tuple[date, date]:
    """The first and the last local day `period` touches in `tz`."""
    last = (period.end - timedelta(microseconds=1)).astimezone(tz).date()
    first = period.start.astimezone(tz).date()
    return first, max(first, last)


def elapsed(period: Period, now: datetime) -> Period:
    """The part of `period` already past at `now` (empty, at its start, if it has not begun)."""
    return Period(period.start, max(period.start, min(period.end, now)))


def offset_spans(tz: ZoneInfo, period: Period) -> list[tuple[Period, int]]:
    """`period` cut where `tz`'s UTC offset changes, each piece with its offset in seconds.

    Lets the database group by local day or hour with plain arithmetic on epoch seconds.
    """

    def offset(moment: datetime) -> int:
        found = moment.astimezone(tz).utcoffset()
        return int(found.total_seconds()) if found else 0

    pieces: list[tuple[Period, int]] = []
    start, current = period.start, offset(period.start)
    probe = period.start
    while probe < period.end:
        step = min(probe + timedelta(days=1), period.end)
        if offset(step) == current:
            probe = step
            continue
        # Offsets change on a whole second: bisect the seconds of this day.
        low, high = 0, int((step - probe).total_seconds())
        while high - low > 1:
            middle = (low + high) // 2
            if offset(probe + timedelta(seconds=middle)) == current:
                low = middle
            else:
                high = middle
        change = probe + timedelta(seconds=high)
        pieces.append((Period(start, change), current))
        start, current, probe = change, offset(change), change
    pieces.append((Period(start, period.end), current))
    return [(p, o) for p, o in pieces if p.start < p.end]
