"""The periodic reading of partner libraries' public Instagram accounts (no token: instaloader)."""

from __future__ import annotations

import logging
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from channels.base import ChannelError, RateLimited
from channels.instagram_public import PublicAccount
from content.storage.partners import (
    SeenPost,
    due_partners,
    note_partner_failure,
    store_partner_posts,
)
from scheduler.clock import Clock

log = logging.getLogger(__name__)

PARTNERS_PER_ROUND = 20  # anonymous reading is throttled early: a few accounts at a time


class PublicAccounts(Protocol):
    """Reads a public account's recent posts (`InstaloaderCollector`)."""

    async def account(self, username: str) -> PublicAccount: ...


async def read_partners(
    sessions: sessionmaker[Session], clock: Clock, reader: PublicAccounts
) -> int:
    """Read the recent posts of every partner account that is due; returns posts stored."""
    now = clock.now()
    with sessions() as session:
        due = due_partners(session, now, PARTNERS_PER_ROUND)
    stored = 0
    for partner_id, username in due:
        try:
            account = await reader.account(username)
        except RateLimited as error:
            log.info("reading partner accounts paused: %s", error.reason)
            break  # the rest stay due for the next round
        except ChannelError as error:
            with sessions.begin() as session:
                note_partner_failure(session, partner_id, now, error.reason)
            continue
        seen = [
            SeenPost(
                p.shortcode,
                p.posted_at,
                p.caption,
                p.metrics.reactions,
                p.metrics.comments,
                p.metrics.views,
                p.metrics.source,
            )
            for p in account.posts
        ]
        with sessions.begin() as session:
            stored += store_partner_posts(session, partner_id, seen, now, account.full_name)
    return stored
