"""Planning an event's reminder publications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

DEFAULT_OFFSETS = (7 * 1440, 1440, 120)  # 7d, 1d, 2h before the start


@dataclass(frozen=True)
class PlannedReminder:
    offset_minutes: int
    due_at: datetime  # aware UTC


def reminder_time(starts_at: datetime, offset_minutes: int, tz: ZoneInfo) -> datetime:
    """When a reminder `offset_minutes` before `starts_at` is due.

    Whole-day offsets keep the local wall-clock time ("1 day before" a 18:00 event is 18:00 the
    day before, even across a daylight-saving change); other offsets are exact durations.
    """
    if offset_minutes % 1440:
        return starts_at - timedelta(minutes=offset_minutes)
    local = starts_at.astimezone(tz).replace(tzinfo=None) - timedelta(days=offset_minutes // 1440)
    aware = local.replace(tzinfo=tz)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != local:
        # That wall-clock time was skipped by a spring-forward change: use the same instant
        # shifted by the gap, i.e. the first valid local time after it.
        aware = (local + timedelta(hours=1)).replace(tzinfo=tz)
    return aware.astimezone(UTC)


def plan_reminders(
    starts_at: datetime, offsets: list[int] | tuple[int, ...], now: datetime, tz: ZoneInfo
) -> list[PlannedReminder]:
    """Reminders still ahead of `now`, earliest first; offsets already past are skipped."""
    planned = {
        offset: reminder_time(starts_at, offset, tz) for offset in set(offsets) if offset > 0
    }
    return sorted(
        (PlannedReminder(offset, due) for offset, due in planned.items() if due > now),
        key=lambda r: r.due_at,
    )
