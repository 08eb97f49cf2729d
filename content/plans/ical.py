"""Events as an iCalendar feed (for the library website) and back, matched by UID."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.domain.states import EventStatus
from content.domain.timeparse import local_to_utc
from content.errors import InvalidInput
from content.plans.validation import RowError
from content.storage.models import Event, ImportRow, Organization

if TYPE_CHECKING:
    import icalendar

ICAL = "ical"
_OWN_UID = re.compile(r"^afisha-event-(\d+)@(.+)$")


def org_slug(org: Organization) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", org.name.lower()).strip("-")
    return slug or f"organization-{org.id}"


def own_uid(org: Organization, event_id: int) -> str:
    return f"afisha-event-{event_id}@{org_slug(org)}"


def own_event_id(org: Organization, uid: str) -> int | None:
    """The event id in a UID this installation wrote, else None."""
    match = _OWN_UID.match(uid)
    return int(match.group(1)) if match and match.group(2) == org_slug(org) else None


def export_events(session: Session, org: Organization, now: datetime) -> bytes:
    """The scheduled events that have not ended by `now`, as an .ics calendar.

    Each event keeps the UID it was imported with, or gets `afisha-event-<id>@<org>`, so
    calendars that subscribe see updates rather than new events.
    """
    # Imported here and in read_calendar: `afisha worker` imports this module with the rest of
    # the command line, and never writes or reads a calendar.
    import icalendar

    calendar = icalendar.Calendar()
    calendar.add("prodid", f"-//Afisha//{org.name}//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", org.name)
    calendar.add("x-wr-timezone", org.timezone)
    events = session.scalars(
        select(Event)
        .where(Event.organization_id == org.id, Event.status == EventStatus.SCHEDULED)
        .order_by(Event.starts_at, Event.id)
    )
    upcoming = [e for e in events if (e.ends_at or e.starts_at) >= now]
    uids = {
        event_id: uid
        for event_id, uid in session.execute(
            select(ImportRow.event_id, ImportRow.external_uid).where(
                ImportRow.source == ICAL,
                ImportRow.event_id.in_([e.id for e in upcoming]),
            )
        )
    }
    for event in upcoming:
        item = icalendar.Event()
        item.add("uid", uids.get(event.id) or own_uid(org, event.id))
        item.add("dtstamp", now.astimezone(UTC))
        item.add("created", event.created_at.astimezone(UTC))
        item.add("dtstart", event.starts_at.astimezone(UTC))
        if event.ends_at:
            item.add("dtend", event.ends_at.astimezone(UTC))
        item.add("summary", event.title)
        if event.place:
            item.add("location", event.place)
        if event.description:
            item.add("description", event.description)
        if event.registration_url:
            item.add("url", event.registration_url)
        calendar.add_component(item)
    return calendar.to_ical()


@dataclass(frozen=True)
class CalendarEvent:
    """One VEVENT as Afisha reads it; `number` counts the file's events from 1."""

    number: int
    uid: str
    title: str
    starts_at: datetime
    ends_at: datetime | None
    place: str | None
    description: str | None
    url: str | None
    cancelled: bool


def _moment(value: object, tz: ZoneInfo) -> datetime:
    if isinstance(value, datetime):
        return local_to_utc(value, tz) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, date):
        raise InvalidInput("an all-day event has no start time: give it one in the calendar")
    raise InvalidInput("the event has no start time")


def _text(component: icalendar.Component, name: str) -> str | None:
    value = component.get(name)
    return str(value).strip() or None if value is not None else None


_FAR = InvalidInput("the date is out of range: check its year")


def _read_event(number: int, item: icalendar.Component, tz: ZoneInfo) -> CalendarEvent:
    uid, title = _text(item, "UID"), _text(item, "SUMMARY")
    if not uid:
        raise _Problem("UID", InvalidInput("the event has no UID"))
    if not title:
        raise _Problem("SUMMARY", InvalidInput("the event needs a title"))
    if item.get("RRULE") is not None:
        raise _Problem(
            "RRULE",
            InvalidInput("repeating events are not supported: export each date as an event"),
        )
    start = item.get("DTSTART")
    try:
        starts_at = _moment(start.dt if start is not None else None, tz)
    except InvalidInput as problem:
        raise _Problem("DTSTART", problem) from None
    except OverflowError:
        raise _Problem("DTSTART", _FAR) from None
    ends_at = None
    end, duration = item.get("DTEND"), item.get("DURATION")
    try:
        if end is not None:
            ends_at = _moment(end.dt, tz)
        elif duration is not None and isinstance(duration.dt, timedelta) and duration.dt:
            ends_at = starts_at + duration.dt
    except InvalidInput as problem:
        raise _Problem("DTEND", problem) from None
    except OverflowError:
        raise _Problem("DTEND" if end is not None else "DURATION", _FAR) from None
    if ends_at is not None and ends_at <= starts_at:
        raise _Problem("DTEND", InvalidInput("the event must end after it starts"))
    return CalendarEvent(
        number=number,
        uid=uid,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        place=_text(item, "LOCATION"),
        description=_text(item, "DESCRIPTION"),
        url=_text(item, "URL"),
        cancelled=(_text(item, "STATUS") or "").upper() == "CANCELLED",
    )


