"""The naive design, for comparison: one APScheduler 3 job per post in its SQLAlchemyJobStore.

`python -m bench.baseline --db-url ... --count N ...` queues N date jobs that each send one
Telegram message with python-telegram-bot (the same Bot set-up Afisha's channels use), all due
at the same moment, then watches what APScheduler does with them. Variants:

- `default`: APScheduler's defaults (misfire_grace_time=1 s), as a naive design would run;
- `capped`: the tuned version: misfire_grace_time=None and a semaphore of 50 around the send,
  so the burst neither misfires nor floods the HTTP pool.

Prints one JSON line: queueing time, and how many jobs ran, were skipped as misfires, failed.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobEvent
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import create_engine
from telegram import Bot

from channels.telegram import TelegramBots, TelegramChannel

BOT: Bot | None = None
GATE: asyncio.Semaphore | None = None


async def send_post(chat_id: int, text: str) -> None:
    """The job: send one message (through the gate when the variant has one)."""
    assert BOT is not None
    if GATE is None:
        await BOT.send_message(chat_id, text)
        return
    async with GATE:
        await BOT.send_message(chat_id, text)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    chats = [int(c) for c in args.chats.split(",")]
    channel = TelegramChannel(args.token, args.api_url, chats[0], bots=TelegramBots())
    # Jobs name "bench.baseline:send_post": set the globals of that module, not of __main__.
    jobs: Any = importlib.import_module("bench.baseline")
    jobs.BOT = channel.bot
    jobs.GATE = asyncio.Semaphore(50) if args.variant == "capped" else None
    defaults = {"misfire_grace_time": None} if args.variant == "capped" else {}
    database = create_engine(args.db_url)
    scheduler = AsyncIOScheduler(
        jobstores={"default": SQLAlchemyJobStore(engine=database)},
        timezone=UTC,
        job_defaults=defaults,
    )
    counts = {"executed": 0, "missed": 0, "errors": 0}
    done = asyncio.Event()

    def listen(event: JobEvent) -> None:
        key = {EVENT_JOB_EXECUTED: "executed", EVENT_JOB_MISSED: "missed"}.get(event.code, "errors")
        counts[key] += 1
        if sum(counts.values()) >= args.count:
            done.set()

    scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED | EVENT_JOB_ERROR)
    scheduler.start()
    # Calibrate: the due time must fall after queueing ends, however slow the store is.
    far = datetime.now(UTC) + timedelta(days=1)
    started = time.perf_counter()
    for i in range(50):
        scheduler.add_job(
            "bench.baseline:send_post", "date", run_date=far, args=[chats[0], "x"], id=f"c{i}"
        )
    per_job = (time.perf_counter() - started) / 50
    for i in range(50):
        scheduler.remove_job(f"c{i}")
    due = datetime.now(UTC) + timedelta(seconds=per_job * args.count * 1.6 + 3)
    started = time.perf_counter()
    for i in range(args.count):
        scheduler.add_job(
            "bench.baseline:send_post",
            "date",
            run_date=due,
            args=[chats[i % len(chats)], f"{args.label} {i}"],
            id=f"{args.label}-{i}",
        )
    queue_seconds = time.perf_counter() - started
    overran = datetime.now(UTC) > due
    wait = (due - datetime.now(UTC)).total_seconds() + args.observe
    try:
        await asyncio.wait_for(done.wait(), max(1.0, wait))
    except TimeoutError:
        pass
    scheduler.shutdown(wait=False)
    await channel.close()
    database.dispose()
    return {
        "variant": args.variant,
        "jobs": args.count,
        "queue_seconds": round(queue_seconds, 2),
        "queue_overran_due_time": overran,
        "due": due.timestamp(),
        **counts,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description="One APScheduler job per post, for comparison.")
    parser.add_argument("--db-url", required=True)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--chats", required=True)
    parser.add_argument("--count", type=int, default=20_000)
    parser.add_argument("--variant", choices=("default", "capped"), default="default")
    parser.add_argument("--observe", type=float, default=90.0)
    parser.add_argument("--label", default="apsched")
    args = parser.parse_args()
    sys.stdout.write(json.dumps(asyncio.run(run(args))) + "\n")


if __name__ == "__main__":
    main()
