"""Claimed publications made into jobs: composed, with their channels' rate limits.

What claiming needs of every channel (its pacing keys, its organisation's zone) is read again
every SNAPSHOT_SECONDS, not on every claim; channels a claim passed over for want of capacity
are noted in `throttled`, for the wake-up to know when to look again.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, lazyload, selectinload

from channels.base import Outgoing
from content.storage.models import Channel, Event, Post, PostMedia, Publication
from content.storage.store import organization_zones
from scheduler.claimed_rows import ChannelRows, ClaimedRow, read_claimed
from scheduler.compose import MediaLocation, compose
from scheduler.datastore import fail, unclaim
from scheduler.jobs import Job
from scheduler.limits import Pacer, Rate

RatesFor = Callable[[Channel], list[Rate]]
# Channels' pacing keys and zones are read again after this many seconds.
SNAPSHOT_SECONDS = 5.0


@dataclass(frozen=True)
class _Snapshot:
    """What claiming needs of every channel, read again every SNAPSHOT_SECONDS."""

    rates: dict[int, list[Rate]]
    zones: dict[int, ZoneInfo]


class Claimer:
    """Makes claimed publications into jobs for one worker."""

    def __init__(
        self, worker: str, media: MediaLocation, pacer: Pacer, rates_for: RatesFor
    ) -> None:
        self.worker = worker
        self.media = media
        self.pacer = pacer
        self.rates_for = rates_for
        # Channels the last claim passed over for want of capacity -> when they have some again.
        self.throttled: dict[int, datetime] = {}
        self._snapshot: _Snapshot | None = None
        self._snapshot_expires = 0.0
        self.channel_rows = ChannelRows()

    def channels_now(self, session: Session) -> _Snapshot:
        """Channels' pacing keys and organisations' zones, read again every few seconds."""
        moment = time.monotonic()
        if self._snapshot is None or moment >= self._snapshot_expires:
            channels = list(session.scalars(select(Channel)))
            self._snapshot = _Snapshot(
                rates={c.id: self.rates_for(c) for c in channels},
                zones=organization_zones(session),
            )
            self._snapshot_expires = moment + SNAPSHOT_SECONDS
            for channel in channels:
                session.expunge(channel)
        return self._snapshot

    def passed_over(self, rates: dict[int, list[Rate]]) -> set[int]:
        """Channels that may not start a send now (their rate limits), noted in `throttled`."""
        if not self.pacer.enabled:
            return set()
        capacity = self.capacity_of(rates)
        return {channel_id for channel_id in rates if capacity(channel_id) <= 0}

    def capacity_of(self, rates: dict[int, list[Rate]]) -> Callable[[int], int]:
        self.pacer.refresh(rate for keys in rates.values() for rate in keys)

        def capacity(channel_id: int) -> int:
            keys = rates.get(channel_id, [])
            free = self.pacer.available(keys)
            if free <= 0:
                self.throttled[channel_id] = self.pacer.free_at(keys)
            else:
                self.throttled.pop(channel_id, None)
            return free

        return capacity

    def compose_claimed(self, session: Session, snapshot: _Snapshot, ids: list[int]) -> list[Job]:
        """The claimed publications as jobs; those that cannot be composed fail, and those a
        shared limit (the bot's) has no room for now are given back. Sends are booked with the
        pacer when they begin, not here: a job claimed ahead goes later, and a booking made
        now could leave the platform's window before the send reaches it."""
        return self.jobs_of(
            session, snapshot, read_claimed(session.connection(), ids, self.channel_rows)
        )

    def jobs_of(self, session: Session, snapshot: _Snapshot, rows: list[ClaimedRow]) -> list[Job]:
        """compose_claimed of rows read already."""
        composed = self._compose_full(
            session, snapshot, [row.publication_id for row in rows if row.outgoing is None]
        )
        jobs = []
        released = []
        taken: Counter[str] = Counter()  # room promised to the jobs before this one
        for row in rows:
            channel = row.channel
            outgoing = row.outgoing or composed.get(row.publication_id)
            if outgoing is None:
                continue  # it could not be composed, and failed
            rates = snapshot.rates.get(channel.id) or self.rates_for(channel)
            if self.pacer.available(rates, taken) <= 0:
                # A key shared by several channels (the bot's) ran out within this claim:
                # give the publication back rather than send it into a 429.
                self.throttled[channel.id] = self.pacer.free_at(rates)
                released.append(row.publication_id)
                continue
            jobs.append(
                Job(
                    row.publication_id,
                    channel,
                    outgoing,
                    rates,
                    row.due_at,
                    row.post_id,
                    dict(row.progress) if row.progress else None,
                )
            )
            taken.update(rate.key for rate in rates)
        if released:
            unclaim(session.connection(), self.worker, released)
        return jobs

    def _compose_full(
        self, session: Session, snapshot: _Snapshot, ids: list[int]
    ) -> dict[int, Outgoing]:
        """Compose what needs the ORM objects (events' messages, posts with images); those
        that cannot be composed fail (and are left out)."""
        if not ids:
            return {}
        publications = session.scalars(
            select(Publication)
            .where(Publication.id.in_(ids))
            .options(
                # Not the posts' and events' other publications (their lazy="selectin" default).
                selectinload(Publication.post).options(
                    lazyload(Post.publications),
                    selectinload(Post.media).joinedload(PostMedia.media),
                ),
                selectinload(Publication.event).lazyload(Event.publications),
            )
        )
        composed = {}
        for publication in publications:
            channel = publication.channel
            zone = (
                snapshot.zones.get(channel.organization_id)
                or organization_zones(session)[channel.organization_id]
            )
            try:
                composed[publication.id] = compose(publication, zone, self.media)
            except (ValueError, OSError) as exc:
                fail(session, publication, f"cannot prepare the content: {exc}")
        return composed
