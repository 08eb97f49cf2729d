"""(a) On time: 2,000 publications across 200 channels due within 60 s -> lateness percentiles.

Lateness is measured where it matters, on the platform: the time the sandbox stored each
message minus its due time. The engine commits the attempt (state SENDING) before every send,
as always. The platforms' limits are off: 2,000 posts in 60 s on one bot is more than Telegram's
30 a second, so with limits on the figure would measure the limit, not the engine.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bench.harness import (
    Context,
    fresh_database,
    install,
    lateness_summary,
    ledger_by_text,
    now,
    sandbox_process,
    spread,
    start_worker,
    wait_ready,
    wait_until,
)
from content.domain.states import PublicationState
from content.storage.models import Attempt, Publication

FULL_COUNT = 2_000
CHANNELS = 200
WINDOW_SECONDS = 60.0


def run(context: Context, database_kind: str = "sqlite") -> dict[str, Any]:
    count = context.size(FULL_COUNT, 20)
    channels = min(CHANNELS, count)
    window = max(3.0, WINDOW_SECONDS * min(1.0, context.scale * 10))
    with (
        sandbox_process(telegram_channels=channels) as sandbox,
        fresh_database(database_kind, context.workdir) as database,
    ):
        sandbox.limits(telegram_flood=False)
        installation = install(database, sandbox, context.workdir, telegram=channels)
        start = now() + timedelta(seconds=6)
        due = spread(count, start, window)
        installation.queue_posts(due, label="ontime")
        worker = start_worker(installation, "ontime", pacing=False)
        try:
            wait_ready(worker)
            context.say(f"on time: {count} posts over {window:.0f} s on {channels} channels")
            wait_until(
                lambda: installation.count(PublicationState.SENT) >= count,
                timeout=window + 120,
                every=1.0,
            )
        finally:
            worker.stop()
        seen = ledger_by_text(sandbox.ledger(), "ontime ")
        with installation.afisha.sessions() as session:
            started = session.execute(
                select(Attempt.started_at, Publication.due_at).join(
                    Publication, Publication.id == Attempt.publication_id
                )
            ).all()
        states = installation.states()
        installation.close()
    lateness = [
        (times[0] - due[int(text.split()[1])].timestamp()) * 1000 for text, times in seen.items()
    ]
    begun = [(a - d).total_seconds() * 1000 for a, d in started]
    return {
        "database": database_kind,
        "publications": count,
        "channels": channels,
        "window_seconds": window,
        "delivered": len(seen),
        "duplicated": sum(1 for times in seen.values() if len(times) > 1),
        "states": states,
        "lateness_ms": lateness_summary(lateness),
        "attempt_start_lateness_ms": lateness_summary(begun),
    }
