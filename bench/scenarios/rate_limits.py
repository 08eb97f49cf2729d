"""(d) Rate-limit efficiency: Telegram limits on, 600 posts to 10 channels.

The sandbox enforces Telegram's documented limits (30 messages a second per bot, 20 a minute
per group or channel, sliding windows) and answers 429 with retry_after beyond them; the worker
runs with Afisha's pacing on, as in production. "Allowed" is the fastest schedule those limits
permit for the same posts (computed below); the figure is allowed time ÷ achieved time, the
same as achieved rate ÷ allowed rate. 429s are counted both ways: attempts the engine recorded
as rate-limited, and sendMessage calls the sandbox received beyond the messages it stored.

`run_shared` is the same demand on PostgreSQL with three workers, whose pacing is shared
(scheduler.pacing_pg): the limits hold for all of them together, so still no 429.
"""

from __future__ import annotations

import heapq
from collections import deque
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select

from bench.harness import (
    Context,
    fresh_database,
    install,
    ledger_by_text,
    now,
    sandbox_process,
    start_worker,
    wait_ready,
    wait_until,
)
from content.domain.states import PublicationState
from content.storage.models import Attempt

FULL_COUNT = 600
CHANNELS = 10
PER_BOT = (30, 1.0)
PER_CHAT = (20, 60.0)


def fastest_schedule(per_chat_counts: list[int]) -> float:
    """The earliest time the last message can go out under both sliding windows (from 0)."""
    overall: deque[float] = deque()
    sent: list[deque[float]] = [deque() for _ in per_chat_counts]
    left = list(per_chat_counts)
    ready = [(0.0, chat) for chat, n in enumerate(left) if n]
    heapq.heapify(ready)
    last = 0.0
    while ready:
        at, chat = heapq.heappop(ready)
        if len(overall) >= PER_BOT[0]:
            at = max(at, overall[-PER_BOT[0]] + PER_BOT[1])
        overall.append(at)
        sent[chat].append(at)
        last = max(last, at)
        left[chat] -= 1
        if left[chat]:
            window = sent[chat]
            nxt = window[-PER_CHAT[0]] + PER_CHAT[1] if len(window) >= PER_CHAT[0] else at
            heapq.heappush(ready, (nxt, chat))
    return last


SHARED_WORKERS = 3


def run(context: Context) -> dict[str, Any]:
    return measure(context, "sqlite", 1)


def run_shared(context: Context) -> dict[str, Any]:
    return measure(context, "postgresql", SHARED_WORKERS)


def measure(context: Context, kind: str, workers: int) -> dict[str, Any]:
    """The demand on a `kind` database, published by `workers` worker processes."""
    count = context.size(FULL_COUNT, 30)
    channels = CHANNELS
    with (
        sandbox_process(telegram_channels=channels) as sandbox,
        fresh_database(kind, context.workdir) as database,
    ):
        sandbox.limits(telegram_flood=True, overall_per_second=PER_BOT[0])
        installation = install(database, sandbox, context.workdir, telegram=channels)
        due = now() + timedelta(seconds=6)
        installation.queue_posts([due] * count, label="paced")
        started = [
            start_worker(installation, f"paced-w{i + 1}", pacing=True) for i in range(workers)
        ]
        counts = [count // channels + (1 if i < count % channels else 0) for i in range(channels)]
        allowed = fastest_schedule(counts)
        try:
            for worker in started:
                wait_ready(worker)
            context.say(
                f"rate limits: {count} posts to {channels} channels, {workers} worker(s) on "
                f"{kind} (≥ {allowed:.0f} s)"
            )
            finished = wait_until(
                lambda: installation.count(PublicationState.SENT) >= count,
                timeout=allowed * 3 + 60,
                every=1.0,
            )
        finally:
            for worker in started:
                worker.stop()
        with installation.afisha.sessions() as session:
            limited = session.scalar(select(func.count()).where(Attempt.outcome == "rate_limited"))
            per_worker = dict(
                session.execute(
                    select(Attempt.worker, func.count())
                    .where(Attempt.outcome == "sent")
                    .group_by(Attempt.worker)
                ).all()
            )
        states = installation.states()
        calls = sandbox.calls()
        seen = ledger_by_text(sandbox.ledger(), "paced ")
        installation.close()
    times = sorted(t for ts in seen.values() for t in ts)
    achieved = times[-1] - due.timestamp() if times else float("inf")
    # Sent at the earliest permitted moments, the last message leaves at `allowed`; the
    # achieved span is measured the same way, from the due time to the last stored message.
    return {
        "publications": count,
        "channels": channels,
        "database": kind,
        "workers": workers,
        "sent_per_worker": {str(k): int(v) for k, v in sorted(per_worker.items())},
        "finished": finished,
        "delivered": len(seen),
        "duplicated": sum(1 for ts in seen.values() if len(ts) > 1),
        "allowed_seconds": round(allowed, 2),
        "achieved_seconds": round(achieved, 2),
        "achieved_per_second": round(len(seen) / achieved, 2) if times else 0.0,
        "allowed_per_second": round(count / allowed, 2) if allowed else None,
        "efficiency": round(allowed / achieved, 3) if times and allowed else None,
        "answers_429_recorded": int(limited or 0),
        "answers_429_sandbox": int(calls.get("telegram.sendMessage", 0)) - len(times),
        "states": states,
    }
