"""Preparing ahead: what a channel can do before a publication's due moment (Instagram's
containers) is done then, so that at the moment itself only the call that publishes is left.

Every few seconds the worker looks for publications of channels that can prepare
(`channels.base.Preparing`) falling due within their channel's lead, composes them, and has the
channel prepare them; what it makes is saved in the publication's progress as soon as it
exists, where the engine's claim finds it and hands it to `publish`. The lead is chosen from the
processing times the channel measured (`choose_lead`). Nothing here changes a publication's
state or claim: a publication the engine has claimed is left alone, and one prepared in vain
(edited, cancelled) leaves only an unused container, which expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from channels.base import Channel as ChannelAdapter
from channels.base import ChannelError, Outgoing, Preparing
from content.domain.states import ChannelStatus, Platform
from content.storage.models import Channel, Publication
from content.storage.store import organization_zones
from scheduler.claims import CLAIMABLE
from scheduler.clock import Clock
from scheduler.compose import MediaLocation, compose

log = logging.getLogger(__name__)

# How often the worker looks for publications to prepare.
PREPARE_EVERY = 5.0
# The lead: LEAD_MARGIN times the longest of the channel's recent processing times (it keeps
# the last 20: their maximum, a p95 that a single slow one already raises), plus a pass's
# interval (a publication may be found that much later), within LEAD_BOUNDS; LEAD_UNMEASURED
# until something was measured (after a start, say). Containers live 24 hours, so even the
# ceiling leaves them most of their life; a floor of a minute absorbs a slow moment of the
# platform's that the recent times did not show.
LEAD_MARGIN = 3.0
LEAD_BOUNDS = (60.0, 1800.0)
LEAD_UNMEASURED = 300.0
# Publications due sooner than this are left to the engine, which claims them about now:
# containers made meanwhile could miss its claim and be made twice.
TOO_LATE = timedelta(seconds=3)
# At most this many preparations at once: their calls share the thread pool with the sends.
CONCURRENCY = 2
# A pass waits this long at most for the containers of what it started to be made (and saved).
PASS_WAIT = 30.0
# The platforms whose channels can prepare: others' publications are not even composed.
ONLY_PLATFORMS = (Platform.INSTAGRAM,)


def choose_lead(processing_seconds: Sequence[float]) -> float:
    """How many seconds before its due moment a publication is prepared."""
    if not processing_seconds:
        return LEAD_UNMEASURED
    low, high = LEAD_BOUNDS
    return min(max(LEAD_MARGIN * max(processing_seconds) + PREPARE_EVERY, low), high)


@dataclass(frozen=True)
class _Candidate:
    publication_id: int
    due_at: datetime
    channel: Channel
    outgoing: Outgoing


class Preparer:
    """Prepares publications ahead of their due moments (one per worker)."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: Callable[[Channel], ChannelAdapter],
        clock: Clock,
        media: MediaLocation,
        *,
        concurrency: int = CONCURRENCY,
    ) -> None:
        self.sessions = sessions
        self.channels = channels
        self.clock = clock
        self.media = media
        self._room = asyncio.Semaphore(concurrency)
        self._tasks: dict[int, asyncio.Task[None]] = {}

    async def prepare_due(self, *, wait: bool = False) -> int:
        """Start preparing what falls due within its channel's lead; returns how many were
        started. Returns once their first steps are saved (the containers exist), and leaves
        the waiting on them running, unless `wait`."""
        now = self.clock.now()
        started: list[tuple[asyncio.Task[None], asyncio.Event]] = []
        for candidate in self._candidates(now):
            if candidate.publication_id in self._tasks:
                continue
            try:
                adapter = self.channels(candidate.channel)
            except ChannelError as error:
                log.info("not preparing publication %s: %s", candidate.publication_id, error)
                continue
            if not isinstance(adapter, Preparing):
                continue
            lead = timedelta(seconds=choose_lead(adapter.processing_seconds()))
            if candidate.due_at - now > lead:
                continue
            saved = asyncio.Event()
            task = asyncio.create_task(self._prepare(candidate, adapter, saved))
            self._tasks[candidate.publication_id] = task
            task.add_done_callback(self._forget(candidate.publication_id))
            started.append((task, saved))
        if wait:
            await asyncio.gather(*(task for task, _ in started), return_exceptions=True)
        elif started:
            waits = [asyncio.create_task(saved.wait()) for _, saved in started]
            await asyncio.wait(waits, timeout=PASS_WAIT)
            for pending in waits:
                pending.cancel()
        return len(started)

    def _forget(self, publication_id: int) -> Callable[[asyncio.Task[None]], None]:
        def forget(_task: asyncio.Task[None]) -> None:
            self._tasks.pop(publication_id, None)

        return forget

    async def close(self) -> None:
        """Stop the preparations in progress (what they made is saved; a restart goes on)."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _candidates(self, now: datetime) -> list[_Candidate]:
        """Unclaimed waiting publications of active channels that prepare, due within the
        longest lead (and not about to be claimed), composed."""
        with self.sessions.begin() as session:
            # The channels first: without any that prepare, the publications are not looked at.
            channel_ids = session.scalars(
                select(Channel.id).where(
                    Channel.status == ChannelStatus.ACTIVE, Channel.platform.in_(ONLY_PLATFORMS)
                )
            ).all()
            if not channel_ids:
                return []
            publications = session.scalars(
                select(Publication)
                .where(
                    Publication.channel_id.in_(channel_ids),
                    Publication.state.in_(CLAIMABLE),
                    Publication.due_at > now + TOO_LATE,
                    Publication.due_at <= now + timedelta(seconds=LEAD_BOUNDS[1]),
                    or_(Publication.lease_until.is_(None), Publication.lease_until < now),
                )
                .order_by(Publication.due_at, Publication.id)
            ).all()
            if not publications:
                return []
            zones = organization_zones(session)
            found = []
            for publication in publications:
                channel = publication.channel
                try:
                    outgoing = compose(publication, zones[channel.organization_id], self.media)
                except (ValueError, OSError) as exc:
                    log.info("not preparing publication %s: %s", publication.id, exc)
                    continue
                outgoing = replace(outgoing, progress=dict(publication.progress or {}))
                found.append(_Candidate(publication.id, publication.due_at, channel, outgoing))
            session.expunge_all()  # the channels travel outside this session
            return found

    async def _prepare(
        self, candidate: _Candidate, adapter: Preparing, saved: asyncio.Event
    ) -> None:
        async def checkpoint(progress: Mapping[str, Any]) -> None:
            self._save(candidate.publication_id, progress)
            saved.set()

        try:
            async with self._room:
                await adapter.prepare(candidate.outgoing, checkpoint)
        except ChannelError as error:
            # Nothing was published; publishing at the due moment does what is still missing.
            log.info("preparing publication %s failed: %s", candidate.publication_id, error)
        except Exception:
            log.exception("preparing publication %s crashed", candidate.publication_id)
        finally:
            saved.set()

    def _save(self, publication_id: int, progress: Mapping[str, Any]) -> None:
        """Keep what was prepared on the publication, if it still waits to be published."""
        with self.sessions.begin() as session:
            publication = session.get(Publication, publication_id)
            if publication is not None and publication.state in CLAIMABLE:
                publication.progress = {**(publication.progress or {}), **progress}
