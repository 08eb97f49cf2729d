"""RSS documents made on the fly for feed tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from xml.sax.saxutils import escape


def rss(count: int, first: int = 1, start: datetime | None = None) -> bytes:
    """An RSS 2.0 feed of items `first`…`first + count - 1`, newest first as websites list them."""
    start = start or datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    items = []
    for number in reversed(range(first, first + count)):
        published = format_datetime(start + timedelta(hours=number))
        summary = escape(f"<p>Item <b>{number}</b> &amp; more news from the library.</p>")
        items.append(
            f"<item><title>News {number}</title>"
            f"<link>https://library.example/news/{number}</link>"
            f"<guid>https://library.example/news/{number}</guid>"
            f"<description>{summary}</description><pubDate>{published}</pubDate></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        "<title>Library news</title><link>https://library.example/</link>"
        f"<description>News</description>{''.join(items)}</channel></rss>"
    ).encode()
