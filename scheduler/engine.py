"""The publishing engine: claim due publications, call their channels, record what happened.

Every external call is wrapped by persisted state: the attempt is committed (state SENDING)
before the request, and the outcome after it. A crash in between leaves a SENDING row whose
lease expires and which recovery turns into UNCONFIRMED — reconciled, never blindly resent.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import Table, bindparam, exists, insert, select, update
from sqlalchemy.orm import Session, selectinload, sessionmaker

from channels.base import (
    AlreadyPublished,
    AuthExpired,
    ChannelError,
    NotSent,
    OutcomeUnknown,
    Outgoing,
    Published,
    RateLimited,
    Rejected,
)
from channels.base import Channel as ChannelAdapter
from content.models import Attempt, Channel, Post, PostMedia, Publication
from content.notices import NoticeKind, add_notice
from content.states import ChannelStatus, PostStatus, PublicationState, transition
from content.store import organization_zones
from scheduler.claims import CLAIMABLE, claim_due
from scheduler.clock import Clock
from scheduler.compose import MediaLocation, compose
from scheduler.limits import Pacer, Rate
from scheduler.policy import RetryPolicy

log = logging.getLogger(__name__)

ChannelFactory = Callable[[Channel], ChannelAdapter]
RatesFor = Callable[[Channel], list[Rate]]
COLLECT_FIRST = timedelta(hours=1)
# Outcomes are recorded together, but never more than this many seconds after they came back.
RECORD_WITHIN = 0.05
# The tables themselves, for the bulk statements of the hot path.
PUBLICATIONS = cast(Table, Publication.__table__)
ATTEMPTS = cast(Table, Attempt.__table__)
POSTS = cast(Table, Post.__table__)


@dataclass(frozen=True)
class EngineSettings:
    worker: str
    media: MediaLocation
    lease: timedelta = timedelta(minutes=2)
    batch_size: int = 100
    concurrency: int = 50
    grace: timedelta = timedelta(minutes=15)
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(frozen=True)
class _Snapshot:
    """What claiming needs of every channel, read once per publish_due."""

    rates: dict[int, list[Rate]]
    zones: dict[int, ZoneInfo]


@dataclass(frozen=True)
class Job:
    """A claimed publication, composed and ready to send."""

    publication_id: int
    channel: Channel
    outgoing: Outgoing
    rates: list[Rate]
    booked: float = 0.0  # when the pacer booked its send (0: not paced)


class Engine:
    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: ChannelFactory,
        clock: Clock,
        settings: EngineSettings,
        pacer: Pacer,
        rates_for: RatesFor,
        rng: random.Random | None = None,
    ) -> None:
        self.sessions = sessions
        self.channels = channels
        self.clock = clock
        self.settings = settings
        self.pacer = pacer
        self.rates_for = rates_for
        self.rng = rng or random.Random()  # noqa: S311 - jitter, not security
        # Channels the last claim passed over for want of capacity -> when they have some again.
        self.throttled: dict[int, datetime] = {}
        self._snapshot: _Snapshot | None = None

    @property
    def database(self) -> SqlEngine:
        bind = self.sessions.kw["bind"]
        assert isinstance(bind, SqlEngine)
        return bind

    # --- publishing ------------------------------------------------------------------------------

    async def publish_due(self) -> int:
        """Publish everything due now; returns how many attempts were made.

        Claims and begins are done for several publications at a time and outcomes recorded
        together, so the database round trips (which block the event loop) do not grow with
        each send: a burst runs at close to the client library's own pace. Every attempt is
        still committed as SENDING before its request goes out.
        """
        in_flight: dict[asyncio.Task[Published | ChannelError], tuple[Job, int]] = {}
        finished: list[tuple[Job, int, Published | ChannelError]] = []
        attempts = 0
        limit = self.settings.concurrency
        # Refill when half the slots are free, not on every single completion, and record the
        # outcomes that came back meanwhile in one transaction.
        refill = max(1, min(self.settings.batch_size, limit // 2))
        self._snapshot = None
        self.throttled = {}
        try:
            while True:
                free = limit - len(in_flight)
                jobs: list[Job] = []
                if free >= refill or (free and not in_flight):
                    if finished:
                        self._record_many(finished)
                        finished = []
                    jobs = self._claim(min(free, self.settings.batch_size))
                    for job, attempt_id in self._begin_many(jobs):
                        task = asyncio.create_task(self._send(job))
                        in_flight[task] = (job, attempt_id)
                        attempts += 1
                if not in_flight:
                    self._record_many(finished)
                    return attempts
                if not jobs or limit - len(in_flight) < refill:
                    done, _ = await asyncio.wait(
                        in_flight,
                        timeout=RECORD_WITHIN if finished else None,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    finished += [(*in_flight.pop(task), task.result()) for task in done]
                    if not done or not in_flight:
                        # Nothing more came back for a while (or nothing is left): do not keep
                        # what was sent unrecorded behind a slow request.
                        self._record_many(finished)
                        finished = []
        except Exception:
            # Claiming failed (the database went away, say): the sends in flight still happen;
            # wait for them and record what can be recorded before giving up the round.
            if in_flight:
                await asyncio.wait(in_flight)
                finished += [(*pair, task.result()) for task, pair in in_flight.items()]
            self._record_many(finished)
            raise
        finally:
            self._snapshot = None

    def _channels_now(self, session: Session) -> _Snapshot:
        """Channels' pacing keys and organisations' zones, read once per publish_due."""
        if self._snapshot is None:
            channels = list(session.scalars(select(Channel)))
            self._snapshot = _Snapshot(
                rates={c.id: self.rates_for(c) for c in channels},
                zones=organization_zones(session),
            )
            for channel in channels:
                session.expunge(channel)
        return self._snapshot

    def _capacity(self, rates: dict[int, list[Rate]]) -> Callable[[int], int]:
        def capacity(channel_id: int) -> int:
            keys = rates.get(channel_id, [])
            free = self.pacer.available(keys)
            if free <= 0:
                self.throttled[channel_id] = self.pacer.free_at(keys)
            else:
                self.throttled.pop(channel_id, None)
            return free

        return capacity

    def _claim(self, limit: int) -> list[Job]:
        now = self.clock.now()
        with self.sessions.begin() as session:
            snapshot = self._channels_now(session)
            ids = claim_due(
                session,
                self.settings.worker,
                now,
                self.settings.lease,
                limit,
                capacity=self._capacity(snapshot.rates),
            )
            if not ids:
                return []
            publications = session.scalars(
                select(Publication)
                .where(Publication.id.in_(ids))
                .order_by(Publication.due_at, Publication.id)
                .options(
                    selectinload(Publication.post)
                    .selectinload(Post.media)
                    .joinedload(PostMedia.media),
                    selectinload(Publication.event),
                )
            ).all()
            jobs = []
            released = []
            for publication in publications:
                channel = publication.channel
                rates = snapshot.rates.get(channel.id) or self.rates_for(channel)
                if self.pacer.available(rates) <= 0:
                    # A key shared by several channels (the bot's) ran out within this claim:
                    # give the publication back rather than send it into a 429.
                    self.throttled[channel.id] = self.pacer.free_at(rates)
                    released.append(publication.id)
                    continue
                try:
                    outgoing = compose(
                        publication, snapshot.zones[channel.organization_id], self.settings.media
                    )
                except (ValueError, OSError) as exc:
                    self._fail(session, publication, f"cannot prepare the content: {exc}")
                    continue
                jobs.append(Job(publication.id, channel, outgoing, rates, self.pacer.book(rates)))
            if released:
                session.execute(
                    update(PUBLICATIONS)
                    .where(PUBLICATIONS.c.id.in_(released))
                    .values(claimed_by=None, lease_until=None)
                )
            session.flush()
            session.expunge_all()  # the jobs' channels travel outside this session
            return jobs

    async def _send(self, job: Job) -> Published | ChannelError:
        """The request itself, and nothing else: what happened, as a value."""
        try:
            adapter = self.channels(job.channel)

            async def checkpoint(progress: Mapping[str, Any]) -> None:
                self._save_progress(job.publication_id, progress)

            return await adapter.publish(job.outgoing, checkpoint)
        except ChannelError as err:
            return err
        except Exception as exc:
            # A bug of ours, possibly after the request went out: treat it as unknown.
            log.exception("publishing %s crashed", job.publication_id)
            return OutcomeUnknown(f"internal error ({exc.__class__.__name__})")
        finally:
            self.pacer.done(job.rates, job.booked)

    def _begin(self, job: Job) -> int | None:
        """Commit the attempt (state SENDING) before any request; None if the lease was lost."""
        begun = self._begin_many([job])
        return begun[0][1] if begun else None

    def _begin_many(self, jobs: list[Job]) -> list[tuple[Job, int]]:
        """Commit the attempts of `jobs` (state SENDING) in one transaction, before any of their
        requests; returns each job still ours with its attempt's id (a lost lease drops it)."""
        if not jobs:
            return []
        now = self.clock.now()
        for state in CLAIMABLE:
            transition(state, PublicationState.SENDING)  # the rule holds; the WHERE enforces it
        table = PUBLICATIONS
        with self.sessions.begin() as session:
            rows = session.execute(
                update(table)
                .where(
                    table.c.id.in_([job.publication_id for job in jobs]),
                    table.c.claimed_by == self.settings.worker,
                    table.c.state.in_(CLAIMABLE),
                )
                .values(
                    state=PublicationState.SENDING,
                    attempts=table.c.attempts + 1,
                    lease_until=now + self.settings.lease,
                    updated_at=now,
                )
                .returning(table.c.id, table.c.attempts)
            ).all()
            numbers = {int(row[0]): int(row[1]) for row in rows}
            begun = [job for job in jobs if job.publication_id in numbers]
            if not begun:
                return []
            attempt_ids = session.scalars(
                insert(Attempt).returning(Attempt.id, sort_by_parameter_order=True),
                [
                    {
                        "publication_id": job.publication_id,
                        "number": numbers[job.publication_id],
                        "worker": self.settings.worker,
                        "started_at": now,
                    }
                    for job in begun
                ],
            ).all()
        return list(zip(begun, attempt_ids, strict=True))

    def _record_many(self, finished: list[tuple[Job, int, Published | ChannelError]]) -> None:
        """Record outcomes: the sent ones together, each failure on its own."""
        if not finished:
            return
        sent = [(j, a, o) for j, a, o in finished if isinstance(o, Published)]
        if sent:
            try:
                with self.sessions.begin() as session:
                    self._record_sent_many(session, sent)
            except Exception:
                log.exception("recording %d sends together failed; recording one by one", len(sent))
                for job, attempt_id, published in sent:
                    self._guarded(self._record_sent, job, attempt_id, published)
        for job, attempt_id, outcome in finished:
            if isinstance(outcome, ChannelError):
                self._guarded(self._record_failure, job, attempt_id, outcome)

    def _guarded(self, record: Callable[..., None], job: Job, *args: Any) -> None:
        try:
            record(job, *args)
        except Exception:
            # The row stays SENDING; its lease expires and recovery makes it UNCONFIRMED.
            log.exception("recording the outcome of publication %s failed", job.publication_id)

    def _record_sent_many(self, session: Session, sent: list[tuple[Job, int, Published]]) -> None:
        """mark_sent for many publications in a few statements; rows no longer SENDING (a
        person or recovery changed them meanwhile) go through mark_sent itself."""
        now = self.clock.now()
        table = PUBLICATIONS
        ids = [job.publication_id for job, _, _ in sent]
        current = {
            row.id: row
            for row in session.execute(
                select(table.c.id, table.c.state, table.c.progress, table.c.post_id)
                .where(table.c.id.in_(ids))
                .with_for_update()
            )
        }
        transition(PublicationState.SENDING, PublicationState.SENT)
        fast = [item for item in sent if current[item[0].publication_id].state == "sending"]
        slow = [item for item in sent if current[item[0].publication_id].state != "sending"]
        if fast:
            session.execute(
                update(table)
                .where(table.c.id == bindparam("b_id"), table.c.state == PublicationState.SENDING)
                .values(
                    state=PublicationState.SENT,
                    remote_id=bindparam("b_remote_id"),
                    remote_url=bindparam("b_url"),
                    progress=bindparam("b_progress"),
                    sent_at=now,
                    last_error=None,
                    claimed_by=None,
                    lease_until=None,
                    next_collect_at=now + COLLECT_FIRST,
                    collect_stage=0,
                    updated_at=now,
                ),
                [
                    {
                        "b_id": job.publication_id,
                        "b_remote_id": published.remote_id,
                        "b_url": published.url,
                        "b_progress": _merged(
                            current[job.publication_id].progress, published.extra
                        ),
                    }
                    for job, _, published in fast
                ],
            )
            attempts = ATTEMPTS
            session.execute(
                update(attempts)
                .where(attempts.c.id == bindparam("b_id"))
                .values(finished_at=now, outcome="sent", error=None),
                [{"b_id": attempt_id} for _, attempt_id, _ in fast],
            )
            finish_posts(
                session,
                {current[job.publication_id].post_id for job, _, _ in fast} - {None},
            )
        for job, attempt_id, published in slow:
            publication = session.get_one(Publication, job.publication_id)
            self._finish_attempt(session, attempt_id, "sent")
            mark_sent(session, publication, published, now)

    def _save_progress(self, publication_id: int, progress: Mapping[str, Any]) -> None:
        with self.sessions.begin() as session:
            publication = session.get_one(Publication, publication_id)
            publication.progress = {**(publication.progress or {}), **progress}

    def _finish_attempt(
        self, session: Session, attempt_id: int, outcome: str, error: str | None = None
    ) -> None:
        attempt = session.get_one(Attempt, attempt_id)
        attempt.finished_at = self.clock.now()
        attempt.outcome = outcome
        attempt.error = error

    def _record_sent(self, job: Job, attempt_id: int, published: Published) -> None:
        with self.sessions.begin() as session:
            publication = session.get_one(Publication, job.publication_id)
            self._finish_attempt(session, attempt_id, "sent")
            mark_sent(session, publication, published, self.clock.now())

    def _record_failure(self, job: Job, attempt_id: int, err: ChannelError) -> None:
        now = self.clock.now()
        with self.sessions.begin() as session:
            publication = session.get_one(Publication, job.publication_id)
            publication.last_error = err.reason
            publication.claimed_by = None
            publication.lease_until = None
            if isinstance(err, RateLimited):
                self._finish_attempt(session, attempt_id, "rate_limited", err.reason)
                self.pacer.block(job.rates, err.retry_after)
                publication.state = transition(publication.state, PublicationState.RETRY_WAIT)
                publication.due_at = now + self.settings.retry.after_rate_limit(
                    err.retry_after, self.rng
                )
            elif isinstance(err, NotSent):
                self._finish_attempt(session, attempt_id, "not_sent", err.reason)
                failures = _not_sent_count(session, publication.id)
                if self.settings.retry.gives_up(failures):
                    self._fail(
                        session, publication, f"gave up after {failures} attempts: {err.reason}"
                    )
                else:
                    publication.state = transition(publication.state, PublicationState.RETRY_WAIT)
                    publication.due_at = now + self.settings.retry.backoff(failures, self.rng)
            elif isinstance(err, Rejected):
                self._finish_attempt(session, attempt_id, "rejected", err.reason)
                self._fail(session, publication, err.reason)
            elif isinstance(err, AuthExpired):
                self._finish_attempt(session, attempt_id, "auth_expired", err.reason)
                publication.state = transition(publication.state, PublicationState.PAUSED)
                expire_channel(session, publication.channel_id, err.reason)
            else:  # OutcomeUnknown, AlreadyPublished: may be on the platform; reconcile
                outcome = "duplicate" if isinstance(err, AlreadyPublished) else "unknown"
                self._finish_attempt(session, attempt_id, outcome, err.reason)
                publication.state = transition(publication.state, PublicationState.UNCONFIRMED)

    def _fail(self, session: Session, publication: Publication, reason: str) -> None:
        publication.state = transition(publication.state, PublicationState.FAILED)
        publication.last_error = reason
        publication.claimed_by = None
        publication.lease_until = None
        add_notice(
            session,
            NoticeKind.PUBLICATION_FAILED,
            publication_id=publication.id,
            channel_id=publication.channel_id,
            reason=reason,
        )