# The properties Afisha reads from an event: one it cannot read refuses the event. Others
# (attendees, alarms, X- properties) are not imported, so what icalendar makes of them is moot.
_READ = (
    "UID",
    "SUMMARY",
    "DTSTART",
    "DTEND",
    "DURATION",
    "LOCATION",
    "DESCRIPTION",
    "URL",
    "STATUS",
    "RRULE",
)
_PROPERTY = re.compile(r"^([A-Za-z0-9-]+)[;:]")


@dataclass
class _Layout:
    """Where each event's lines are in the file (from 1), for refusals that name the line."""

    properties: list[dict[str, int]] = field(default_factory=list)  # name → its first line
    malformed: list[list[tuple[int, str]]] = field(default_factory=list)  # lines of no property


def _incomplete(name: str, line: int) -> InvalidInput:
    return InvalidInput(
        "the calendar is incomplete: BEGIN:{name} on line {line} has no END:{name}",
        name=name,
        line=line,
    )


def _layout(data: bytes) -> _Layout:
    """The file's events line by line; a component begun and never ended is refused here,
    since icalendar then drops the whole calendar and would leave nothing to import."""
    layout = _Layout()
    open_components: list[tuple[str, int]] = []
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip() or line[0] in " \t":  # blank, or the continuation of a folded line
            continue
        upper = line.strip().upper()
        if upper.startswith("BEGIN:"):
            open_components.append((upper[6:], number))
            if upper == "BEGIN:VEVENT":
                layout.properties.append({})
                layout.malformed.append([])
        elif upper.startswith("END:"):
            while open_components:
                name, begun = open_components.pop()
                if name == upper[4:]:
                    break
                raise _incomplete(name, begun)
        elif layout.properties and any(name == "VEVENT" for name, _ in open_components):
            match = _PROPERTY.match(line)
            if match is None:
                layout.malformed[-1].append((number, line.strip()))
            else:
                layout.properties[-1].setdefault(match.group(1).upper(), number)
    if open_components:
        raise _incomplete(*open_components[-1])
    return layout


def _unreadable(number: int, item: icalendar.Component, layout: _Layout) -> RowError | None:
    """The first property of the `number`th event that icalendar could not read, if any."""
    index = number - 1
    lines = layout.properties[index] if index < len(layout.properties) else {}
    malformed = layout.malformed[index] if index < len(layout.malformed) else []
    for name, _message in item.errors:
        if name is None:  # a line that is no NAME:value at all
            line, text = malformed[0] if malformed else (None, "?")
            problem = InvalidInput(
                "cannot read the line {text!r}: a calendar line is NAME:value, e.g. "
                "SUMMARY:Poetry evening",
                text=text,
            )
            return RowError(number, "?", problem, line)
        name = name.upper()
        if name not in _READ:
            continue
        value = str(item.get(name, ""))  # a broken property keeps the text it was given
        if name in ("DTSTART", "DTEND"):
            problem = InvalidInput(
                "cannot read the date and time {value!r}: write it as 20261201T180000 (local), "
                "20261201T130000Z (UTC) or with a TZID",
                value=value,
            )
        elif name == "DURATION":
            problem = InvalidInput(
                "cannot read the duration {value!r}: write it like PT1H30M", value=value
            )
        else:
            problem = InvalidInput("cannot read the value {value!r}", value=value)
        return RowError(number, name, problem, lines.get(name))
    for name in _READ:
        if isinstance(item.get(name), list):
            twice = InvalidInput("the event has {name} more than once: keep one", name=name)
            return RowError(number, name, twice, lines.get(name))
    return None


class _Problem(Exception):
    def __init__(self, column: str, problem: InvalidInput) -> None:
        super().__init__(column)
        self.column, self.problem = column, problem


def read_calendar(data: bytes, tz: ZoneInfo) -> tuple[list[CalendarEvent], list[RowError]]:
    """The calendar's events, and the problems of those Afisha cannot take."""
    import icalendar

    layout = _layout(data)
    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except (ValueError, KeyError, IndexError, TypeError):
        raise InvalidInput("the file is not an iCalendar (.ics) file Afisha can read") from None
    events, errors = [], []
    items = [item for calendar in calendars for item in calendar.walk("VEVENT")]
    if not items:
        raise InvalidInput(
            "the iCalendar (.ics) file holds no events (no VEVENT): nothing to import"
        )
    for number, item in enumerate(items, start=1):
        if (unreadable := _unreadable(number, item, layout)) is not None:
            errors.append(unreadable)
            continue
        try:
            events.append(_read_event(number, item, tz))
        except _Problem as problem:
            errors.append(RowError(number, problem.column, problem.problem))
    return events, errors
