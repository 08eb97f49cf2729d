"""When things run: APScheduler wakes the engine at the next due publication and runs the
periodic jobs. The database stays the source of truth: no APScheduler job per post."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass, is_dataclass
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from content.storage.wal_checkpoints import BackgroundCheckpoints, applies
from scheduler.claims import next_due
from scheduler.engine import Engine
from scheduler.locks import exclusive
from scheduler.recovery import expire_leases, mark_missed

log = logging.getLogger(__name__)

WAKE_JOB = "afisha-wake"
# Publications due within this many seconds of the end of a round are published in that round.
INLINE_SECONDS = 0.25
REARM_DELAY = timedelta(milliseconds=20)
ROUND_MAX = 30.0


@dataclass(frozen=True)
class PeriodicJob:
    """A job run every `seconds`; the composition root lists them all (`afisha.jobs`)."""

    name: str
    run: Callable[[], Awaitable[object]]
    seconds: float
    exclusive: bool = True  # on one worker at a time
    report: str = ""  # its entry in run_once's report (default: its name)
    # What to stop when the worker stops (work the job left running: preparations, say).
    close: Callable[[], Awaitable[None]] | None = None


class Worker:
    """Drives an Engine: a wake-up at the next due time, a safety sweep, periodic jobs."""

    def __init__(
        self,
        engine: Engine,
        sweep_seconds: float = 15.0,
        periodic: list[PeriodicJob] | None = None,
    ) -> None:
        self.engine = engine
        self.sweep_seconds = sweep_seconds
        self.periodic = periodic or []
        self.scheduler = AsyncIOScheduler(
            timezone=UTC,
            # Late is better than never: a wake-up is never skipped as a misfire.
            job_defaults={"misfire_grace_time": None, "coalesce": True, "max_instances": 1},
        )
        self._round_lock = asyncio.Lock()
        # On SQLite, checkpoints of the write-ahead log would otherwise block the event loop.
        database = engine.database
        self.checkpoints = BackgroundCheckpoints(database) if applies(database) else None
        self._stopping = False
        self._changed_during_round = False

    async def publish_round(self) -> int:
        """Recover, publish what is due, and re-arm the wake-up for the next due publication."""
        if self._stopping:
            return 0
        async with self._round_lock:
            engine = self.engine
            now = engine.clock.now()
            with engine.sessions.begin() as session:
                expire_leases(session, now)
                mark_missed(session, now, engine.settings.grace)
            self._changed_during_round = False
            attempts = 0
            began = asyncio.get_running_loop().time()
            ahead = engine.settings.lookahead
            while True:
                made = await engine.publish_due(ahead.total_seconds(), for_seconds=ROUND_MAX)
                attempts += made
                upcoming = self._next_wake()
                if upcoming is None or made == 0 or self._changed_during_round or self._stopping:
                    break
                wait = (upcoming - engine.clock.now()).total_seconds()
                if wait > INLINE_SECONDS or asyncio.get_running_loop().time() - began > ROUND_MAX:
                    break  # (a long round ends so that recovery runs between rounds)
                # The next publication is (nearly) due already: publish it in this round. A
                # wake-up armed for now would fire while this round still runs, and
                # APScheduler skips a job whose previous run has not returned.
                await asyncio.sleep(max(0.0, wait))
            if self._changed_during_round:
                upcoming = datetime.now(UTC)  # something was queued meanwhile: look again now
            self.arm(upcoming)
            return attempts

    def _next_wake(self) -> datetime | None:
        """When to look again: the lookahead before the next due publication (to claim it
        ahead and send it at its time), or when a channel waiting for its rate limit may
        send."""
        engine = self.engine
        with engine.sessions() as session:
            upcoming = next_due(session, excluding=engine.throttled)
        if upcoming is not None:
            upcoming -= engine.settings.lookahead
        if engine.throttled:
            # Due work waits for its rate limit: wake when the first channel may send again,
            # not at its (past) due time, which would spin on claims that take nothing.
            ready = min(engine.throttled.values())
            upcoming = ready if upcoming is None else min(upcoming, ready)
        return upcoming

    def arm(self, when: datetime | None) -> None:
        """Wake at `when` (now if past); the sweep covers changes made by other processes."""
        if self._stopping or not self.scheduler.running:
            return
        if when is None:
            job = self.scheduler.get_job(WAKE_JOB)
            if job is not None:
                job.remove()
            return
        self.scheduler.add_job(
            self.publish_round,
            "date",
            # Never "now" exactly: armed from inside a round, the wake-up must fire after the
            # round returns, or APScheduler skips it (max_instances=1).
            run_date=max(when, datetime.now(UTC) + REARM_DELAY),
            id=WAKE_JOB,
            replace_existing=True,
        )

    def queue_changed(self) -> None:
        """Something was queued or settled in this process: look again now (or right after
        the round in progress, which would otherwise re-arm for the old next due time)."""
        if self._round_lock.locked():
            self._changed_during_round = True
        else:
            self.arm(datetime.now(UTC))

    def _periodic(self, job: PeriodicJob) -> Callable[[], Awaitable[None]]:
        async def run() -> None:
            if self._stopping:
                return
            if job.exclusive:
                async with exclusive(self.engine.database, job.name) as mine:
                    if mine:
                        await job.run()
            else:
                await job.run()

        return run

    def add_periodic(self, job: PeriodicJob) -> None:
        """Run `job` every `job.seconds` from now on (also after start)."""
        self.scheduler.add_job(
            self._periodic(job),
            "interval",
            seconds=job.seconds,
            id=f"afisha-{job.name}",
            next_run_time=datetime.now(UTC) + timedelta(seconds=1),
            replace_existing=True,
        )

    def start(self) -> None:
        # What the process has built so far (modules, mappings, clients) lives as long as it
        # does: out of the collector's way, a full collection takes a millisecond or two, not
        # the ~70 ms during which no post due then could go out (bench/PROFILING.md). Garbage
        # is collected first, so that none of it is kept for good.
        gc.collect()
        gc.freeze()
        if self.checkpoints is not None:
            self.checkpoints.start()
        self.scheduler.start()
        now = datetime.now(UTC)
        self.scheduler.add_job(
            self.publish_round,
            "interval",
            seconds=self.sweep_seconds,
            id="afisha-sweep",
            next_run_time=now,
        )
        for job in self.periodic:
            self.add_periodic(job)

    async def stop(self, grace_seconds: float = 30.0) -> None:
        """Stop waking up; let an in-flight round finish (its attempts complete or stay
        reconcilable)."""
        self._stopping = True
        self.engine.drain()
        self.scheduler.shutdown(wait=False)
        try:
            await asyncio.wait_for(self._round_lock.acquire(), grace_seconds)
        except TimeoutError:
            log.warning("stopping with a publishing round still running; it will be reconciled")
        else:
            self._round_lock.release()
        for job in self.periodic:
            if job.close is not None:
                await job.close()
        if self.checkpoints is not None:
            self.checkpoints.stop()


async def run_once(engine: Engine, jobs: list[PeriodicJob] | None = None) -> dict[str, object]:
    """One pass of everything due, then each of `jobs` once (for `afisha worker --once` and
    cron-style deployments)."""
    now = engine.clock.now()
    with engine.sessions.begin() as session:
        crashed = expire_leases(session, now)
        missed = mark_missed(session, now, engine.settings.grace)
    report: dict[str, object] = {"crashed": crashed, "missed": missed}
    report["attempts"] = await engine.publish_due()
    for job in jobs or []:
        result = await job.run()
        # Reports are printed as JSON: a job's dataclass result becomes a plain dict.
        report[job.report or job.name] = (
            asdict(result) if is_dataclass(result) and not isinstance(result, type) else result
        )
    for job in jobs or []:
        if job.close is not None:  # what was made so far is saved; the next run goes on
            await job.close()
    return report
