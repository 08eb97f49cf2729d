"""A publishing worker for benchmarks: `afisha worker` with pacing switchable and a name given.

It runs the product's pieces unchanged (build_engine, Worker, WorkerLock) as `afisha.runtime.serve`
does; the only differences are `--no-pacing`, for scenarios that measure the engine with the
platforms' limits off (Afisha's own pacer would otherwise hold Telegram to 30 sends a second),
and `--name`, so results can say which worker sent what.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal

from afisha.config import load_settings
from afisha.jobs import engine_jobs
from afisha.runtime import build_engine
from afisha.wiring import open_afisha
from scheduler.engine import DEFAULT_CONCURRENCY
from scheduler.locks import WorkerLock
from scheduler.timing import Worker

log = logging.getLogger("bench.worker")


async def run(name: str, pacing: bool, concurrency: int) -> None:
    settings = load_settings()
    afisha = open_afisha(settings)
    lock = WorkerLock(settings.database_url)
    lock.acquire()
    parts = build_engine(afisha, worker=name, pacing=pacing, concurrency=concurrency)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(signum, stop.set)
    worker = Worker(parts.engine, periodic=engine_jobs(parts.engine))
    try:
        worker.start()
        log.info("worker %s started", name)
        await stop.wait()
        await worker.stop()
    finally:
        await parts.factory.close()
        lock.release()
        afisha.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="An Afisha publishing worker for benchmarks.")
    parser.add_argument("--name", default="bench-worker")
    parser.add_argument("--pacing", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--concurrency", type=int, default=DEFAULT_CONCURRENCY)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    asyncio.run(run(args.name, args.pacing, args.concurrency))


if __name__ == "__main__":
    main()
