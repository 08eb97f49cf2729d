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
from typing import Any

from sqlalchemy import Engine as SqlEngine
from sqlalchemy import select
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
from content.models import Attempt, Channel, Organization, Post, PostMedia, Publication
from content.notices import NoticeKind, add_notice
from content.states import ChannelStatus, PostStatus, PublicationState, transition
from content.timeparse import zone
from scheduler.claims import CLAIMABLE, claim_due
from scheduler.clock import Clock
from scheduler.compose import MediaLocation, compose
from scheduler.limits import Pacer, Rate
from scheduler.policy import RetryPolicy

log = logging.getLogger(__name__)

ChannelFactory = Callable[[Channel], ChannelAdapter]
RatesFor = Callable[[Channel], list[Rate]]
COLLECT_FIRST = timedelta(hours=1)


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
class Job:
    """A claimed publication, composed and ready to send."""

    publication_id: int
    channel: Channel
    outgoing: Outgoing
    rates: list[Rate]


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

    @property
    def database(self) -> SqlEngine:
        bind = self.sessions.kw["bind"]
        assert isinstance(bind, SqlEngine)
        return bind

    # --- publishing ------------------------------------------------------------------------------

    async def publish_due(self) -> int:
        """Publish everything due now; returns how many attempts were made."""
        in_flight: set[asyncio.Task[None]] = set()
        attempts = 0
        limit = self.settings.concurrency
        while True:
            free = limit - len(in_flight)
            jobs = self._claim(min(free, self.settings.batch_size)) if free else []
            for job in jobs:
                in_flight.add(asyncio.create_task(self._run(job)))
            attempts += len(jobs)
            if not in_flight:
                return attempts
            if not jobs or len(in_flight) >= limit:
                done, in_flight = await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()

    def _claim(self, limit: int) -> list[Job]:
        now = self.clock.now()
        with self.sessions.begin() as session:
            channels = {c.id: c for c in session.scalars(select(Channel))}
            rates = {cid: self.rates_for(c) for cid, c in channels.items()}
            ids = claim_due(
                session,
                self.settings.worker,
                now,
                self.settings.lease,
                limit,
                capacity=lambda cid: self.pacer.available(rates.get(cid, [])),
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
            zones = {o.id: zone(o.timezone) for o in session.scalars(select(Organization))}
            jobs = []
            for publication in publications:
                channel = channels[publication.channel_id]
                try:
                    outgoing = compose(
                        publication, zones[channel.organization_id], self.settings.media
                    )
                except (ValueError, OSError) as exc:
                    self._fail(session, publication, f"cannot prepare the content: {exc}")
                    continue
                jobs.append(Job(publication.id, channel, outgoing, rates[channel.id]))
                self.pacer.reserve(rates[channel.id])
            session.flush()
            session.expunge_all()  # the jobs' channels travel outside this session
            return jobs

    async def _run(self, job: Job) -> None:
        attempt_id = self._begin(job)
        if attempt_id is None:
            return
        try:
            adapter = self.channels(job.channel)

            async def checkpoint(progress: Mapping[str, Any]) -> None:
                self._save_progress(job.publication_id, progress)

            published = await adapter.publish(job.outgoing, checkpoint)
        except ChannelError as err:
            self._record_failure(job, attempt_id, err)
        except Exception as exc:
            # A bug of ours, possibly after the request went out: treat it as unknown.
            log.exception("publishing %s crashed", job.publication_id)
            unknown = OutcomeUnknown(f"internal error ({exc.__class__.__name__})")
            self._record_failure(job, attempt_id, unknown)
        else:
            self._record_sent(job, attempt_id, published)

    def _begin(self, job: Job) -> int | None:
        """Commit the attempt (state SENDING) before any request; None if the lease was lost."""
        now = self.clock.now()
        with self.sessions.begin() as session:
            publication = session.get(
                Publication, job.publication_id, with_for_update={"of": Publication}
            )
            if (
                publication is None
                or publication.claimed_by != self.settings.worker
                or publication.state not in CLAIMABLE
            ):
                return None
            publication.state = transition(publication.state, PublicationState.SENDING)
            publication.attempts += 1
            publication.lease_until = now + self.settings.lease
            attempt = Attempt(
                publication_id=publication.id,
                number=publication.attempts,
                worker=self.settings.worker,
                started_at=now,
            )
            session.add(attempt)
            session.flush()
            return attempt.id

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
