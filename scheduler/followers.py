"""Private messages to followers who pressed "Remind me" under an event post: the reminder
before it starts, and the news when it moves or is cancelled."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from channels.base import ChannelError, NotSent
from content.domain.states import EventStatus, FollowerNews
from content.domain.templates import EventFacts, follower_news_text, follower_reminder_text
from content.queueing.followers import blocked
from content.storage.models import Event, EventSubscription
from content.storage.store import organization_zones
from scheduler.clock import Clock

log = logging.getLogger(__name__)

SendPrivate = Callable[[int, str], Awaitable[None]]
LEAD = timedelta(hours=2)


async def follower_messages(
    sessions: sessionmaker[Session], clock: Clock, send: SendPrivate, lead: timedelta = LEAD
) -> int:
    """The news first (a move changes which reminder is due), then the due reminders."""
    return await tell_followers(sessions, clock, send) + await remind_followers(
        sessions, clock, send, lead
    )


async def tell_followers(sessions: sessionmaker[Session], clock: Clock, send: SendPrivate) -> int:
    """Tell each follower once of the latest change of their event (moved, cancelled), in their
    language, from the event as it is now; returns how many were told."""
    now = clock.now()
    with sessions.begin() as session:
        due = session.execute(
            select(EventSubscription, Event)
            .join(Event, Event.id == EventSubscription.event_id)
            .where(EventSubscription.news.is_not(None))
            .with_for_update(of=EventSubscription, skip_locked=True)
        ).all()
        zones = organization_zones(session)
        messages = []
        for subscription, event in due:
            news = subscription.news
            # Cleared before sending, as reminders are marked: lost in a crash, never doubled.
            subscription.news = None
            if news is None or (news is FollowerNews.MOVED and event.starts_at <= now):
                continue  # a move told after the event's new start would only confuse
            facts = EventFacts(event.title, event.starts_at, event.place, event.description, None)
            language = subscription.language or event.language
            text = follower_news_text(facts, news.value, zones[event.organization_id], language)
            messages.append((subscription.id, subscription.telegram_user_id, news, text))
    told = 0
    for subscription_id, user_id, news, text in messages:
        try:
            await send(user_id, text)
            told += 1
        except NotSent as err:
            log.info("follower news %s not sent (%s); will retry", subscription_id, err)
            with sessions.begin() as session:
                subscription = session.get_one(EventSubscription, subscription_id)
                subscription.news = subscription.news or news
        except ChannelError as err:
            log.info("follower news %s failed: %s", subscription_id, err)
            with sessions.begin() as session:
                blocked(session, user_id, clock.now())
    return told


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
