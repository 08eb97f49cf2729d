"""Polling the followed RSS/Atom feeds: a periodic job of the engine (and `afisha feed poll`).

Fetching honours ETag and Last-Modified, so an unchanged feed costs one 304. Which items were
seen lives in the database (feed_item), so a restart never turns an item into a second post.
"""

from __future__ import annotations

import asyncio
import logging
import urllib.error
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from content.errors import InvalidInput
from content.plans.feeds import ingest, list_feeds, parse_feed
from content.storage.models import Feed, Organization
from scheduler.clock import Clock

log = logging.getLogger(__name__)

ACTOR = "engine"
TIMEOUT = 20.0
MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class Fetched:
    """A feed's body (status 200), or nothing new (status 304)."""

    status: int
    body: bytes = b""
    etag: str | None = None
    modified: str | None = None


class FeedUnavailable(Exception):
    """The feed could not be fetched this time; the next poll tries again."""


Fetch = Callable[[str, str | None, str | None], Awaitable[Fetched]]


def fetch_feed_sync(url: str, etag: str | None, modified: str | None) -> Fetched:
    """GET the feed with a conditional request (http, https, or file:// for local files)."""
    if not url.lower().startswith(("http://", "https://", "file://")):
        raise FeedUnavailable(f"unsupported address {url!r}")
    headers = {"User-Agent": "Afisha feed reader"}
    if etag:
        headers["If-None-Match"] = etag
    if modified:
        headers["If-Modified-Since"] = modified
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 - scheme checked above
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
            body = response.read(MAX_BYTES + 1)
            etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
    except urllib.error.HTTPError as exc:
        exc.close()  # the error carries the open response: release its socket
        if exc.code == 304:
            return Fetched(304, etag=etag, modified=modified)
        raise FeedUnavailable(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", None) or exc.__class__.__name__
        raise FeedUnavailable(str(reason)) from None
    if len(body) > MAX_BYTES:
        raise FeedUnavailable(f"larger than {MAX_BYTES // 1024 // 1024} MB")
    return Fetched(200, body, etag, modified)


async def fetch_feed(url: str, etag: str | None, modified: str | None) -> Fetched:
    """`fetch_feed_sync` in a thread, so the event loop keeps running."""
    return await asyncio.to_thread(fetch_feed_sync, url, etag, modified)


@dataclass
class PollReport:
    feeds: int = 0
    drafts: list[int] = field(default_factory=list)
    queued: list[int] = field(default_factory=list)
    failed: dict[int, str] = field(default_factory=dict)  # feed id → why


def _record_failure(sessions: sessionmaker[Session], feed_id: int, why: str, clock: Clock) -> None:
    with sessions.begin() as session:
        feed = session.get(Feed, feed_id)
        if feed is not None:
            feed.polled_at, feed.last_error = clock.now(), why


async def poll_feeds(
    sessions: sessionmaker[Session],
    clock: Clock,
    fetch: Fetch = fetch_feed,
    media_dir: Path | None = None,
    organization_id: int | None = None,
) -> PollReport:
    """Fetch every followed feed (of that organisation, when given) once and turn its new items
    into drafts or queued posts.

    One feed failing (network, not a feed) is recorded on the feed and does not stop the others.
    """
    with sessions() as session:
        org = session.get(Organization, organization_id) if organization_id is not None else None
        feeds = [(f.id, f.url, f.etag, f.modified) for f in list_feeds(session, org)]
    report = PollReport(feeds=len(feeds))
    for feed_id, url, etag, modified in feeds:
        try:
            fetched = await fetch(url, etag, modified)
            entries = parse_feed(fetched.body) if fetched.status != 304 else []
        except (FeedUnavailable, InvalidInput) as exc:
            log.warning("feed %s: %s", feed_id, exc)
            report.failed[feed_id] = str(exc)
            _record_failure(sessions, feed_id, str(exc), clock)
            continue
        try:
            with sessions.begin() as session:
                feed = session.get(Feed, feed_id)
                org = session.get(Organization, feed.organization_id) if feed else None
                if feed is None or org is None:
                    continue  # removed meanwhile
                result = ingest(
                    session, org, feed, entries, clock.now(), media_dir or Path(), ACTOR
                )
                feed.polled_at, feed.last_error = clock.now(), None
                if fetched.status != 304:
                    feed.etag, feed.modified = fetched.etag, fetched.modified
        except IntegrityError:
            # Another worker took the same items at the same moment: they are its to post.
            log.info("feed %s: items already taken by another worker", feed_id)
            continue
        report.drafts += result.drafts
        report.queued += result.queued
    return report
