"""Claimed publications read as rows, and the common case composed straight from them.

Loading every claimed publication as ORM objects (publication, post, channel) was the largest
part of a claim in the burst profile (bench/PROFILING.md). Most publications are text posts
without images; those are composed here from one Core query. Anything else (an event's message,
a post with images, a share) is marked for the full compose, which loads the ORM objects.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Connection, Table, exists, select

from channels.base import Outgoing
from content.storage.models import Channel, Post, PostMedia, Publication, text_in
from scheduler.compose import post_outgoing

PUBLICATIONS = cast(Table, Publication.__table__)
POSTS = cast(Table, Post.__table__)
CHANNELS = cast(Table, Channel.__table__)
POST_MEDIA = cast(Table, PostMedia.__table__)


@dataclass(frozen=True)
class ClaimedRow:
    """A claimed publication; `outgoing` is None when it needs the full compose."""

    publication_id: int
    due_at: datetime
    post_id: int | None
    progress: Mapping[str, Any] | None
    channel: Channel
    outgoing: Outgoing | None


class ChannelRows:
    """Channels as detached objects built from their rows, reused while a row is unchanged."""

    def __init__(self) -> None:
        self._known: dict[int, tuple[tuple[Any, ...], Channel]] = {}

    def channel(self, values: Mapping[str, Any]) -> Channel:
        key = tuple(values.values())
        known = self._known.get(values["id"])
        if known is not None and known[0] == key:
            return known[1]
        channel = Channel(**values)
        self._known[values["id"]] = (key, channel)
        return channel


def read_claimed(connection: Connection, ids: list[int], channels: ChannelRows) -> list[ClaimedRow]:
    """The publications `ids` in due order, text posts without images composed."""
    publications, posts = PUBLICATIONS, POSTS
    has_images = exists().where(POST_MEDIA.c.post_id == publications.c.post_id)
    channel_columns = [c.label(f"channel_{c.name}") for c in CHANNELS.c]
    rows = connection.execute(
        select(
            publications.c.id,
            publications.c.due_at,
            publications.c.post_id,
            publications.c.event_id,
            publications.c.progress,
            publications.c.share_mode,
            posts.c.text,
            posts.c.variants,
            posts.c.link,
            has_images.label("has_images"),
            *channel_columns,
        )
        .select_from(
            publications.join(CHANNELS, CHANNELS.c.id == publications.c.channel_id).outerjoin(
                posts, posts.c.id == publications.c.post_id
            )
        )
        .where(publications.c.id.in_(ids))
        .order_by(publications.c.due_at, publications.c.id)
    ).all()
    return claimed_from((row._mapping for row in rows), channels)


def claimed_from(rows: Iterable[Mapping[Any, Any]], channels: ChannelRows) -> list[ClaimedRow]:
    """Claimed rows (as read_claimed's query names their columns) as ClaimedRows, text posts
    without images composed."""
    claimed = []
    for values in rows:
        channel = channels.channel({c.name: values[f"channel_{c.name}"] for c in CHANNELS.c})
        plain = values["post_id"] is not None and values["event_id"] is None
        plain = plain and not values["has_images"] and values["share_mode"] is None
        text = text_in(channel.language, values["text"], values["variants"]) if plain else None
        outgoing = None if text is None else post_outgoing(text, (), values["link"])
        claimed.append(
            ClaimedRow(
                values["id"],
                values["due_at"],
                values["post_id"],
                values["progress"],
                channel,
                outgoing,
            )
        )
    return claimed
