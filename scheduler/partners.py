"""The periodic reading of partner libraries' public Instagram accounts (no token: instaloader)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from sqlalchemy.orm import Session, sessionmaker

from channels.base import ChannelError, RateLimited
from content.storage.partners import (
    SeenPost,
    due_partners,
    note_partner_failure,
    store_partner_posts,
)
from scheduler.clock import Clock

if TYPE_CHECKING:
    # instaloader and requests are a worker's only when it has partners to read.
    from channels.instagram_public import PublicAccount

log = logging.getLogger(__name__)

PARTNERS_PER_ROUND = 20  # anonymous reading is throttled early: a few accounts at a time


class PublicAccounts(Protocol):
    """Reads a public account's recent posts (`InstaloaderCollector`)."""

    async def account(self, username: str) -> PublicAccount: ...


async def read_partners(
    sessions: sessionmaker[Session], clock: Clock, reader: Callable[[], PublicAccounts]
) -> int:
    """Read the recent posts of every partner account that is due; returns posts stored.

    `reader` is called only when some account is due (a worker with no partners never loads
    instaloader)."""
    now = clock.now()
    with sessions() as session:
        due = due_partners(session, now, PARTNERS_PER_ROUND)
    if not due:
        return 0
    accounts = reader()
    stored = 0
    for partner_id, username in due:
        try:
            account = await accounts.account(username)
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
