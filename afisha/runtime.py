"""Long-running processes: the engine (`afisha worker`) and everything (`afisha run`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from afisha.channel_factory import ChannelFactory
from afisha.jobs import worker_jobs
from afisha.wiring import Afisha
from content.errors import ConfigurationError
from scheduler.clock import Clock, SystemClock
from scheduler.compose import MediaLocation
from scheduler.engine import DEFAULT_CONCURRENCY, Engine, EngineSettings
from scheduler.locks import WorkerLock
from scheduler.pacing_pg import make_pacer
from scheduler.timing import PeriodicJob, Worker, run_once

log = logging.getLogger(__name__)


async def _guarded(service: Service, stop: asyncio.Event, worker: Worker) -> None:
    """A service that fails (the bot losing its network, say) must not stop publishing; one
    that refuses to run as configured (a second poller for one bot) stops the process, which
    exits with its message."""
    try:
        await service(stop, worker)
    except ConfigurationError:
        stop.set()
        raise
    except Exception:
        log.exception("service %s stopped with an error", getattr(service, "__name__", service))


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class EngineParts:
    engine: Engine
    factory: ChannelFactory


def build_engine(
    afisha: Afisha,
    *,
    clock: Clock | None = None,
    worker: str | None = None,
    pacing: bool = True,
    concurrency: int = DEFAULT_CONCURRENCY,
) -> EngineParts:
    settings = afisha.settings
    clock = clock or SystemClock()
    factory = ChannelFactory(settings, afisha.cipher, afisha.sessions)
    engine = Engine(
        afisha.sessions,
        factory,
        clock,
        EngineSettings(
            worker=worker or worker_name(),
            media=MediaLocation(settings.media_path, settings.public_media_url),
            grace=timedelta(minutes=settings.grace_minutes),
            concurrency=concurrency,
        ),
        make_pacer(afisha.engine, clock, enabled=pacing),
        factory.rates,
    )
    return EngineParts(engine, factory)


Service = Callable[[asyncio.Event, Worker], Coroutine[Any, Any, None]]


async def serve(
    afisha: Afisha,
    *,
    once: bool = False,
    extra_jobs: list[PeriodicJob] | None = None,
    services: list[Service] | None = None,
    stop: asyncio.Event | None = None,
) -> dict[str, object] | None:
    """Run the engine until SIGTERM/SIGINT (or `stop`), or one pass with `once`."""
    lock = WorkerLock(afisha.settings.database_url)
    lock.acquire()
    parts = build_engine(afisha)
    jobs = [*worker_jobs(afisha, parts), *(extra_jobs or [])]
    try:
        if once:
            return await run_once(parts.engine, jobs)
        stop = stop or asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(signum, stop.set)
        worker = Worker(parts.engine, periodic=jobs)
        worker.start()
        tasks = [asyncio.create_task(_guarded(service, stop, worker)) for service in services or []]
        log.info("worker %s started", parts.engine.settings.worker)
        await stop.wait()
        log.info("stopping: finishing in-flight publications")
        await worker.stop()
        refusals: list[ConfigurationError] = []
        for task in tasks:
            try:
                await task
            except asyncio.CancelledError:
                pass
            except ConfigurationError as refusal:
                refusals.append(refusal)
        if refusals:
            raise refusals[0]
        return None
    finally:
        await parts.factory.close()
        lock.release()
