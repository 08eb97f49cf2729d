"""Read queries: listings and the queue's status."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, true
from sqlalchemy.orm import Session

from content.domain.states import ChannelStatus, PublicationState
from content.domain.timeparse import zone
from content.storage.models import (
    Channel,
    Event,
    EventSubscription,
    Organization,
    Post,
    Publication,
    StaffMember,
)

WAITING = (PublicationState.SCHEDULED, PublicationState.RETRY_WAIT)


@dataclass(frozen=True)
class QueueStatus:
    queued: int
    next_due: datetime | None
    by_state: dict[str, int]
    paused_channels: list[str]
    unconfirmed: int
    oldest_overdue: datetime | None = None  # the lag: the earliest waiting publication past due


def organization_zones(session: Session) -> dict[int, ZoneInfo]:
    """Each organisation's time zone, by organisation id."""
    return {o.id: zone(o.timezone) for o in session.scalars(select(Organization))}


def list_staff(session: Session, org: Organization | None = None) -> list[StaffMember]:
    """Staff memberships by name (of `org`, or of every organisation)."""
    query = select(StaffMember).order_by(StaffMember.name)
    if org is not None:
        query = query.where(StaffMember.organization_id == org.id)
    return list(session.scalars(query))


def post_people(session: Session, post: Post) -> tuple[str | None, str | None]:
    """The names of `post`'s author and reviewer: staff as they are now, or as they were when
    taken off staff."""

    def name(staff_id: int | None, kept: str | None) -> str | None:
        member = session.get(StaffMember, staff_id) if staff_id else None
        return member.name if member is not None else kept

    return name(post.author_id, post.author_name), name(post.reviewed_by, post.reviewer_name)


def list_channels(session: Session, org: Organization | None = None) -> list[Channel]:
    """Channels by name (of `org`, or of every organisation)."""
    query = select(Channel).order_by(Channel.name)
    if org is not None:
        query = query.where(Channel.organization_id == org.id)
    return list(session.scalars(query))


def list_posts(session: Session, limit: int = 200, org: Organization | None = None) -> list[Post]:
    query = select(Post).order_by(Post.id.desc()).limit(limit)
    if org is not None:
        query = query.where(Post.organization_id == org.id)
    return list(session.scalars(query))


def reminder_requests(session: Session, event_ids: Collection[int]) -> dict[int, int]:
    """How many followers asked to be reminded of each of these events, in one query (an event
    nobody asked about is absent; read with `.get(id, 0)`)."""
    if not event_ids:
        return {}
    followers = func.count(func.distinct(EventSubscription.telegram_user_id))
    rows = session.execute(
        select(EventSubscription.event_id, followers)
        .where(EventSubscription.event_id.in_(sorted(event_ids)))
        .group_by(EventSubscription.event_id)
    )
    return {event_id: int(count) for event_id, count in rows}


def list_events(session: Session, limit: int = 200, org: Organization | None = None) -> list[Event]:
    query = select(Event).order_by(Event.starts_at).limit(limit)
    if org is not None:
        query = query.where(Event.organization_id == org.id)
    return list(session.scalars(query))


def queue_status(
    session: Session, now: datetime | None = None, org: Organization | None = None
) -> QueueStatus:
    """The queue of `org`'s channels (or of every channel)."""
    mine = (
        Publication.channel_id.in_(select(Channel.id).where(Channel.organization_id == org.id))
        if org is not None
        else true()
    )
    by_state = {
        str(state): count
        for state, count in session.execute(
            select(Publication.state, func.count()).where(mine).group_by(Publication.state)
        )
    }
    next_due = session.scalar(
        select(func.min(Publication.due_at)).where(Publication.state.in_(WAITING), mine)
    )
    paused = session.scalars(
        select(Channel.name)
        .where(
            Channel.status != ChannelStatus.ACTIVE,
            Channel.organization_id == org.id if org is not None else true(),
        )
        .order_by(Channel.name)
    )
    overdue = (
        session.scalar(
            select(func.min(Publication.due_at)).where(
                Publication.state.in_(WAITING), Publication.due_at <= now, mine
            )
        )
        if now
        else None
    )
    return QueueStatus(
        oldest_overdue=overdue,
        queued=sum(by_state.get(str(s), 0) for s in WAITING),
        next_due=next_due,
        by_state=by_state,
        paused_channels=list(paused),
        unconfirmed=by_state.get(str(PublicationState.UNCONFIRMED), 0),
    )
