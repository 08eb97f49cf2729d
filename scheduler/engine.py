"""The publishing engine: claim due publications, call their channels, record what happened.

Every external call is wrapped by persisted state: the attempt is committed (state SENDING)
before the request, and the outcome after it. A crash in between leaves a SENDING row whose
lease expires and which recovery turns into UNCONFIRMED — reconciled, never blindly resent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import random
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, cast
from zoneinfo import ZoneInfo

from sqlalchemy import (
    JSON,
    Connection,
    Integer,
    String,
    Table,
    Text,
    bindparam,
    case,
    column,
    exists,
    func,
    insert,
    select,
    tuple_,
    type_coerce,
    update,
)
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session, lazyload, selectinload, sessionmaker

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
from content.domain.states import ChannelStatus, PostStatus, PublicationState, transition
from content.queueing.settle import finish_post
from content.storage.models import Attempt, Channel, Event, Post, PostMedia, Publication
from content.storage.notices import NoticeKind, add_notice
from content.storage.store import organization_zones
from scheduler.claimed_rows import ChannelRows, read_claimed
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
RECORD_WITHIN = 0.25
# A claimed job waits this long at most for its rate limit; beyond, it is given back.
HOLD_AT_MOST = timedelta(seconds=2)
# Channels' pacing keys and zones are read again after this many seconds.
SNAPSHOT_SECONDS = 5.0
# A publication claimed ahead is begun (its attempt committed) this long before it is due, and
# its request waits for the due moment: the commit is then no part of the post's lateness. It
# is well within the pacer's slack (limits.SLACK_SECONDS), so a booking this early is harmless.
BEGIN_AHEAD = timedelta(milliseconds=20)
# Database work that can wait (a claim ahead, a record) waits for a gap before the event loop
# is needed (a begin, a request begun ahead) of at least this many times the longest of its
# recent durations, within bounds: it blocks the event loop while it runs.
GAP_FACTOR = 1.5
GAP_BOUNDS = (0.005, 0.1)
# The tables themselves, for the bulk statements of the hot path.
PUBLICATIONS = cast(Table, Publication.__table__)
ATTEMPTS = cast(Table, Attempt.__table__)
POSTS = cast(Table, Post.__table__)


# Sends in flight at once. The database work is done for half of them at a time, so more in
# flight means fewer transactions per send; since channels.telegram_pools keeps httpx's pools
# small, more in flight no longer costs the HTTP client more per request (measured against
# the sandbox: 50 moved more posts a second than 20 or 100, bench/PROFILING.md).
DEFAULT_CONCURRENCY = 50


@dataclass(frozen=True)
class EngineSettings:
    worker: str
    media: MediaLocation
    lease: timedelta = timedelta(minutes=2)
    batch_size: int = 100
    concurrency: int = DEFAULT_CONCURRENCY
    grace: timedelta = timedelta(minutes=15)
    # A running worker claims what falls due within this long ahead and sends it at its time.
    lookahead: timedelta = timedelta(seconds=1)
    retry: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(frozen=True)
class _Snapshot:
    """What claiming needs of every channel, read again every SNAPSHOT_SECONDS."""

    rates: dict[int, list[Rate]]
    zones: dict[int, ZoneInfo]


@dataclass(frozen=True)
class Job:
    """A claimed publication, composed and ready to send."""

    publication_id: int
    channel: Channel
    outgoing: Outgoing
    rates: list[Rate]
    due_at: datetime
    post_id: int | None = None
    progress: Mapping[str, Any] | None = None  # as claimed (a send may add to it)
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
        self._snapshot_expires = 0.0
        self._draining = False
        # Publications whose progress was saved during their send (recorded one by one).
        self._checkpointed: set[int] = set()
        self._channel_rows = ChannelRows()
        # The recent claims' and records' durations.
        self._claim_seconds: deque[float] = deque(maxlen=8)
        self._record_seconds: deque[float] = deque(maxlen=8)

    @property
    def database(self) -> SqlEngine:
        bind = self.sessions.kw["bind"]
        assert isinstance(bind, SqlEngine)
        return bind

    # --- publishing ------------------------------------------------------------------------------

    async def publish_due(self, lookahead: float = 0.0, for_seconds: float | None = None) -> int:
        """Publish everything due now; returns how many attempts were made.

        With `lookahead`, publications falling due within that many seconds are claimed ahead
        (leased, composed), begun just before their time (BEGIN_AHEAD) and sent at it, so a post
        goes out the moment it is due rather than after a claim and a commit; the call then goes
        on while there is something to send, claiming for at most `for_seconds`. Claims and
        begins are made for several publications at a time and outcomes recorded together, so
        the database round trips (which block the event loop) do not grow with each send; work
        that can wait is done in the gaps between due moments. Every attempt is still committed
        as SENDING before its request goes out.
        """
        loop = asyncio.get_running_loop()
        started = loop.time()
        in_flight: dict[asyncio.Task[Published | ChannelError], tuple[Job, int]] = {}
        finished: list[tuple[Job, int, Published | ChannelError]] = []
        finished_since = 0.0  # when the oldest unrecorded outcome came back
        pending: list[Job] = []  # claimed ahead, in due order, to begin at their due time
        attempts = 0
        limit = self.settings.concurrency
        # Claim when half the slots are free, not on every single completion, and record the
        # outcomes that came back meanwhile in one transaction.
        refill = max(1, min(self.settings.batch_size, limit // 2))
        claim_at = started  # when to look in the queue again (inf: not in this call)
        self.throttled = {}
        self._draining = False
        try:
            while True:
                # Begin what is due (or just about) once a batch of slots is free (right away,
                # unless a burst keeps the slots nearly full).
                now = self.clock.now()
                can_begin = limit - len(in_flight) >= refill
                ready = _due_count(pending, now + BEGIN_AHEAD, limit - len(in_flight))
                if ready and can_begin:
                    going, held = self._paced(pending[:ready])
                    # Late already (a burst): the outcomes that came back meanwhile are recorded
                    # in the same transaction. Begun ahead: the begin is kept short, since
                    # other jobs begun ahead may fall due while it runs.
                    late = pending[0].due_at <= now
                    carried = finished if late else []
                    attempts += self._start(self._begin_many(going, carried), in_flight)
                    if late:
                        finished = []
                    pending = self._give_back_held(held) + pending[ready:]
                    now = self.clock.now()
                # Seconds until the event loop must be free: a begin, or a request begun ahead.
                to_begin = self._seconds_to_begin(pending, now) if can_begin else math.inf
                quiet = min(to_begin, _seconds_to_send(in_flight.values(), now))
                age = loop.time() - finished_since
                if finished and (
                    len(finished) >= limit
                    or age >= 2 * RECORD_WITHIN
                    # (a begin of late jobs coming soon records them in its own transaction)
                    or (
                        quiet >= _gap(self._record_seconds)
                        and (not in_flight or age >= RECORD_WITHIN)
                    )
                ):
                    # Recorded together, but not kept unrecorded behind a slow request.
                    began = time.perf_counter()
                    self._record_many(finished)
                    self._record_seconds.append(time.perf_counter() - began)
                    finished = []
                if self._draining:
                    claim_at = math.inf
                    pending = self._release(pending)
                elif for_seconds is not None and loop.time() - started > for_seconds:
                    claim_at = math.inf  # what was claimed ahead still goes at its time
                # Claim a whole batch once half the slots wait, and nothing claimed waits for a
                # slot: what does not fit now waits, claimed, for the next free slots. While
                # what was claimed is all still ahead, claim more in a gap between begins.
                free = limit - len(in_flight)
                if (
                    loop.time() >= claim_at
                    and (free >= refill or not in_flight)
                    and self._may_claim(pending, now, quiet, lookahead)
                ):
                    wanted = self.settings.batch_size
                    began = time.perf_counter()
                    begun, ahead = self._claim(wanted, now + timedelta(seconds=lookahead), free)
                    self._claim_seconds.append(time.perf_counter() - began)
                    attempts += self._start(begun, in_flight)
                    pending = sorted(pending + ahead, key=lambda job: job.due_at)
                    if not (begun or ahead or in_flight or pending):
                        claim_at = math.inf  # nothing at all within the horizon: done
                    elif len(begun) + len(ahead) < wanted:
                        # Nothing more is due within the horizon now: look again when it has
                        # moved on by half (or, without a horizon, not in this call).
                        claim_at = loop.time() + lookahead / 2 if lookahead else math.inf
                    continue
                if not in_flight and not pending and claim_at == math.inf:
                    return attempts
                waits = []
                if loop.time() < claim_at < math.inf:
                    waits.append(claim_at - loop.time())
                if pending and can_begin:
                    waits.append(to_begin)
                if finished:
                    due = RECORD_WITHIN if age < RECORD_WITHIN else 2 * RECORD_WITHIN
                    waits.append(finished_since + due - loop.time())
                wait = max(0.0, min(waits)) if waits else None
                if in_flight:
                    done, _ = await asyncio.wait(
                        in_flight, timeout=wait, return_when=asyncio.FIRST_COMPLETED
                    )
                    if done and not finished:
                        finished_since = loop.time()
                    finished += [(*in_flight.pop(task), task.result()) for task in done]
                else:
                    await asyncio.sleep(wait or 0.0)
        except BaseException:
            # Claiming failed (the database went away, say) or the task was cancelled: the
            # sends in flight still happen; wait for them and record what can be recorded.
            if in_flight:
                await asyncio.wait(in_flight)
                finished += [(*pair, task.result()) for task, pair in in_flight.items()]
            self._record_many(finished)
            self._guarded_release(pending)
            raise

    def _seconds_to_begin(self, pending: list[Job], now: datetime) -> float:
        """Seconds until the first waiting job is to be begun (inf: none waits)."""
        if not pending:
            return math.inf
        return (self._next_begin(pending) - now).total_seconds()

    def _may_claim(self, pending: list[Job], now: datetime, quiet: float, lookahead: float) -> bool:
        """Whether to claim now, given the claimed jobs that wait. None: yes. Some due already
        (a burst waits for slots): no. All still ahead: when there is room for more and a gap
        before the next begin, or what was claimed runs out within a quarter of the horizon."""
        if not pending:
            return True
        if pending[0].due_at <= now + BEGIN_AHEAD or len(pending) >= self.settings.batch_size:
            return False
        running_out = (pending[-1].due_at - now).total_seconds() < lookahead / 4
        return quiet >= _gap(self._claim_seconds) or running_out

    def _paced(self, jobs: list[Job]) -> tuple[list[Job], list[Job]]:
        """Book the sends that the rate limits allow now; returns (those, the others)."""
        going: list[Job] = []
        held: list[Job] = []
        for job in jobs:
            if self.pacer.available(job.rates) > 0:
                going.append(replace(job, booked=self.pacer.book(job.rates)))
            else:
                self.throttled[job.channel.id] = self.pacer.free_at(job.rates)
                held.append(job)
        return going, held

    def _next_begin(self, pending: list[Job]) -> datetime:
        """When the first of the waiting jobs is to be begun: just before its due time, or
        when its rate limit lets it start."""
        return min(
            max(job.due_at - BEGIN_AHEAD, self.pacer.free_at(job.rates)) for job in pending[:100]
        )

    def _give_back_held(self, held: list[Job]) -> list[Job]:
        """Of due jobs waiting for their rate limit, give back those that must wait more than
        a moment (a platform's retry_after, a channel's minute): holding their claim would
        keep the worker from claiming others'. Returns those kept."""
        soon = self.clock.now() + HOLD_AT_MOST
        kept: list[Job] = []
        late: list[Job] = []
        for job in held:
            (kept if self.pacer.free_at(job.rates) <= soon else late).append(job)
        self._release(late)
        return kept

    def drain(self) -> None:
        """Stop claiming: what is in flight finishes, what was claimed ahead is given back."""
        self._draining = True

    def _start(
        self,
        begun: list[tuple[Job, int]],
        in_flight: dict[asyncio.Task[Published | ChannelError], tuple[Job, int]],
    ) -> int:
        for job, attempt_id in begun:
            in_flight[asyncio.create_task(self._send(job))] = (job, attempt_id)
        return len(begun)

    def _release(self, jobs: list[Job]) -> list[Job]:
        """Give back publications claimed ahead and not begun; returns the empty list."""
        if jobs:
            with self.database.begin() as connection:
                self._unclaim(connection, [job.publication_id for job in jobs])
                for job in jobs:
                    self.pacer.done(job.rates, job.booked)
        return []

    def _guarded_release(self, jobs: list[Job]) -> None:
        try:
            self._release(jobs)
        except Exception:
            log.exception(
                "giving back %d claimed publications failed; their leases expire", len(jobs)
            )

    def _unclaim(self, connection: Connection, ids: list[int]) -> None:
        table = PUBLICATIONS
        connection.execute(
            update(table)
            .where(
                table.c.id.in_(ids),
                table.c.claimed_by == self.settings.worker,
                table.c.state.in_(CLAIMABLE),
            )
            .values(claimed_by=None, lease_until=None)
        )

    def _channels_now(self, session: Session) -> _Snapshot:
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

    def _passed_over(self, rates: dict[int, list[Rate]]) -> set[int]:
        """Channels that may not start a send now (their rate limits), noted in `throttled`."""
        if not self.pacer.enabled:
            return set()
        capacity = self._capacity(rates)
        return {channel_id for channel_id in rates if capacity(channel_id) <= 0}

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

    def _claim(
        self, limit: int, until: datetime | None = None, start: int | None = None
    ) -> tuple[list[tuple[Job, int]], list[Job]]:
        """Claim up to `limit` publications due by `until`; up to `start` of those due now
        (default: all) are begun in the same transaction. Returns (begun jobs with their
        attempt ids, the other jobs, claimed and waiting: in due order)."""
        now = self.clock.now()
        with self.sessions.begin() as session:
            snapshot = self._channels_now(session)
            ids = claim_due(
                session,
                self.settings.worker,
                now,
                self.settings.lease,
                limit,
                capacity=self._capacity(snapshot.rates) if self.pacer.enabled else None,
                until=until,
                skip=self._passed_over(snapshot.rates),
            )
            if not ids:
                return [], []
            jobs = self._compose_claimed(session, snapshot, ids)
            first = _due_count(jobs, now + BEGIN_AHEAD, len(jobs) if start is None else start)
            going, held = self._paced(jobs[:first])
            begun = self._begin_in(session.connection(), going, now)
            session.flush()
            session.expunge_all()  # the jobs' channels travel outside this session
            return begun, held + jobs[first:]

    def _compose_claimed(self, session: Session, snapshot: _Snapshot, ids: list[int]) -> list[Job]:
        """The claimed publications as jobs; those that cannot be composed fail, and those a
        shared limit (the bot's) has no room for now are given back. Sends are booked with the
        pacer when they begin, not here: a job claimed ahead goes later, and a booking made
        now could leave the platform's window before the send reaches it."""
        rows = read_claimed(session.connection(), ids, self._channel_rows)
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
            self._unclaim(session.connection(), released)
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
                composed[publication.id] = compose(publication, zone, self.settings.media)
            except (ValueError, OSError) as exc:
                self._fail(session, publication, f"cannot prepare the content: {exc}")
        return composed

    async def _send(self, job: Job) -> Published | ChannelError:
        """The request itself, and nothing else: what happened, as a value."""
        try:
            early = (job.due_at - self.clock.now()).total_seconds()
            if early > 0:  # begun ahead (BEGIN_AHEAD): the request goes at the due moment
                await asyncio.sleep(early)
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

    def _begin_many(
        self, jobs: list[Job], finished: Sequence[tuple[Job, int, Published | ChannelError]] = ()
    ) -> list[tuple[Job, int]]:
        """Commit the attempts of `jobs` (state SENDING) in one transaction, before any of their
        requests, recording the sends in `finished` in the same one (a transaction fewer);
        failures are recorded each on its own. Returns each job still ours with its attempt."""
        sent = [(j, a, o) for j, a, o in finished if isinstance(o, Published)]
        begun: list[tuple[Job, int]] | None = []
        if jobs or sent:
            try:
                # A connection, not a session: Core statements only, made every few sends.
                with self.database.begin() as connection:
                    rest = self._record_sent_many(connection, sent)
                    begun = self._begin_in(connection, jobs, self.clock.now())
            except Exception:
                if not sent:
                    raise
                log.exception("recording %d sends together failed; recording one by one", len(sent))
                rest, begun = sent, None
            for job, attempt_id, published in rest:
                self._guarded(self._record_sent, job, attempt_id, published)
            for job, _, _ in sent:
                self._checkpointed.discard(job.publication_id)
        for job, attempt_id, outcome in finished:
            if isinstance(outcome, ChannelError):
                self._guarded(self._record_failure, job, attempt_id, outcome)
        return self._begin_many(jobs) if begun is None else begun

    def _begin_in(
        self, connection: Connection, jobs: list[Job], now: datetime
    ) -> list[tuple[Job, int]]:
        """Mark `jobs` SENDING and add their attempts in `connection`'s transaction. A job
        whose publication was changed since its claim (cancelled, paused, moved to another
        time, taken back) is dropped, and given back if it is still ours."""
        if not jobs:
            return []
        for state in CLAIMABLE:
            transition(state, PublicationState.SENDING)  # the rule holds; the WHERE enforces it
        table = PUBLICATIONS
        # Matched on the due time too: one moved to another time after it was claimed ahead is
        # not due now after all.
        rows = connection.execute(
            update(table)
            .where(
                tuple_(table.c.id, table.c.due_at).in_(
                    [(job.publication_id, job.due_at) for job in jobs]
                ),
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
        lost = [job for job in jobs if job.publication_id not in numbers]
        for job in lost:
            self.pacer.done(job.rates, job.booked)
        if lost:
            self._unclaim(connection, [job.publication_id for job in lost])
        if not begun:
            return []
        attempt_ids = connection.scalars(
            insert(ATTEMPTS).returning(ATTEMPTS.c.id, sort_by_parameter_order=True),
            [
                {
                    "publication_id": job.publication_id,
                    "number": numbers[job.publication_id],
                    "worker": self.settings.worker,
                    # A job begun ahead starts its request at its due moment.
                    "started_at": max(now, job.due_at),
                }
                for job in begun
            ],
        ).all()
        return list(zip(begun, attempt_ids, strict=True))

    def _record_many(self, finished: list[tuple[Job, int, Published | ChannelError]]) -> None:
        """Record outcomes: the sent ones together, each failure on its own."""
        self._begin_many([], finished)

    def _guarded(self, record: Callable[..., None], job: Job, *args: Any) -> None:
        try:
            record(job, *args)
        except Exception:
            # The row stays SENDING; its lease expires and recovery makes it UNCONFIRMED.
            log.exception("recording the outcome of publication %s failed", job.publication_id)

    def _record_sent_many(
        self, connection: Connection, sent: list[tuple[Job, int, Published]]
    ) -> list[tuple[Job, int, Published]]:
        """mark_sent for many publications in one statement each for the publications, their
        attempts and their posts. Returns those left for mark_sent itself: rows no longer
        SENDING (a person or recovery changed them meanwhile), or whose progress was saved
        during their send."""
        if not sent:
            return []
        now = self.clock.now()
        transition(PublicationState.SENDING, PublicationState.SENT)
        quick = [item for item in sent if item[0].publication_id not in self._checkpointed]
        updated: set[int] = set()
        if quick:
            rows = [
                (
                    job.publication_id,
                    published.remote_id,
                    published.url,
                    _merged(job.progress, published.extra),
                )
                for job, _, published in quick
            ]
            sent_values = {
                "state": PublicationState.SENT,
                "sent_at": now,
                "last_error": None,
                "claimed_by": None,
                "lease_until": None,
                "next_collect_at": now + COLLECT_FIRST,
                "collect_stage": 0,
                "updated_at": now,
            }
            if connection.dialect.name == "postgresql":
                updated = _mark_sent_rows_pg(connection, rows, sent_values)
            else:
                updated = _mark_sent_rows(connection, rows, sent_values)
            done = [attempt_id for job, attempt_id, _ in quick if job.publication_id in updated]
            if done:
                connection.execute(
                    update(ATTEMPTS)
                    .where(ATTEMPTS.c.id.in_(done))
                    .values(finished_at=now, outcome="sent", error=None)
                )
            finish_posts(
                connection,
                {
                    job.post_id
                    for job, _, _ in quick
                    if job.publication_id in updated and job.post_id is not None
                },
            )
        return [item for item in sent if item[0].publication_id not in updated]

    def _save_progress(self, publication_id: int, progress: Mapping[str, Any]) -> None:
        self._checkpointed.add(publication_id)
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


def _mark_sent_rows(
    connection: Connection, rows: list[tuple[int, str, str | None, Any]], values: dict[str, Any]
) -> set[int]:
    """Set SENT (with each row's remote id, URL and progress) on those of the rows still
    SENDING, in one statement; returns their ids."""
    table = PUBLICATIONS

    def each(column: Any, position: int) -> Any:
        return case(
            {row[0]: type_coerce(row[position], column.type) for row in rows},
            value=table.c.id,
            else_=column,
        )

    return set(
        connection.scalars(
            update(table)
            .where(
                table.c.id.in_([row[0] for row in rows]), table.c.state == PublicationState.SENDING
            )
            .values(
                remote_id=each(table.c.remote_id, 1),
                remote_url=each(table.c.remote_url, 2),
                progress=each(table.c.progress, 3),
                **values,
            )
            .returning(table.c.id)
        )
    )


def _mark_sent_rows_pg(
    connection: Connection, rows: list[tuple[int, str, str | None, Any]], values: dict[str, Any]
) -> set[int]:
    """As _mark_sent_rows, with the rows as arrays: one statement of one shape whatever their
    number, which PostgreSQL prepares once (a CASE per row would be parsed and planned anew)."""
    from sqlalchemy.dialects.postgresql import ARRAY  # here: SQLite workers need not load it

    table = PUBLICATIONS
    given = (
        func.unnest(
            bindparam("ids", type_=ARRAY(Integer)),
            bindparam("remote_ids", type_=ARRAY(String)),
            bindparam("urls", type_=ARRAY(String)),
            bindparam("progress", type_=ARRAY(Text)),
        )
        .table_valued(
            column("id", Integer),
            column("remote_id", String),
            column("remote_url", String),
            column("progress", Text),
        )
        .render_derived()
    )
    statement = (
        update(table)
        .where(table.c.id == given.c.id, table.c.state == PublicationState.SENDING)
        .values(
            remote_id=given.c.remote_id,
            remote_url=given.c.remote_url,
            progress=func.coalesce(sql_cast(given.c.progress, JSON), table.c.progress),
            **values,
        )
        .returning(table.c.id)
    )
    return set(
        connection.scalars(
            statement,
            {
                "ids": [row[0] for row in rows],
                "remote_ids": [row[1] for row in rows],
                "urls": [row[2] for row in rows],
                "progress": [None if row[3] is None else json.dumps(row[3]) for row in rows],
            },
        )
    )


def _gap(durations: Sequence[float]) -> float:
    """The quiet time database work of these recent durations waits for (within bounds)."""
    gap = GAP_FACTOR * max(durations, default=0.0)
    return min(max(gap, GAP_BOUNDS[0]), GAP_BOUNDS[1])


def _seconds_to_send(in_flight: Iterable[tuple[Job, int]], now: datetime) -> float:
    """Seconds until the first job begun ahead sends its request (inf: none waits)."""
    waiting = [job.due_at for job, _ in in_flight if job.due_at > now]
    return (min(waiting) - now).total_seconds() if waiting else math.inf


def _due_count(pending: list[Job], now: datetime, room: int) -> int:
    """How many of the first `pending` jobs (in due order) are due at `now`, at most `room`."""
    count = 0
    while count < min(room, len(pending)) and pending[count].due_at <= now:
        count += 1
    return count


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


def finish_posts(connection: Connection, post_ids: set[int]) -> None:
    """Queued posts none of whose publications is left to send are done."""
    if not post_ids:
        return
    transition(PostStatus.QUEUED, PostStatus.DONE)
    posts, publications = POSTS, PUBLICATIONS
    unsent = exists().where(
        publications.c.post_id == posts.c.id,
        publications.c.state.not_in((PublicationState.SENT, PublicationState.CANCELLED)),
    )
    connection.execute(
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
    finish_post(publication.post)


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
