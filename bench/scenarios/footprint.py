"""(g) Footprint: resident memory of `afisha worker` with 100,000 queued publications, and its
cold start (process start until it logs "started", and until its first due post is on the
platform).

The worker is the real CLI command on SQLite (the default installation), as a library installs
it (`make bench` makes `.venv-run` with `pip install -e .`, without the test and lint tools,
whose libraries the HTTP client would otherwise load). 100,000 posts are
queued for tomorrow across 10 channels, plus one due now; memory is read from /proc after the
first round (VmRSS) together with the peak so far (VmHWM). The same is read of `bench.worker`,
the engine without the command line, to show what the CLI's other commands add.
"""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from bench.harness import (
    RUN_VENV,
    Context,
    afisha_command,
    fresh_database,
    install,
    now,
    sandbox_process,
    start_worker,
    wait_ready,
    wait_until,
)

FULL_QUEUED = 100_000
CHANNELS = 10


def run(context: Context) -> dict[str, Any]:
    queued = context.size(FULL_QUEUED, 100)
    with (
        sandbox_process(telegram_channels=CHANNELS) as sandbox,
        fresh_database("sqlite", context.workdir) as database,
    ):
        sandbox.limits(telegram_flood=False)
        installation = install(database, sandbox, context.workdir, telegram=CHANNELS)
        tomorrow = now() + timedelta(days=1)
        queue_seconds = installation.queue_posts([tomorrow] * queued, label="later")
        installation.queue_posts([now()], channels=["tg0"], label="first")
        context.say(f"footprint: {queued} queued; starting afisha worker")
        command = afisha_command(installed=True)
        worker = start_worker(installation, "footprint", command=command)
        try:
            ready = wait_ready(worker)
            wait_until(lambda: len(sandbox.ledger()) >= 1, timeout=60, every=0.02)
            first_post = time.perf_counter() - worker.started
            time.sleep(3.0)  # the first round and the periodic jobs' first runs are over
            rss, peak = worker.rss_kib()
        finally:
            worker.stop()
        # The engine alone (bench.worker: no CLI, hence none of the other commands' imports).
        engine_only = start_worker(installation, "footprint-engine", pacing=True)
        try:
            wait_ready(engine_only)
            time.sleep(3.0)
            engine_rss, engine_peak = engine_only.rss_kib()
        finally:
            engine_only.stop()
        installation.close()
    return {
        "installation": "without test tools" if command[0].startswith(str(RUN_VENV)) else "dev",
        "engine_only_rss_mib": round(engine_rss / 1024, 1),
        "engine_only_peak_rss_mib": round(engine_peak / 1024, 1),
        "queued": queued,
        "queue_seconds": round(queue_seconds, 2),
        "rss_mib": round(rss / 1024, 1),
        "peak_rss_mib": round(peak / 1024, 1),
        "cold_start_ready_seconds": round(ready, 2),
        "cold_start_first_post_seconds": round(first_post, 2),
    }
