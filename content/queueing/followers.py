"""Followers' reminder requests, and whether the bot may write to them.

Telegram lets a bot write to a person only after they started it (sent it /start or anything
else), and not once they blocked it. The bot records both here, so "Remind me" can send someone
who never started it to the bot first instead of promising a reminder that cannot arrive.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.domain.states import EventStatus
from content.storage.models import Event, EventSubscription, Follower


class Request(enum.Enum):
    ADDED = "added"
    ALREADY = "already"
    GONE = "gone"  # no such event, or it is over or cancelled


def started(session: Session, user_id: int, language: str | None, now: datetime) -> None:
    """`user_id` wrote to the bot in private: it may write to them (again)."""
    follower = session.get(Follower, user_id)
    if follower is None:
        session.add(Follower(telegram_user_id=user_id, language=language, started_at=now))
        return
    if follower.started_at is None or follower.blocked_at is not None:
        # Written only when it changes: most updates come from people already known.
        follower.started_at = now
        follower.blocked_at = None
        follower.language = language or follower.language


def blocked(session: Session, user_id: int, now: datetime) -> None:
    """Telegram refused a private message for good (blocked, never started): stop trying."""
    follower = session.get(Follower, user_id)
    if follower is None:
        session.add(Follower(telegram_user_id=user_id, blocked_at=now))
    else:
        follower.blocked_at = now


def reachable(session: Session, user_id: int) -> bool:
    """Whether the bot may write to `user_id` in private, as far as it knows."""
    follower = session.get(Follower, user_id)
    return follower is not None and follower.started_at is not None and follower.blocked_at is None


def request_reminder(
    session: Session, event_id: int, user_id: int, language: str, now: datetime
) -> tuple[Request, Event | None]:
    """Put `user_id` on the list of `event_id`'s reminders (once)."""
    event = session.get(Event, event_id)
    if event is None or event.status is not EventStatus.SCHEDULED or event.starts_at <= now:
        return Request.GONE, event
    existing = session.scalar(
        select(EventSubscription).where(
            EventSubscription.event_id == event.id,
            EventSubscription.telegram_user_id == user_id,
        )
    )
    if existing is not None:
        return Request.ALREADY, event
    session.add(EventSubscription(event_id=event.id, telegram_user_id=user_id, language=language))
    return Request.ADDED, event


def unreachable_followers(session: Session, user_ids: list[int]) -> set[int]:
    """Those of `user_ids` known to have blocked the bot."""
    if not user_ids:
        return set()
    rows = session.scalars(
        select(Follower.telegram_user_id).where(
            Follower.telegram_user_id.in_(user_ids), Follower.blocked_at.is_not(None)
        )
    )
    return set(rows)
