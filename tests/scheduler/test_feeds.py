"""Polling feeds: a local RSS file's items become drafts once, even across restarts; HTTP feeds
are fetched conditionally; a broken feed is recorded and does not stop the others."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from content.domain.states import PostStatus
from content.plans.feeds import add_feed
from content.queueing.slots import add_slot
from content.storage.db import make_engine, session_factory
from content.storage.models import Feed, Post
from scheduler.clock import ManualClock
from scheduler.feeds import Fetched, fetch_feed_sync, poll_feeds
from tests.support.feeds import rss
from tests.support.library import Library, library

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def lib(database_url: str, tmp_path: Path) -> Iterator[Library]:
    with library(database_url, tmp_path) as created:
        yield created


def follow(lib: Library, url: str, channels: list[str], auto: bool = False) -> int:
    with lib.transaction() as (session, org):
        return add_feed(session, org, url, channels, auto, "test").id


def drafts(lib: Library) -> list[str]:
    with lib.sessions() as session:
        posts = session.scalars(select(Post).where(Post.status == PostStatus.DRAFT))
        return [p.text.split("\n")[0] for p in posts]


async def test_a_local_rss_file_yields_five_drafts_once_across_restarts(
    lib: Library, tmp_path: Path, database_url: str
) -> None:
    path = tmp_path / "news.xml"
    path.write_bytes(rss(5))
    follow(lib, path.as_uri(), ["news"])
    report = await poll_feeds(lib.sessions, ManualClock(NOW))
    assert (report.feeds, len(report.drafts), report.queued, report.failed) == (1, 5, [], {})
    assert sorted(drafts(lib)) == [f"News {n}" for n in range(1, 6)]
    assert (await poll_feeds(lib.sessions, ManualClock(NOW))).drafts == []

    # A restart: a new process has a new database engine and sessions, and nothing in memory.
    restarted = make_engine(database_url)
    try:
        again = await poll_feeds(session_factory(restarted), ManualClock(NOW))
        assert (again.drafts, again.failed) == ([], {})
        path.write_bytes(rss(7))
        newer = await poll_feeds(session_factory(restarted), ManualClock(NOW))
        assert len(newer.drafts) == 2
    finally:
        restarted.dispose()
    assert len(drafts(lib)) == 7


async def test_auto_feeds_fill_the_next_free_slots(lib: Library, tmp_path: Path) -> None:
    with lib.transaction() as (session, org):
        add_slot(session, org, "news", [1, 3], 600, "test")
    path = tmp_path / "news.xml"
    path.write_bytes(rss(2))
    follow(lib, str(path), ["news"], auto=True)
    report = await poll_feeds(lib.sessions, ManualClock(NOW))
    assert (len(report.queued), report.drafts) == (2, [])
    with lib.sessions() as session:
        posts = session.scalars(select(Post).order_by(Post.id)).all()
        assert [p.publications[0].due_at.day for p in posts] == [3, 5]  # Tue and Thu


@dataclass
class Served:
    url: str
    requests: list[dict[str, str]]


class _Feed(http.server.BaseHTTPRequestHandler):
    body = b""
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:  # noqa: N802 - the http.server convention
        type(self).seen.append(dict(self.headers))
        if self.path != "/rss":
            self.send_error(500)
            return
        if self.headers.get("If-None-Match") == '"v1"':
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("ETag", '"v1"')
        self.send_header("Last-Modified", "Mon, 02 Nov 2026 08:00:00 GMT")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def website() -> Iterator[Served]:
    _Feed.body, _Feed.seen = rss(3), []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Served(f"http://127.0.0.1:{server.server_address[1]}", _Feed.seen)
    finally:
        server.shutdown()
        server.server_close()


async def test_http_feeds_are_fetched_with_etag_and_last_modified(
    lib: Library, website: Served
) -> None:
    feed_id = follow(lib, f"{website.url}/rss", ["news"])
    broken_id = follow(lib, f"{website.url}/broken", ["news"])
    first = await poll_feeds(lib.sessions, ManualClock(NOW))
    assert len(first.drafts) == 3
    assert first.failed == {broken_id: "HTTP 500"}
    second = await poll_feeds(lib.sessions, ManualClock(NOW))
    assert second.drafts == []
    conditional = [r for r in website.requests if r.get("If-None-Match")]
    assert conditional
    assert conditional[0]["If-Modified-Since"] == "Mon, 02 Nov 2026 08:00:00 GMT"
    with lib.sessions() as session:
        feed, broken = session.get(Feed, feed_id), session.get(Feed, broken_id)
        assert feed is not None
        assert broken is not None
        assert (feed.etag, feed.last_error, feed.polled_at) == ('"v1"', None, NOW)
        assert broken.last_error == "HTTP 500"


def test_fetching_refuses_other_schemes_and_reports_missing_files(tmp_path: Path) -> None:
    from scheduler.feeds import FeedUnavailable

    with pytest.raises(FeedUnavailable, match="unsupported"):
        fetch_feed_sync("ftp://example.org/rss", None, None)
    with pytest.raises(FeedUnavailable):
        fetch_feed_sync((tmp_path / "missing.xml").as_uri(), None, None)
    (tmp_path / "news.xml").write_bytes(rss(1))
    assert fetch_feed_sync((tmp_path / "news.xml").as_uri(), None, None).status == 200


async def test_a_fetch_function_can_be_injected(lib: Library) -> None:
    follow(lib, "https://library.example/rss", ["news"])
    calls: list[tuple[str, str | None, str | None]] = []

    async def fetch(url: str, etag: str | None, modified: str | None) -> Fetched:
        calls.append((url, etag, modified))
        return Fetched(200, rss(2), etag='"abc"') if len(calls) == 1 else Fetched(304)

    assert len((await poll_feeds(lib.sessions, ManualClock(NOW), fetch)).drafts) == 2
    assert (await poll_feeds(lib.sessions, ManualClock(NOW), fetch)).drafts == []
    assert calls[1] == ("https://library.example/rss", '"abc"', None)
