"""The events of a month, for the monthly report: held, moved, cancelled, reminder requests, and
a row per event with the reach of its announcement and reminders.

Rules (the report restates them):
- An event **of the month** is one of the library's own that starts in the month (local zone).
- **Held**: not cancelled and started by the time the report is made; **cancelled**: its status;
  the rest are still to come.
- **Moved**: its start was changed at least once (an `event.reschedule` audit entry, which every
  move writes, with a notice or without; a MOVED publication implies one).
- **Reminder requests**: the followers who asked to be reminded of it.
- **Reach** of its announcement and of its reminders: the sums of their latest reach, wherever
  and whenever they were sent (an announcement often goes out the month before); n/a if unknown.
- **Attendance**: Afisha does not record it yet, so it is n/a (never 0), and the report says so.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content.analytics.labels import na, short_date
from content.analytics.metrics import Total
from content.analytics.periods import Period
from content.domain.states import EventStatus, PublicationKind
from content.i18n import N_, translate
from content.storage.models import AuditEntry, Event, Publication
from content.storage.store import reminder_requests

MOVE_ACTION = "event.reschedule"
NONE = Total(None, 0)


class Held:
    """What became of an event of the month (the CSV's `status` column)."""

    HELD = "held"
    CANCELLED = "cancelled"
    UPCOMING = "upcoming"


OUTCOME_NAMES = {
    Held.HELD: N_("Held"),
    Held.CANCELLED: N_("Cancelled"),
    Held.UPCOMING: N_("Still to come"),
}
COLUMN_NAMES = (
    N_("Date and time"),
    N_("Place"),
    N_("Event"),
    N_("Status"),
    N_("Attendance"),
    N_("Reminder requests"),
    N_("Announcement reach"),
    N_("Reminders reach"),
)
ATTENDANCE_NOTE = N_(
    "Attendance is not recorded in Afisha yet, so it reads n/a (it is not zero). Reach is the "
    "latest known reach of the announcement and of the reminders, wherever they were sent."
)
MOVED_MARK = N_("moved")


@dataclass(frozen=True)
class EventRow:
    event_id: int
    title: str
    starts_at: datetime
    place: str | None
    outcome: str  # a `Held` value
    moved: bool
    reminder_requests: int
    announcement_reach: Total
    reminder_reach: Total
    attendance: int | None = None  # not recorded yet


@dataclass(frozen=True)
class EventsSection:
    rows: list[EventRow]

    def count(self, outcome: str) -> int:
        return sum(1 for r in self.rows if r.outcome == outcome)

    @property
    def moved(self) -> int:
        return sum(1 for r in self.rows if r.moved)

    @property
    def reminder_requests(self) -> int:
        return sum(r.reminder_requests for r in self.rows)

    @property
    def attendance(self) -> Total:
        known = [r.attendance for r in self.rows if r.attendance is not None]
        return Total(sum(known) if known else None, len(known))


def events_section(session: Session, org_id: int, period: Period, now: datetime) -> EventsSection:
    """`org_id`'s events that start in `period`, by start, in four queries whatever their number."""
    events = list(
        session.scalars(
            select(Event)
            .where(
                Event.organization_id == org_id,
                Event.starts_at >= period.start,
                Event.starts_at < period.end,
            )
            .order_by(Event.starts_at, Event.id)
        )
    )
    ids = [e.id for e in events]
    asked = reminder_requests(session, ids)
    moved = _moved(session, org_id, ids)
    reach = _reach(session, ids)
    rows = []
    for event in events:
        if event.status is EventStatus.CANCELLED:
            outcome = Held.CANCELLED
        elif event.starts_at <= now:
            outcome = Held.HELD
        else:
            outcome = Held.UPCOMING
        rows.append(
            EventRow(
                event_id=event.id,
                title=event.title,
                starts_at=event.starts_at,
                place=event.place,
                outcome=outcome,
                moved=event.id in moved,
                reminder_requests=asked.get(event.id, 0),
                announcement_reach=reach.get((event.id, PublicationKind.ANNOUNCEMENT), NONE),
                reminder_reach=reach.get((event.id, PublicationKind.REMINDER), NONE),
            )
        )
    return EventsSection(rows)


def _moved(session: Session, org_id: int, ids: Collection[int]) -> set[int]:
    if not ids:
        return set()
    subjects = {f"event:{i}": i for i in ids}
    found = session.scalars(
        select(AuditEntry.subject)
        .where(
            AuditEntry.organization_id == org_id,
            AuditEntry.action == MOVE_ACTION,
            AuditEntry.subject.in_(sorted(subjects)),
        )
        .distinct()
    )
    return {subjects[s] for s in found if s in subjects}


def _reach(session: Session, ids: Collection[int]) -> dict[tuple[int, PublicationKind], Total]:
    if not ids:
        return {}
    kinds = (PublicationKind.ANNOUNCEMENT, PublicationKind.REMINDER)
    rows = session.execute(
        select(
            Publication.event_id,
            Publication.kind,
            func.sum(Publication.latest_reach),
            func.count(Publication.latest_reach),
        )
        .where(
            Publication.event_id.in_(sorted(ids)),
            Publication.kind.in_(kinds),
            Publication.sent_at.is_not(None),
        )
        .group_by(Publication.event_id, Publication.kind)
    )
    return {
        (event_id, kind): Total(int(reach) if known and reach is not None else None, int(known))
        for event_id, kind, reach, known in rows
        if event_id is not None
    }


def figures(section: EventsSection, lang: str) -> list[tuple[str, int | None]]:
    """The section's totals as (label in the reader's language, number or None for n/a)."""
    return [
        (translate(lang, N_("Events held")), section.count(Held.HELD)),
        (translate(lang, N_("Events moved")), section.moved),
        (translate(lang, N_("Events cancelled")), section.count(Held.CANCELLED)),
        (translate(lang, N_("Events still to come")), section.count(Held.UPCOMING)),
        (translate(lang, N_("Total attendance")), section.attendance.value),
        (translate(lang, N_("Reminder requests")), section.reminder_requests),
    ]


def local_when(row: EventRow, tz: ZoneInfo, lang: str) -> str:
    """`20 нояб., 18:00`: the start in the library's zone, as the reader writes dates (the
    report is of one month, so no year)."""
    local = row.starts_at.astimezone(tz)
    return f"{short_date(local.date(), lang)}, {local:%H:%M}"


def status_text(row: EventRow, lang: str) -> str:
    """`Held`, or `Held, moved`."""
    name = translate(lang, OUTCOME_NAMES[row.outcome])
    return f"{name}, {translate(lang, MOVED_MARK)}" if row.moved else name


CSV_COLUMNS = (
    "event_id",
    "starts_local",
    "timezone",
    "title",
    "place",
    "status",
    "moved",
    "attendance",
    "reminder_requests",
    "announcement_reach",
    "reminder_reach",
)


def events_csv(section: EventsSection, tz: ZoneInfo, lang: str) -> bytes:
    """The month's events, one row each (fixed column names, n/a in the reader's language), UTF-8
    with a byte-order mark as the snapshot export is."""
    missing = na(lang)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for row in section.rows:
        writer.writerow(
            [
                row.event_id,
                row.starts_at.astimezone(tz).strftime("%Y-%m-%d %H:%M"),
                tz.key,
                row.title,
                row.place or "",
                row.outcome,
                "yes" if row.moved else "no",
                missing if row.attendance is None else row.attendance,
                row.reminder_requests,
                *(
                    missing if t.value is None else t.value
                    for t in (row.announcement_reach, row.reminder_reach)
                ),
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")
