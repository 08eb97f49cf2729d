"""Feed items as drafts or as posts in the next free slots, each item once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from content.domain.states import PostStatus
from content.errors import InvalidInput, NotFound
from content.plans.feeds import add_feed, ingest, list_feeds, parse_feed, plain_text, remove_feed
from content.queueing.slots import add_slot
from content.storage.models import Feed, FeedItem, Post
from tests.support.feeds import rss
from tests.support.library import Library, library

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # Monday


def test_items_are_read_oldest_first_as_plain_text() -> None:
    entries = parse_feed(rss(3))
    assert [e.title for e in entries] == ["News 1", "News 2", "News 3"]
    assert entries[0].text == "News 1\n\nItem 1 & more news from the library."
    assert entries[0].link == "https://library.example/news/1"
    assert len({e.key for e in entries}) == 3
    assert parse_feed(rss(1, first=2))[0].key == entries[1].key
    assert plain_text("<p>One<br>two &amp; <i>three</i></p><p>Four</p>") == (
        "One\ntwo & three\nFour"
    )
    with pytest.raises(InvalidInput, match="not an RSS or Atom feed"):
        parse_feed(b"<html><body>Not a feed</body></html>")


def test_atom_feeds_and_long_summaries() -> None:
    atom = (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        "<id>urn:feed</id><updated>2026-11-01T10:00:00Z</updated>"
        "<entry><id>urn:1</id><title>Long</title><updated>2026-11-01T10:00:00Z</updated>"
        f"<summary>{'word ' * 400}</summary></entry></feed>"
    ).encode()
    (entry,) = parse_feed(atom)
    assert entry.link is None
    assert len(entry.summary) <= 900
    assert entry.summary.endswith("…")


@pytest.fixture
def lib(database_url: str, tmp_path: Path) -> Iterator[Library]:
    with library(database_url, tmp_path) as created:
        yield created


def test_feeds_are_checked_when_added(lib: Library, tmp_path: Path) -> None:
    local = tmp_path / "news.xml"
    local.write_bytes(rss(1))
    with lib.transaction() as (session, org):
        feed = add_feed(session, org, str(local), ["news"], False, "test")
        assert feed.url == local.resolve().as_uri()
        with pytest.raises(InvalidInput, match="already followed"):
            add_feed(session, org, local.resolve().as_uri(), ["news"], False, "test")
        with pytest.raises(InvalidInput, match="not a feed address"):
            add_feed(session, org, "ftp://example.org/rss", ["news"], False, "test")
        with pytest.raises(NotFound, match="unknown channel"):
            add_feed(session, org, "https://example.org/rss", ["nope"], False, "test")
        with pytest.raises(InvalidInput, match="at least one channel"):
            add_feed(session, org, "https://example.org/rss", [" "], False, "test")


def test_new_items_become_drafts_once(lib: Library) -> None:
    with lib.transaction() as (session, org):
        feed = add_feed(session, org, "https://library.example/rss", ["news"], False, "test")
        first = ingest(session, org, feed, parse_feed(rss(5)), NOW, lib.media_dir, "test")
        assert (len(first.drafts), first.queued) == (5, [])
        again = ingest(session, org, feed, parse_feed(rss(6)), NOW, lib.media_dir, "test")
        assert (len(again.drafts), again.queued) == (1, [])
    with lib.sessions() as session:
        posts = session.query(Post).order_by(Post.id).all()
        assert [p.text.split("\n")[0] for p in posts] == [f"News {n}" for n in range(1, 7)]
        assert {p.status for p in posts} == {PostStatus.DRAFT}
        assert all(not p.publications for p in posts)


def test_auto_feeds_queue_each_item_into_the_next_free_slot(lib: Library) -> None:
    with lib.transaction() as (session, org):
        add_slot(session, org, "news", [1, 3], 600, "test")
        feed = add_feed(session, org, "https://library.example/rss", ["news"], True, "test")
        result = ingest(session, org, feed, parse_feed(rss(3)), NOW, lib.media_dir, "test")
        assert (len(result.queued), result.drafts) == (3, [])
    with lib.sessions() as session:
        due = [p.publications[0].due_at for p in session.query(Post).order_by(Post.id)]
    # Tue 3, Thu 5 and Tue 10 November at 10:00 in Vilnius (+02): oldest item first.
    assert due == [
        datetime(2026, 11, 3, 8, tzinfo=UTC),
        datetime(2026, 11, 5, 8, tzinfo=UTC),
        datetime(2026, 11, 10, 8, tzinfo=UTC),
    ]


def test_an_item_that_cannot_be_queued_stays_a_draft(lib: Library) -> None:
    with lib.transaction() as (session, org):
        # No posting times on the channel, and Instagram needs an image: drafts, not errors.
        feed = add_feed(session, org, "https://library.example/rss", ["ig"], True, "test")
        result = ingest(session, org, feed, parse_feed(rss(2)), NOW, lib.media_dir, "test")
        assert (len(result.drafts), result.queued) == (2, [])
        add_slot(session, org, "ig", [1], 600, "test")
        later = ingest(session, org, feed, parse_feed(rss(1, first=3)), NOW, lib.media_dir, "t")
        assert len(later.drafts) == 1


def test_removing_a_feed_keeps_its_posts(lib: Library) -> None:
    with lib.transaction() as (session, org):
        feed = add_feed(session, org, "https://library.example/rss", ["news"], False, "test")
        ingest(session, org, feed, parse_feed(rss(2)), NOW, lib.media_dir, "test")
        remove_feed(session, org, feed.id, "test")
        with pytest.raises(NotFound):
            remove_feed(session, org, feed.id, "test")
        assert list_feeds(session) == []
    assert (lib.count(Feed), lib.count(FeedItem), lib.count(Post)) == (0, 0, 2)
