"""Weekly posting slots per channel ("Tue and Thu 10:00") and the next free one.

Slots are wall-clock times in the organisation's zone, so a 10:00 slot stays at 10:00 across a
daylight-saving change. A slot is free on a channel when none of that channel's publications
(other than cancelled ones) is due within `SLOT_WINDOW` of it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.domain.states import PublicationState
from content.domain.timeparse import zone
from content.errors import InvalidInput
from content.storage.models import Channel, ChannelSlot, Organization, Publication
from content.storage.registry import audit, get_channel

NEXT_SLOT = "next-slot"
SLOT_WINDOW = timedelta(minutes=30)
HORIZON = timedelta(weeks=8)
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})$")


@dataclass(frozen=True)
class WeeklyTime:
    weekday: int  # 0 Monday … 6 Sunday
    minute: int  # minutes after local midnight

    @property
    def label(self) -> str:
        return (
            f"{WEEKDAYS[self.weekday].capitalize()} {self.minute // 60:02d}:{self.minute % 60:02d}"
        )


def means_next_slot(text: str) -> bool:
    """Whether a time someone typed asks for the next free slot."""
    return text.strip().lower() in (NEXT_SLOT, "next slot", "slot")


def parse_weekdays(text: str) -> list[int]:
    """`tue,thu`, `mon-fri` or `daily` as weekday numbers (Monday is 0)."""
    value = text.strip().lower()
    if value in ("daily", "every day", "*"):
        return list(range(7))
    days: set[int] = set()
    for part in filter(None, (p.strip() for p in value.split(","))):
        ends = [p.strip()[:3] for p in part.split("-")]
        if len(ends) > 2 or any(e not in WEEKDAYS for e in ends):
            raise InvalidInput(
                "cannot read the weekdays {text!r}: write e.g. tue,thu or mon-fri", text=text
            )
        first, last = WEEKDAYS.index(ends[0]), WEEKDAYS.index(ends[-1])
        days.update(
            range(first, last + 1) if first <= last else [*range(first, 7), *range(last + 1)]
        )
    if not days:
        raise InvalidInput(
            "cannot read the weekdays {text!r}: write e.g. tue,thu or mon-fri", text=text
        )
    return sorted(days)


def parse_clock(text: str) -> int:
    """`HH:MM` as minutes after midnight."""
    match = _TIME.match(text.strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise InvalidInput(
            "cannot read the time of day {text!r}: write HH:MM, e.g. 10:00", text=text
        )
    return int(match.group(1)) * 60 + int(match.group(2))


def wall_clock_to_utc(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The instant of `day` at `minute` in `tz`: a time skipped by a spring-forward change moves
    on by the gap; a repeated one (autumn) is the first of the two."""
    naive = datetime.combine(day, time(minute // 60, minute % 60))
    aware = naive.replace(tzinfo=tz)
    if aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != naive:
        gap = aware.replace(fold=1).utcoffset() or timedelta(0)
        gap -= aware.replace(fold=0).utcoffset() or timedelta(0)
        # In a gap, fold=0 reads the time with the offset before the change: shifting it forward by
        # the gap gives the same wall-clock distance after the change.
        aware = (naive + abs(gap)).replace(tzinfo=tz)
    return aware.astimezone(UTC)


def slot_times(
    weekly: Iterable[WeeklyTime], tz: ZoneInfo, after: datetime, until: datetime
) -> Iterator[datetime]:
    """The UTC instants of the weekly times strictly after `after` and before `until`, in order."""
    pattern = sorted(set(weekly), key=lambda w: w.minute)
    if not pattern:
        return
    day = after.astimezone(tz).date() - timedelta(days=1)
    last = until.astimezone(tz).date() + timedelta(days=1)
    while day <= last:
        moments = sorted(
            wall_clock_to_utc(day, w.minute, tz) for w in pattern if w.weekday == day.weekday()
        )
        for moment in moments:
            if after < moment < until:
                yield moment
        day += timedelta(days=1)


# Storage


def add_slot(
    session: Session,
    org: Organization,
    channel_name: str,
    weekdays: list[int],
    minute: int,
    actor: str,
) -> list[ChannelSlot]:
    """Add weekly posting times to one of `org`'s channels; times it has are kept once."""
    channel = get_channel(session, channel_name, org)
    existing = {(s.weekday, s.minute) for s in slots_of(session, [channel])}
    added = []
    for weekday in weekdays:
        if (weekday, minute) not in existing:
            slot = ChannelSlot(channel_id=channel.id, weekday=weekday, minute=minute)
            session.add(slot)
            added.append(slot)
    session.flush()
    labels = [WeeklyTime(s.weekday, s.minute).label for s in added]
    audit(session, org, actor, "slot.add", f"channel:{channel.id}", slots=labels)
    return added


def remove_slot(
    session: Session,
    org: Organization,
    channel_name: str,
    weekdays: list[int],
    minute: int,
    actor: str,
) -> int:
    """Remove weekly posting times from one of `org`'s channels; returns how many there were."""
    channel = get_channel(session, channel_name, org)
    removed = 0
    for slot in slots_of(session, [channel]):
        if slot.weekday in weekdays and slot.minute == minute:
            session.delete(slot)
            removed += 1
    if not removed:
        raise InvalidInput("channel {name!r} has no such posting time", name=channel_name)
    audit(session, org, actor, "slot.remove", f"channel:{channel.id}", removed=removed)
    return removed


def slots_of(
    session: Session, channels: list[Channel] | None = None, org: Organization | None = None
) -> list[ChannelSlot]:
    """Posting times, by channel name, weekday and time (of `channels`, or of all; of `org`'s
    channels only, when given)."""
    query = (
        select(ChannelSlot)
        .join(Channel)
        .order_by(Channel.name, ChannelSlot.weekday, ChannelSlot.minute)
    )
    if channels is not None:
        query = query.where(ChannelSlot.channel_id.in_([c.id for c in channels]))
    if org is not None:
        query = query.where(Channel.organization_id == org.id)
    return list(session.scalars(query))


def _taken(
    session: Session, channel_ids: list[int], start: datetime, end: datetime
) -> list[datetime]:
    return list(
        session.scalars(
            select(Publication.due_at).where(
                Publication.channel_id.in_(channel_ids),
                Publication.state != PublicationState.CANCELLED,
                Publication.due_at > start - SLOT_WINDOW,
                Publication.due_at < end + SLOT_WINDOW,
            )
        )
    )


def next_free_slot(
    session: Session,
    channel_names: list[str],
    after: datetime,
    *,
    org: Organization,
    horizon: timedelta = HORIZON,
) -> datetime:
    """The earliest posting time after `after` that every one of the channels with slots shares
    and that is free on all the channels; InvalidInput when none is within `horizon`.

    Channels without slots of their own follow the others; at least one channel needs slots.
    Only `org`'s own channels are found (their slots are theirs).
    """
    names = list(dict.fromkeys(n.strip() for n in channel_names if n.strip()))
    if not names:
        raise InvalidInput("choose at least one channel")
    channels = [get_channel(session, name, org) for name in names]
    owner = session.get(Organization, channels[0].organization_id)
    tz = zone(owner.timezone if owner else "UTC")
    weekly: dict[int, set[WeeklyTime]] = {}
    for slot in slots_of(session, channels):
        weekly.setdefault(slot.channel_id, set()).add(WeeklyTime(slot.weekday, slot.minute))
    if not weekly:
        raise InvalidInput(
            "{names} has no posting times: add some with `afisha slot add`, or give a time",
            names=", ".join(names),
        )
    until = after + horizon
    common = set.intersection(*(set(slot_times(w, tz, after, until)) for w in weekly.values()))
    taken = _taken(session, [c.id for c in channels], after, until)
    for moment in sorted(common):
        if all(abs(due - moment) >= SLOT_WINDOW for due in taken):
            return moment
    raise InvalidInput(
        "{names} has no free posting time in the next {weeks} weeks: add posting times or give a "
        "time",
        names=", ".join(names),
        weeks=horizon.days // 7,
    )
