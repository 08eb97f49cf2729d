"""(c) The baseline in the same run: the burst of (b) as one APScheduler job per post.

Both variants of `bench.baseline` run against a fresh sandbox and a fresh PostgreSQL schema
(the job store's table lives there). Delivered posts are counted from the sandbox's ledger, not
from APScheduler's events: a job that "executed" must also have reached the platform.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from bench.harness import (
    ROOT,
    Context,
    fresh_database,
    ledger_by_text,
    python_env,
    sandbox_process,
)

FULL_COUNT = 20_000
CHANNELS = 200


def run(context: Context) -> dict[str, Any]:
    count = context.size(FULL_COUNT, 50)
    observe = max(10.0, 120.0 * min(1.0, context.scale * 5))
    result: dict[str, Any] = {"jobs": count}
    for variant in ("default", "capped"):
        with (
            sandbox_process(telegram_channels=CHANNELS) as sandbox,
            fresh_database("postgresql", context.workdir) as database,
        ):
            sandbox.limits(telegram_flood=False)
            context.say(f"baseline: {count} APScheduler jobs, variant {variant}")
            chats = ",".join(str(c) for c in sandbox.chats[:CHANNELS])
            command = [
                sys.executable,
                "-m",
                "bench.baseline",
                "--db-url",
                database.url,
                "--api-url",
                sandbox.base_url,
                "--token",
                sandbox.bot_token,
                f"--chats={chats}",
                "--count",
                str(count),
                "--variant",
                variant,
                "--observe",
                str(observe),
                "--label",
                f"aps-{variant}",
            ]
            done = subprocess.run(  # noqa: S603 - our own module
                command, cwd=ROOT, env=python_env(), capture_output=True, text=True, check=True
            )
            report = dict(json.loads(done.stdout))
            seen = ledger_by_text(sandbox.ledger(), f"aps-{variant} ")
            times = sorted(t for ts in seen.values() for t in ts)
            report["delivered"] = len(seen)
            if times:
                elapsed = times[-1] - float(report["due"])
                report["seconds"] = round(elapsed, 2)
                report["per_second"] = round(len(seen) / elapsed, 1)
            else:
                report["seconds"] = None
                report["per_second"] = 0.0
            report["observed_seconds"] = observe
            result[variant] = report
    return result
