"""(f) Stats latency: /stats and the monthly report over 1,000,000 snapshots, p50 / p95.

The measurement is `bench/stats_bench.py`, written with content/analytics/; this runs it as it
is and reads its printed lines. If the script is missing or its output cannot be read, the
figure is reported as "not measured" with the reason, never as a number.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.harness import ROOT, Context, python_env

SCRIPT = ROOT / "bench" / "stats_bench.py"
FULL_SNAPSHOTS = 1_000_000
TIMEOUT = 300  # keeps `make bench` within its 15 minutes
HEADER = re.compile(r"^(SQLite|PostgreSQL): ([\d,]+) snapshots .* inserted in (\d+) s")
LINE = re.compile(r"^\s+(.+?)\s+p50\s+([\d.]+) ms\s+p95\s+([\d.]+) ms")


def parse(output: str) -> dict[str, Any]:
    """{database: {"snapshots", "fill_seconds", "cases": {label: {"p50_ms", "p95_ms"}}}}."""
    result: dict[str, Any] = {}
    current: dict[str, Any] | None = None
    for line in output.splitlines():
        if header := HEADER.match(line):
            current = {
                "snapshots": int(header.group(2).replace(",", "")),
                "fill_seconds": int(header.group(3)),
                "cases": {},
            }
            result[header.group(1).lower()] = current
        elif (case := LINE.match(line)) and current is not None:
            current["cases"][case.group(1)] = {
                "p50_ms": float(case.group(2)),
                "p95_ms": float(case.group(3)),
            }
    return result


def run(context: Context, script: Path = SCRIPT) -> dict[str, Any]:
    if not script.exists():
        return {"status": "not measured", "reason": f"{script.name} does not exist yet"}
    snapshots = context.size(FULL_SNAPSHOTS, 600)
    repeat = 20 if context.scale >= 1 else 3
    context.say(f"stats: {snapshots} snapshots (bench/stats_bench.py)")
    command = [
        sys.executable,
        "-m",
        "bench.stats_bench",
        "--snapshots",
        str(snapshots),
        "--repeat",
        str(repeat),
    ]
    try:
        done = subprocess.run(  # noqa: S603 - a module of this repository
            command, cwd=ROOT, env=python_env(), capture_output=True, text=True, timeout=TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return {"status": "not measured", "reason": f"stats_bench.py ran over {TIMEOUT} s"}
    if done.returncode != 0:
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
        return {"status": "not measured", "reason": f"stats_bench.py failed: {reason}"}
    databases = parse(done.stdout)
    if not any(d["cases"] for d in databases.values()):
        return {"status": "not measured", "reason": "stats_bench.py printed no timings"}
    return {"status": "measured", "snapshots": snapshots, "repeat": repeat, **databases}
