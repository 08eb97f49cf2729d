"""`make bench`: every scenario of issue 9 against the sandbox, results to bench/results/.

`python -m bench.run [--scale 1.0] [--only on_time,throughput] [--readme]` writes
`bench/results/<date>.json` and `<date>.md` (the table), and with `--readme` puts the table in
README.md's "Benchmarks" section. A scenario that fails is recorded as failed and the command
exits non-zero after the others ran.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import report
from bench.harness import ROOT, Context, load_average
from bench.machine import cpu_times, describe, python_loop_ms, steal_percent
from bench.scenarios import (
    baseline,
    collection,
    exactly_once,
    footprint,
    instagram_on_time,
    network,
    on_time,
    rate_limits,
    stats,
    throughput,
)

RESULTS = ROOT / "bench" / "results"
SCENARIOS: dict[str, Callable[[Context], dict[str, Any]]] = {
    "on_time": on_time.run,
    "instagram_on_time": instagram_on_time.run,
    "throughput": throughput.run,
    "baseline": baseline.run,
    "rate_limits": rate_limits.run,
    "shared_limits": rate_limits.run_shared,
    "collection": collection.run,
    "footprint": footprint.run,
    "exactly_once": exactly_once.run,
    "network": network.run,
    "stats": stats.run,  # last: the slowest to fill, and bounded by its own timeout
}


def run_all(scale: float, only: list[str] | None, workdir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "scale": scale,
        "machine": describe(),
        "scenarios": {},
    }
    first = cpu_times()
    for name, scenario in SCENARIOS.items():
        if only and name not in only:
            continue
        directory = workdir / name
        directory.mkdir(parents=True, exist_ok=True)
        context = Context(directory, scale)
        began = time.perf_counter()
        counters = cpu_times()
        try:
            figures = scenario(context)
        except Exception as exc:  # noqa: BLE001 - recorded, and the run goes on
            traceback.print_exc()
            figures = {"status": "failed", "error": f"{exc.__class__.__name__}: {exc}"}
        figures["scenario_seconds"] = round(time.perf_counter() - began, 1)
        figures["load_average_after"] = load_average()
        figures["steal_percent"] = steal_percent(counters, cpu_times())
        results["scenarios"][name] = figures
        context.say(f"{name}: done in {figures['scenario_seconds']} s")
    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    results["machine"]["steal_percent"] = steal_percent(first, cpu_times())
    results["machine"]["python_loop_ms_after"] = python_loop_ms()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run Afisha's benchmarks against the sandbox.")
    parser.add_argument("--scale", type=float, default=1.0, help="size factor (1.0: issue 9's)")
    parser.add_argument("--only", default="", help="comma-separated scenario names")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--readme", action="store_true", help="update README.md's table")
    args = parser.parse_args(argv)
    only = [n.strip() for n in args.only.split(",") if n.strip()] or None
    unknown = set(only or []) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    with tempfile.TemporaryDirectory(prefix="afisha-bench-") as scratch:
        results = run_all(args.scale, only, Path(scratch))
    args.out.mkdir(parents=True, exist_ok=True)
    stem = results["date"] if args.scale == 1.0 and not only else f"{results['date']}-partial"
    json_path = args.out / f"{stem}.json"
    json_path.write_text(json.dumps(results, indent=2) + "\n")
    table = report.bench_markdown(results)
    (args.out / f"{stem}.md").write_text(table)
    sys.stdout.write(table)
    if args.readme:
        report.update_readme(ROOT / "README.md", "bench", table)
    failed = [n for n, s in results["scenarios"].items() if s.get("status") == "failed"]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
