"""RSS/Atom feeds (feedparser): each new item becomes a draft for staff, or with `auto` a post
queued into the next free posting slot. Each item once, across restarts (feed_item is unique)."""

from __future__ import annotations

import calendar
import hashlib
import html
import re
from dataclasses import dataclass, field
from datetime import datetime
from html.parser import HTMLParser
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from content.domain.states import PostStatus
from content.domain.text import shorten
from content.errors import InvalidInput, NotFound
from content.queueing.scheduling import NewPost, queue_post
from content.queueing.slots import next_free_slot
from content.storage.models import Feed, FeedItem, Organization, Post
from content.storage.registry import audit, get_channel

SUMMARY_LIMIT = 900  # leaves room for the title within every platform's caption limit


@dataclass(frozen=True)
class FeedEntry:
    key: str  # sha256 of the item's guid (or link, or title)
    title: str
    summary: str
    link: str | None
    published: float | None  # seconds since the epoch, for ordering

    @property
    def text(self) -> str:
        return "\n\n".join(filter(None, [self.title, self.summary]))


@dataclass
class Ingested:
    drafts: list[int] = field(default_factory=list)
    queued: list[int] = field(default_factory=list)


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("p", "br", "div", "li"):
            self.parts.append("\n")


def plain_text(markup: str) -> str:
    """Feed HTML as plain text: tags dropped, entities read, blank runs folded."""
    parser = _Text()
    parser.feed(markup)
    parser.close()
    text = html.unescape("".join(parser.parts))
    lines = (" ".join(line.split()) for line in text.splitlines())
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def parse_feed(data: bytes) -> list[FeedEntry]:
    """The feed's items, oldest first; InvalidInput when `data` is no RSS or Atom feed."""
    # Imported here: the engine polls feeds only where the library follows some, and
    # feedparser (with its sgmllib and encodings) would otherwise sit in every worker.
    import feedparser

    parsed = feedparser.parse(data)
    if not parsed.get("version") and not parsed.entries:
        raise InvalidInput("this is not an RSS or Atom feed")
    entries = []
    for position, entry in enumerate(parsed.entries):
        title = plain_text(entry.get("title", ""))
        # feedparser falls back to an Atom entry's id (often a urn:) when it has no link.
        link = entry.get("link") if re.match(r"^https?://", entry.get("link", "")) else None
        identity = entry.get("id") or link or title
        if not identity:
            continue
        published = entry.get("published_parsed") or entry.get("updated_parsed")
        summary = plain_text(entry.get("summary", ""))
        entries.append(
            FeedEntry(
                key=hashlib.sha256(identity.encode()).hexdigest(),
                title=title,
                summary=shorten(summary, SUMMARY_LIMIT) if summary != title else "",
                link=link,
                # Feeds list the newest first: without dates, the document order is reversed.
                published=calendar.timegm(published) if published else -position,
            )
        )
    return sorted(entries, key=lambda e: e.published or 0)


def feed_url(text: str) -> str:
    """A feed address: http(s), file:// or a local path (as a file:// URL)."""
    value = text.strip()
    if re.match(r"^(https?|file)://\S+$", value, re.IGNORECASE):
        return value
    if value and Path(value).expanduser().is_file():
        return Path(value).expanduser().resolve().as_uri()
    raise InvalidInput("{url!r} is not a feed address: give its https:// link", url=text)


def add_feed(
    session: Session, org: Organization, url: str, channels: list[str], auto: bool, actor: str
) -> Feed:
    address = feed_url(url)
    names = list(dict.fromkeys(n.strip() for n in channels if n.strip()))
    if not names:
        raise InvalidInput("choose at least one channel")
    for name in names:
        get_channel(session, name, org)
    if session.scalar(select(Feed).where(Feed.organization_id == org.id, Feed.url == address)):
        raise InvalidInput("the feed {url} is already followed", url=address)
    feed = Feed(organization_id=org.id, url=address, channels=names, auto=auto)
    session.add(feed)
    session.flush()
    audit(session, org, actor, "feed.add", f"feed:{feed.id}", url=address, auto=auto)
    return feed


def list_feeds(session: Session, org: Organization | None = None) -> list[Feed]:
    """Followed feeds (of `org`, or of every organisation)."""
    query = select(Feed).order_by(Feed.id)
    if org is not None:
        query = query.where(Feed.organization_id == org.id)
    return list(session.scalars(query))


def get_feed(session: Session, org: Organization, feed_id: int) -> Feed:
    feed = session.get(Feed, feed_id)
    if feed is None or feed.organization_id != org.id:
        raise NotFound("no feed has id {id}", id=feed_id)
    return feed


def remove_feed(session: Session, org: Organization, feed_id: int, actor: str) -> None:
    """Stop following a feed; the posts made from it stay."""
    feed = get_feed(session, org, feed_id)
    session.execute(delete(FeedItem).where(FeedItem.feed_id == feed.id))
    session.delete(feed)
    session.flush()
    audit(session, org, actor, "feed.remove", f"feed:{feed_id}", url=feed.url)


def ingest(
    session: Session,
    org: Organization,
    feed: Feed,
    entries: list[FeedEntry],
    now: datetime,
    media_dir: Path,
    actor: str,
) -> Ingested:
    """Turn the entries not seen before into drafts, or (auto) posts in the next free slots."""
    seen = set(session.scalars(select(FeedItem.item_key).where(FeedItem.feed_id == feed.id)))
    result = Ingested()
    for entry in entries:
        if entry.key in seen or not entry.text:
            continue
        seen.add(entry.key)
        post: Post | None = None
        reason = None
        if feed.auto:
            # Both refuse before writing: a refused item simply stays a draft.
            try:
                due_at = next_free_slot(session, list(feed.channels), now, org=org)
                new = NewPost(
                    text=entry.text, channels=list(feed.channels), due_at=due_at, link=entry.link
                )
                post = queue_post(session, org, new, media_dir, actor)
                result.queued.append(post.id)
            except InvalidInput as problem:
                reason = str(problem)
        if post is None:
            post = Post(
                organization_id=org.id, text=entry.text, link=entry.link, status=PostStatus.DRAFT
            )
            session.add(post)
            session.flush()
            audit(session, org, actor, "post.draft", f"post:{post.id}", feed=feed.id, reason=reason)
            result.drafts.append(post.id)
        session.add(FeedItem(feed_id=feed.id, item_key=entry.key, post_id=post.id))
    session.flush()
    return result
