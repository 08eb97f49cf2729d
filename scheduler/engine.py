"""The publishing engine: claim due publications, call their channels, record what happened.

Every external call is wrapped by persisted state: the attempt is committed (state SENDING)
before the request, and the outcome after it. A crash in between leaves a SENDING row whose
lease expires and which recovery turns into UNCONFIRMED — reconciled, never blindly resent.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection
from sqlalchemy import Engine as SqlEngine
from sqlalchemy.orm import Session, sessionmaker

from channels.base import Channel as ChannelAdapter
from channels.base import ChannelError, OutcomeUnknown, Published
from content.storage.models import Channel
from scheduler.claimed_rows import claimed_from
from scheduler.claiming import Claimer, RatesFor
from scheduler.claims import claim_due
from scheduler.clock import Clock
from scheduler.compose import MediaLocation
from scheduler.datastore import SqlWriter, Writer, save_progress, unclaim
from scheduler.jobs import Job, due_count, gap, seconds_to_send
from scheduler.limits import Pacer
from scheduler.outcomes import record_failure, record_sent
from scheduler.policy import RetryPolicy
from scheduler.store import JobStore, Sent

log = logging.getLogger(__name__)

ChannelFactory = Callable[[Channel], ChannelAdapter]
# Outcomes are recorded together, but never more than this many seconds after they came back.
RECORD_WITHIN = 0.25
# A claimed job waits this long at most for its rate limit; beyond, it is given back.
HOLD_AT_MOST = timedelta(seconds=2)
# A publication claimed ahead is begun (its attempt committed) this long before it is due, and
# its request waits for the due moment: the commit is then no part of the post's lateness. It
# is well within the pacer's slack (limits.SLACK_SECONDS), so a booking this early is harmless.
BEGIN_AHEAD = timedelta(milliseconds=20)

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
        self.claimer = Claimer(settings.worker, settings.media, pacer, rates_for)
        self._draining = False
        self._drained = asyncio.Event()  # set by drain(): a wait in publish_due ends at once
        # Publications whose progress was saved during their send (recorded one by one).
        self._checkpointed: set[int] = set()
        self._sending = asyncio.Semaphore(settings.concurrency)  # requests under way at once
        self.store = JobStore(self.database, settings.worker, settings.lease)
        self._offload = self.store.offload  # the database work off the event loop
        # The recent claims' and records' durations.
        self._claim_seconds: deque[float] = deque(maxlen=8)
        self._record_seconds: deque[float] = deque(maxlen=8)

    @property
    def throttled(self) -> dict[int, datetime]:
        """Channels the last claim passed over for want of capacity -> when they have some
        again."""
        return self.claimer.throttled

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
        the database round trips do not grow with each send; on SQLite, whose work blocks the
        event loop, work that can wait is done in the gaps between due moments; on PostgreSQL
        it runs off the loop (scheduler.store). Every attempt is still committed as SENDING
        before its request goes out.
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
        # Off the event loop, a batch is begun while the slots it will take are still busy,
        # so that no slot waits for a commit: its sends wait for slots instead.
        slots = limit + refill if self._offload else limit
        self._sending = asyncio.Semaphore(limit)
        claim_at = started  # when to look in the queue again (inf: not in this call)
        self.throttled.clear()
        self._draining = False
        self._drained.clear()
        try:
            while True:
                # Begin what is due (or just about) once a batch of slots is free (right away,
                # unless a burst keeps the slots nearly full).
                now = self.clock.now()
                can_begin = slots - len(in_flight) >= refill
                ready = due_count(pending, now + BEGIN_AHEAD, slots - len(in_flight))
                if ready and can_begin:
                    going, held = self._paced(pending[:ready])
                    # Late already (a burst): the outcomes that came back meanwhile are recorded
                    # in the same transaction. Begun ahead: the begin is kept short, since
                    # other jobs begun ahead may fall due while it runs.
                    late = pending[0].due_at <= now
                    carried = finished if late else []
                    attempts += self._start(await self._begin_many(going, carried), in_flight)
                    if late:
                        finished = []
                    pending = self._give_back_held(held) + pending[ready:]
                    now = self.clock.now()
                # Seconds until the event loop must be free: a begin, or a request begun ahead.
                to_begin = self._seconds_to_begin(pending, now) if can_begin else math.inf
                quiet = min(to_begin, seconds_to_send(in_flight.values(), now))
                age = loop.time() - finished_since
                if finished and (
                    len(finished) >= limit
                    or age >= 2 * RECORD_WITHIN
                    # (a begin of late jobs coming soon records them in its own transaction)
                    or (
                        quiet >= gap(self._record_seconds)
                        and (not in_flight or age >= RECORD_WITHIN)
                    )
                ):
                    # Recorded together, but not kept unrecorded behind a slow request.
                    began = time.perf_counter()
                    await self._record_many(finished)
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
                free = slots - len(in_flight)
                if (
                    loop.time() >= claim_at
                    and (free >= refill or not in_flight)
                    and self._may_claim(pending, now, quiet, lookahead)
                ):
                    wanted = self.settings.batch_size
                    began = time.perf_counter()
                    until = now + timedelta(seconds=lookahead)
                    begun, ahead = await self._claim_soon(wanted, until, free)
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
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._drained.wait(), wait or 0.0)
        except BaseException:
            # Claiming failed (the database went away, say) or the task was cancelled: the
            # sends in flight still happen; wait for them and record what can be recorded.
            if in_flight:
                await asyncio.wait(in_flight)
                finished += [(*pair, task.result()) for task, pair in in_flight.items()]
            await self._record_many(finished)
            self._guarded_release(pending)
            raise
        finally:
            self.store.close()
            self._guarded_flush()
            self.pacer.close()

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
        return quiet >= gap(self._claim_seconds) or running_out

    def _paced(self, jobs: list[Job]) -> tuple[list[Job], list[Job]]:
        """Book the sends that the rate limits allow now (shared by every worker on
        PostgreSQL, in one round trip for the batch); returns (those, the others)."""
        going: list[Job] = []
        held: list[Job] = []
        booked = self.pacer.book_batch([job.rates for job in jobs]) if jobs else []
        for job, stamp in zip(jobs, booked, strict=True):
            if stamp is not None:
                going.append(replace(job, booked=stamp))
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
        self._drained.set()

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
        unclaim(connection, self.settings.worker, ids)

    async def _claim_soon(
        self, limit: int, until: datetime, start: int
    ) -> tuple[list[tuple[Job, int]], list[Job]]:
        """_claim; on PostgreSQL without rate limits to share out, in one statement, off the
        event loop, and the jobs due now begun in another."""
        if not self._offload or self.pacer.enabled:
            return self._claim(limit, until, start)
        now = self.clock.now()
        rows = await asyncio.to_thread(self.store.claim_rows, limit, until, now)
        if not rows:
            return [], []
        claimer = self.claimer
        with self.sessions.begin() as session:  # for the rare full compose; no query else
            snapshot = claimer.channels_now(session)
            jobs = claimer.jobs_of(session, snapshot, claimed_from(rows, claimer.channel_rows))
            session.expunge_all()  # the jobs' channels travel outside this session
        first = due_count(jobs, now + BEGIN_AHEAD, start)
        going, held = self._paced(jobs[:first])
        return await self._begin_many(going), held + jobs[first:]

    def _claim(
        self, limit: int, until: datetime | None = None, start: int | None = None
    ) -> tuple[list[tuple[Job, int]], list[Job]]:
        """Claim up to `limit` publications due by `until`; up to `start` of those due now
        (default: all) are begun in the same transaction. Returns (begun jobs with their
        attempt ids, the other jobs, claimed and waiting: in due order)."""
        now = self.clock.now()
        with self.sessions.begin() as session:
            snapshot = self.claimer.channels_now(session)
            ids = claim_due(
                session,
                self.settings.worker,
                now,
                self.settings.lease,
                limit,
                capacity=self.claimer.capacity_of(snapshot.rates) if self.pacer.enabled else None,
                until=until,
                skip=self.claimer.passed_over(snapshot.rates),
            )
            if not ids:
                return [], []
            jobs = self.claimer.compose_claimed(session, snapshot, ids)
            first = due_count(jobs, now + BEGIN_AHEAD, len(jobs) if start is None else start)
            going, held = self._paced(jobs[:first])
            begun, lost = self.store.begin(SqlWriter(session.connection()), going, now)
            self._lost(lost)
            session.flush()
            session.expunge_all()  # the jobs' channels travel outside this session
            return begun, held + jobs[first:]

    async def _send(self, job: Job) -> Published | ChannelError:
        """The request itself, and nothing else: what happened, as a value."""
        try:
            early = (job.due_at - self.clock.now()).total_seconds()
            if early > 0:  # begun ahead (BEGIN_AHEAD): the request goes at the due moment
                await asyncio.sleep(early)
            adapter = self.channels(job.channel)
            outgoing = job.outgoing
            if job.progress:  # what was prepared ahead (scheduler.prepare) goes along
                outgoing = replace(outgoing, progress=job.progress)

            async def checkpoint(progress: Mapping[str, Any]) -> None:
                self._save_progress(job.publication_id, progress)

            async with self._sending:
                return await adapter.publish(outgoing, checkpoint)
        except ChannelError as err:
            return err
        except Exception as exc:
            # A bug of ours, possibly after the request went out: treat it as unknown.
            log.exception("publishing %s crashed", job.publication_id)
            return OutcomeUnknown(f"internal error ({exc.__class__.__name__})")
        finally:
            self.pacer.done(job.rates, job.booked)

    async def _begin_many(
        self, jobs: list[Job], finished: Sequence[tuple[Job, int, Published | ChannelError]] = ()
    ) -> list[tuple[Job, int]]:
        """Commit the attempts of `jobs` (state SENDING) before any of their requests, recording
        the sends in `finished` in the same round of writes (SQLite: one transaction; PostgreSQL:
        one statement each, off the event loop); failures are recorded each on its own.
        Returns each job still ours with its attempt."""
        sent = [(j, a, o) for j, a, o in finished if isinstance(o, Published)]
        begun: list[tuple[Job, int]] | None = []
        if jobs or sent:
            try:
                if self._offload:
                    # psycopg waits for the server without the GIL: the sends go on meanwhile.
                    rest, begun, lost = await asyncio.to_thread(self._write, jobs, sent)
                else:
                    rest, begun, lost = self._write(jobs, sent)
                self._lost(lost)
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
        return await self._begin_many(jobs) if begun is None else begun

    def _write(
        self, jobs: list[Job], sent: list[tuple[Job, int, Published]]
    ) -> tuple[list[tuple[Job, int, Published]], list[tuple[Job, int]], list[Job]]:
        """The bulk writes of _begin_many (in a thread of their own on PostgreSQL): returns
        (sends left to record one by one, jobs begun with their attempts, jobs lost)."""
        with self.store.writer() as writer:
            rest = self._record_sent_many(writer, sent) if sent else []
            begun, lost = self.store.begin(writer, jobs, self.clock.now())
        return rest, begun, lost

    def _lost(self, jobs: list[Job]) -> None:
        """Jobs whose begin found their publication changed: their sends are not made."""
        for job in jobs:
            self.pacer.done(job.rates, job.booked)

    async def _record_many(self, finished: list[tuple[Job, int, Published | ChannelError]]) -> None:
        """Record outcomes: the sent ones together, each failure on its own; and tell the
        other workers which sends were answered (their slots free again)."""
        await self._begin_many([], finished)
        self._guarded_flush()

    def _guarded_flush(self) -> None:
        try:
            self.pacer.flush()
        except Exception:
            # Unanswered in the shared windows, the slots come free after limits.FLIGHT_MAX.
            log.exception("telling the other workers which sends were answered failed")

    def _guarded(self, record: Callable[..., None], job: Job, *args: Any) -> None:
        try:
            record(job, *args)
        except Exception:
            # The row stays SENDING; its lease expires and recovery makes it UNCONFIRMED.
            log.exception("recording the outcome of publication %s failed", job.publication_id)

    def _record_sent_many(self, writer: Writer, sent: list[Sent]) -> list[Sent]:
        """StoreJobs.record_sent, from the engine's clock."""
        return self.store.record_sent(writer, sent, self._checkpointed, self.clock.now())

    def _save_progress(self, publication_id: int, progress: Mapping[str, Any]) -> None:
        self._checkpointed.add(publication_id)
        with self.sessions.begin() as session:
            save_progress(session, publication_id, progress)

    def _record_sent(self, job: Job, attempt_id: int, published: Published) -> None:
        with self.sessions.begin() as session:
            record_sent(session, job.publication_id, attempt_id, published, self.clock.now())

    def _record_failure(self, job: Job, attempt_id: int, err: ChannelError) -> None:
        with self.sessions.begin() as session:
            record_failure(
                session,
                job.publication_id,
                attempt_id,
                err,
                self.clock.now(),
                self.settings.retry,
                self.rng,
                lambda seconds: self.pacer.block(job.rates, seconds),
            )
