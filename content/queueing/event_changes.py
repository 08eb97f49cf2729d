"""Moving or cancelling an event, optionally telling the channels that announced it and the
followers who asked to be reminded of it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from content.domain.states import FollowerNews, PublicationKind, PublicationState
from content.queueing.rescheduling import Rescheduled, reschedule_event
from content.queueing.scheduling import cancel_event
from content.storage.models import Event, Organization, Publication
from content.storage.registry import audit

# Where followers may have seen the event: the announcement went out (or perhaps did).
_ANNOUNCED = (PublicationState.SENT, PublicationState.UNCONFIRMED, PublicationState.SENDING)
_UNSENT = (PublicationState.SCHEDULED, PublicationState.RETRY_WAIT, PublicationState.MISSED)


@dataclass(frozen=True)
class Cancelled:
    withdrawn: int  # unsent announcements and reminders withdrawn
    notices: int  # cancellation notices queued
    followers: int = 0  # followers who asked to be reminded, to be told privately


@dataclass(frozen=True)
class Moved:
    rescheduled: Rescheduled
    notices: int  # new-date notices queued
    followers: int  # followers who asked to be reminded, to be told privately


def _announced_channels(event: Event) -> list[int]:
    """Channels whose followers may have read the event's announcement."""
    return sorted(
        {
            p.channel_id
            for p in event.publications
            if p.kind is PublicationKind.ANNOUNCEMENT and p.state in _ANNOUNCED
        }
    )


def _queue_notices(
    session: Session, event: Event, kind: PublicationKind, now: datetime
) -> list[int]:
    """A `kind` notice due now on each channel that announced `event`; a notice of the same kind
    still waiting there goes with the latest facts, so it is not queued twice."""
    waiting = {p.channel_id for p in event.publications if p.kind is kind and p.state in _UNSENT}
    channels = _announced_channels(event)
    for channel_id in channels:
        if channel_id not in waiting:
            session.add(
                Publication(
                    kind=kind,
                    event=event,
                    channel_id=channel_id,
                    due_at=now,
                    state=PublicationState.SCHEDULED,
                )
            )
    session.flush()
    return channels


def _tell_followers(event: Event, news: FollowerNews, now: datetime) -> int:
    """Mark the news for each follower on the event's list (sent by the followers' job)."""
    for subscription in event.subscriptions:
        subscription.news = news
        subscription.news_since = now
        if news is FollowerNews.MOVED:
            subscription.reminded_at = None  # a reminder before the new start, too
    return len(event.subscriptions)


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
    now on each channel where the announcement went out, and tell its followers in private.
    Channels that never announced the event get no notice: their followers heard nothing to
    take back."""
    withdrawn = cancel_event(session, org, event_id, actor)
    if not notify:
        return Cancelled(withdrawn, 0)
    event = session.get_one(Event, event_id)
    channels = _queue_notices(session, event, PublicationKind.CANCELLATION, now)
    followers = _tell_followers(event, FollowerNews.CANCELLED, now)
    audit(
        session,
        org,
        actor,
        "event.cancel_notice",
        f"event:{event_id}",
        channels=channels,
        followers=followers,
    )
    return Cancelled(withdrawn, len(channels), followers)


def move_event_with_notice(
    session: Session,
    org: Organization,
    event_id: int,
    new_starts_at: datetime,
    *,
    notify: bool,
    now: datetime,
    actor: str,
    new_ends_at: datetime | None = None,
    new_place: str | None = None,
) -> Moved:
    """Move an event (re-planning its reminders, `reschedule_event`), optionally to a new place;
    with `notify`, queue a new-date notice now on each channel where the announcement went out
    and tell its followers in private (their reminder comes again before the new start)."""
    rescheduled = reschedule_event(
        session, org, event_id, new_starts_at, now=now, actor=actor, new_ends_at=new_ends_at
    )
    event = session.get_one(Event, event_id)
    if new_place is not None:
        event.place = new_place.strip() or None
    if not notify:
        return Moved(rescheduled, 0, 0)
    channels = _queue_notices(session, event, PublicationKind.MOVED, now)
    followers = _tell_followers(event, FollowerNews.MOVED, now)
    audit(
        session,
        org,
        actor,
        "event.move_notice",
        f"event:{event_id}",
        channels=channels,
        followers=followers,
    )
    return Moved(rescheduled, len(channels), followers)