def _not_sent_count(session: Session, publication_id: int) -> int:
    outcomes = session.scalars(
        select(Attempt.outcome)
        .where(Attempt.publication_id == publication_id)
        .order_by(Attempt.number.desc())
    )
    count = 0
    for outcome in outcomes:
        if outcome != "not_sent":
            break
        count += 1
    return count


def _merged(progress: Mapping[str, Any] | None, extra: Mapping[str, Any]) -> Any:
    if not extra:
        return progress
    return {**(progress or {}), **extra}


def finish_posts(session: Session, post_ids: set[int]) -> None:
    """Queued posts none of whose publications is left to send are done."""
    if not post_ids:
        return
    transition(PostStatus.QUEUED, PostStatus.DONE)
    posts, publications = POSTS, PUBLICATIONS
    unsent = exists().where(
        publications.c.post_id == posts.c.id,
        publications.c.state.not_in((PublicationState.SENT, PublicationState.CANCELLED)),
    )
    session.execute(
        update(posts)
        .where(posts.c.id.in_(post_ids), posts.c.status == PostStatus.QUEUED, ~unsent)
        .values(status=PostStatus.DONE)
    )


def mark_sent(
    session: Session, publication: Publication, published: Published, now: datetime
) -> None:
    """Record where a publication landed, and finish its post when nothing is left to send."""
    publication.state = transition(publication.state, PublicationState.SENT)
    publication.remote_id = published.remote_id
    publication.remote_url = published.url
    publication.sent_at = now
    publication.last_error = None
    publication.claimed_by = None
    publication.lease_until = None
    if published.extra:
        publication.progress = {**(publication.progress or {}), **published.extra}
    publication.next_collect_at = now + COLLECT_FIRST
    publication.collect_stage = 0
    post = publication.post
    if post is not None and post.status is PostStatus.QUEUED:
        states = {p.state for p in post.publications}
        if states <= {PublicationState.SENT, PublicationState.CANCELLED}:
            post.status = transition(post.status, PostStatus.DONE)


def expire_channel(session: Session, channel_id: int, reason: str) -> None:
    """Mark a channel's credentials dead (once) and tell staff."""
    channel = session.get_one(Channel, channel_id, with_for_update=True)
    if channel.status is ChannelStatus.AUTH_EXPIRED:
        return
    channel.status = transition(channel.status, ChannelStatus.AUTH_EXPIRED)
    channel.status_reason = reason
    add_notice(
        session,
        NoticeKind.CHANNEL_AUTH_EXPIRED,
        organization_id=channel.organization_id,
        channel_id=channel.id,
        reason=reason,
    )
