"""Cancelling an event, optionally telling the channels that announced it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from content.domain.states import PublicationKind, PublicationState
from content.queueing.scheduling import cancel_event
from content.storage.models import Event, Organization, Publication
from content.storage.registry import audit

# Where followers may have seen the event: the announcement went out (or perhaps did).
_ANNOUNCED = (PublicationState.SENT, PublicationState.UNCONFIRMED, PublicationState.SENDING)


@dataclass(frozen=True)
class Cancelled:
    withdrawn: int  # unsent announcements and reminders withdrawn
    notices: int  # cancellation notices queued


def cancel_event_with_notice(
    session: Session,
    org: Organization,
    event_id: int,
    *,
    notify: bool,
    now: datetime,
    actor: str,
) -> Cancelled:
    """Cancel an event (withdrawing what is unsent); with `notify`, queue a cancellation notice
    now on each channel where the announcement went out. Channels that never announced the
    event get no notice: their followers heard nothing to take back."""
    withdrawn = cancel_event(session, org, event_id, actor)
    if not notify:
        return Cancelled(withdrawn, 0)
    event = session.get_one(Event, event_id)
    channels = sorted(
        {
            p.channel_id
            for p in event.publications
            if p.kind is PublicationKind.ANNOUNCEMENT and p.state in _ANNOUNCED
        }
    )
    for channel_id in channels:
        session.add(
            Publication(
                kind=PublicationKind.CANCELLATION,
                event=event,
                channel_id=channel_id,
                due_at=now,
                state=PublicationState.SCHEDULED,
            )
        )
    session.flush()
    audit(session, org, actor, "event.cancel_notice", f"event:{event_id}", channels=channels)
    return Cancelled(withdrawn, len(channels))
