"""Moving an event: its unsent announcement and reminders move with it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from content.domain.reminders import plan_reminders
from content.domain.states import EventStatus, PublicationKind, PublicationState, move_publication
from content.domain.timeparse import zone
from content.errors import InvalidInput, NotFound
from content.storage.models import Event, Organization, Publication
from content.storage.registry import audit

# Unsent and not in flight: these can take a new time. SENDING and UNCONFIRMED may already be
# out, so they stay as they are.
_MOVABLE = (
    PublicationState.SCHEDULED,
    PublicationState.PAUSED,
    PublicationState.MISSED,
    PublicationState.FAILED,
    PublicationState.RETRY_WAIT,
)
_OUT = (PublicationState.SENT, PublicationState.SENDING, PublicationState.UNCONFIRMED)


@dataclass(frozen=True)
class Rescheduled:
    moved: int  # publications given a new time
    added: int  # reminders newly planned (e.g. an event moved later gains its 7d reminder)
    withdrawn: int  # reminders whose time has passed at the new start


def _set_due(publication: Publication, due_at: datetime) -> None:
    publication.due_at = due_at
    if publication.state in (PublicationState.MISSED, PublicationState.FAILED):
        move_publication(publication, PublicationState.SCHEDULED)
    publication.last_error = None


def reschedule_event(
    session: Session,
    org: Organization,
    event_id: int,
    new_starts_at: datetime,
    *,
    now: datetime,
    actor: str,
    new_ends_at: datetime | None = None,
) -> Rescheduled:
    """Move an event to `new_starts_at` (its end moves by as much unless `new_ends_at` is given),
    re-planning its unsent reminders with `plan_reminders` on every channel.

    A reminder already sent is not repeated; one whose time is now past is withdrawn; an unsent
    announcement that would come after the new start goes out now.
    """
    event = session.get(Event, event_id)
    if event is None or event.organization_id != org.id:
        raise NotFound("no event has id {id}", id=event_id)
    if event.status is not EventStatus.SCHEDULED:
        raise InvalidInput("event {id} is already {status}", id=event_id, status=event.status.value)
    if new_starts_at <= now:
        raise InvalidInput("the event's start is in the past: choose a later time")
    if new_ends_at is None and event.ends_at is not None:
        new_ends_at = event.ends_at + (new_starts_at - event.starts_at)
    if new_ends_at is not None and new_ends_at <= new_starts_at:
        raise InvalidInput("the event must end after it starts")

    tz = zone(org.timezone)
    moved = added = withdrawn = 0
    by_channel: dict[int, list[Publication]] = {}
    for publication in event.publications:
        if publication.kind in (PublicationKind.ANNOUNCEMENT, PublicationKind.REMINDER):
            by_channel.setdefault(publication.channel_id, []).append(publication)
    for channel_id, publications in by_channel.items():
        announce_from = now
        for announcement in (p for p in publications if p.kind is PublicationKind.ANNOUNCEMENT):
            if announcement.state in _MOVABLE and announcement.due_at >= new_starts_at:
                _set_due(announcement, now)
                moved += 1
            if announcement.state in _MOVABLE:
                announce_from = max(announce_from, announcement.due_at)
        reminders = [p for p in publications if p.kind is PublicationKind.REMINDER]
        done = {p.offset_minutes for p in reminders if p.state in _OUT}
        plan = {
            r.offset_minutes: r.due_at
            for r in plan_reminders(new_starts_at, event.reminder_offsets, announce_from, tz)
            if r.offset_minutes not in done
        }
        for reminder in reminders:
            if reminder.state not in _MOVABLE:
                continue
            due = plan.pop(reminder.offset_minutes or 0, None)
            if due is None:
                move_publication(reminder, PublicationState.CANCELLED)
                withdrawn += 1
            elif reminder.state is PublicationState.RETRY_WAIT:
                # A retry belongs to the old time: withdraw it and plan the reminder afresh.
                move_publication(reminder, PublicationState.CANCELLED)
                plan[reminder.offset_minutes or 0] = due
            elif due != reminder.due_at:
                _set_due(reminder, due)
                moved += 1
        for offset, due in plan.items():
            session.add(
                Publication(
                    kind=PublicationKind.REMINDER,
                    event=event,
                    channel_id=channel_id,
                    due_at=due,
                    offset_minutes=offset,
                )
            )
            added += 1

    old_start = event.starts_at
    event.starts_at, event.ends_at = new_starts_at, new_ends_at
    session.flush()
    audit(
        session,
        org,
        actor,
        "event.reschedule",
        f"event:{event.id}",
        starts_at=[old_start.isoformat(), new_starts_at.isoformat()],
        moved=moved,
        added=added,
        withdrawn=withdrawn,
    )
    return Rescheduled(moved, added, withdrawn)
