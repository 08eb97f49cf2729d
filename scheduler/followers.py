"""Private reminders for followers who pressed "Remind me" under an event post."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from channels.base import ChannelError, NotSent
from content.domain.states import EventStatus
from content.domain.templates import EventFacts, follower_reminder_text
from content.queueing.followers import blocked
from content.storage.models import Event, EventSubscription
from content.storage.store import organization_zones
from scheduler.clock import Clock

log = logging.getLogger(__name__)

SendPrivate = Callable[[int, str], Awaitable[None]]
LEAD = timedelta(hours=2)


async def remind_followers(
    sessions: sessionmaker[Session], clock: Clock, send: SendPrivate, lead: timedelta = LEAD
) -> int:
    """Send each due follower reminder once; returns how many were sent."""
    now = clock.now()
    with sessions.begin() as session:
        due = session.execute(
            select(EventSubscription, Event)
            .join(Event, Event.id == EventSubscription.event_id)
            .where(
                EventSubscription.reminded_at.is_(None),
                Event.status == EventStatus.SCHEDULED,
                Event.starts_at > now,
                Event.starts_at <= now + lead,
            )
            .with_for_update(of=EventSubscription, skip_locked=True)
        ).all()
        zones = organization_zones(session)
        messages = []
        for subscription, event in due:
            # Marked before sending: a reminder may be lost in a crash, but never sent twice.
            subscription.reminded_at = now
            facts = EventFacts(event.title, event.starts_at, event.place, event.description, None)
            language = subscription.language or event.language
            text = follower_reminder_text(facts, now, zones[event.organization_id], language)
            messages.append((subscription.id, subscription.telegram_user_id, text))
    sent = 0
    for subscription_id, user_id, text in messages:
        try:
            await send(user_id, text)
            sent += 1
        except NotSent as err:
            log.info("follower reminder %s not sent (%s); will retry", subscription_id, err)
            with sessions.begin() as session:
                session.get_one(EventSubscription, subscription_id).reminded_at = None
        except ChannelError as err:
            # Refused for good (the person blocked the bot, or never started it): not retried,
            # and the follower is marked so that "Remind me" sends them to the bot first.
            log.info("follower reminder %s failed: %s", subscription_id, err)
            with sessions.begin() as session:
                blocked(session, user_id, clock.now())
    return sent
