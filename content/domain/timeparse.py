"""Reading the times people type ("now", ISO 8601, local "YYYY-MM-DD HH:MM") as aware UTC."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo, available_timezones

from content.errors import InvalidInput, LocalMoment

_KNOWN_ZONES = available_timezones() | {"UTC"}
_LOCAL = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{1,2}:\d{2}(:\d{2})?$")
_OFFSET = re.compile(r"^\s*(\d+)\s*([mhdw])\s*$")
_UNIT_MINUTES = {"m": 1, "h": 60, "d": 1440, "w": 10080}
# A reminder a year ahead is already more than anyone plans; beyond it is a typo (99999w).
MAX_OFFSET_MINUTES = 365 * 1440


def zone(name: str) -> ZoneInfo:
    """The IANA zone `name`, or InvalidInput naming it."""
    if name in _KNOWN_ZONES:
        return ZoneInfo(name)
    raise InvalidInput(
        "unknown time zone {zone!r}: use an IANA name such as Asia/Almaty or Europe/Vilnius",
        zone=name,
    )


def local_to_utc(naive: datetime, tz: ZoneInfo) -> datetime:
    """Interpret a wall-clock time in `tz`; refuse a time skipped by a daylight-saving change."""
    aware = naive.replace(tzinfo=tz)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        raise InvalidInput(
            "{time} does not exist in {zone} (the clocks jump at a daylight-saving change): "
            "pick another time",
            time=naive.strftime("%Y-%m-%d %H:%M"),
            zone=tz.key,
        )
    return aware.astimezone(UTC)


def parse_when(text: str, tz: ZoneInfo, now: datetime, *, allow_past: bool = False) -> datetime:
    """`now`, ISO 8601 with an offset, or `YYYY-MM-DD HH:MM` in `tz`, as aware UTC.

    Raises InvalidInput for anything else, and for a time in the past unless `allow_past`.
    """
    value = text.strip()
    if value.lower() == "now":
        return now.astimezone(UTC)
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise InvalidInput(
            "cannot read the time {text!r}: write now, 2026-12-01 10:00 (local time) "
            "or 2026-12-01T10:00+05:00",
            text=text,
        ) from None
    if parsed.tzinfo is None:
        if not _LOCAL.match(value) and "T" not in value:
            raise InvalidInput(
                "cannot read the time {text!r}: give a date and a time, e.g. 2026-12-01 10:00",
                text=text,
            )
        result = local_to_utc(parsed, tz)
    else:
        result = parsed.astimezone(UTC)
    # A minute of slack: "10:00" typed at 10:00:30 still means now, not the past.
    if not allow_past and result < now - timedelta(minutes=1):
        raise InvalidInput(
            "{time} is in the past: choose a later time",
            time=LocalMoment(result.astimezone(tz), now),
        )
    return result


def parse_offsets(text: str) -> list[int]:
    """Reminder offsets like `7d,1d,2h,30m` as minutes, largest first, without repeats."""
    minutes: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _OFFSET.match(part.lower())
        if not match or int(match.group(1)) == 0:
            raise InvalidInput(
                "cannot read the reminder offset {part!r}: use numbers with m, h, d or w, "
                "e.g. 7d,1d,2h",
                part=part,
            )
        offset = int(match.group(1)) * _UNIT_MINUTES[match.group(2)]
        if offset > MAX_OFFSET_MINUTES:
            raise InvalidInput(
                "the reminder offset {part!r} is too far ahead: a reminder goes at most "
                "{days} days ({days}d) before the event",
                part=part,
                days=MAX_OFFSET_MINUTES // 1440,
            )
        minutes.add(offset)
    return sorted(minutes, reverse=True)


def format_offset(minutes: int) -> str:
    """The shortest spelling of an offset: 10080 → 7d, 120 → 2h, 90 → 90m."""
    for unit, size in (("w", 10080), ("d", 1440), ("h", 60)):
        if minutes % size == 0:
            if unit == "w":
                return f"{minutes // 1440}d"
            return f"{minutes // size}{unit}"
    return f"{minutes}m"


def to_local(moment: datetime, tz: ZoneInfo) -> datetime:
    return moment.astimezone(tz)
