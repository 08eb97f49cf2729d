"""Events as an iCalendar feed (for the library website) and back, matched by UID."""

from __future__ import annotations

import re
from dataclasses import dataclass
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
    ends_at = None
    end, duration = item.get("DTEND"), item.get("DURATION")
    try:
        if end is not None:
            ends_at = _moment(end.dt, tz)
        elif duration is not None and isinstance(duration.dt, timedelta) and duration.dt:
            ends_at = starts_at + duration.dt
    except InvalidInput as problem:
        raise _Problem("DTEND", problem) from None
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


class _Problem(Exception):
    def __init__(self, column: str, problem: InvalidInput) -> None:
        super().__init__(column)
        self.column, self.problem = column, problem


def read_calendar(data: bytes, tz: ZoneInfo) -> tuple[list[CalendarEvent], list[RowError]]:
    """The calendar's events, and the problems of those Afisha cannot take."""
    import icalendar

    try:
        calendars = icalendar.Calendar.from_ical(data, multiple=True)
    except (ValueError, KeyError, IndexError, TypeError):
        raise InvalidInput("the file is not an iCalendar (.ics) file Afisha can read") from None
    events, errors = [], []
    items = [item for calendar in calendars for item in calendar.walk("VEVENT")]
    for number, item in enumerate(items, start=1):
        try:
            events.append(_read_event(number, item, tz))
        except _Problem as problem:
            errors.append(RowError(number, problem.column, problem.problem))
    return events, errors
