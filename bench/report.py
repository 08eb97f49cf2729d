"""Results as Markdown tables, and the README's "Benchmarks" section kept in step with them.

`python -m bench.report bench/results/<date>.json [--readme]` re-renders a stored result.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any

NOT_MEASURED = "not measured"


def _n(value: Any, digits: int = 0) -> str:
    if value is None:
        return "–"
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}"
    return str(value)


def machine_line(results: dict[str, Any]) -> str:
    m = results["machine"]
    return (
        f"Measured {results.get('started_at', results['date'])} on {m['nproc']} cores of "
        f"{m['cpu']}, {m.get('memory_gib')} GiB, Python {m['python']}, SQLite {m['sqlite']}, "
        f"PostgreSQL {m.get('postgresql') or 'n/a'}; load average at start "
        f"{' / '.join(str(x) for x in m.get('load_average_at_start', []))}"
        f"{_speed(m)}."
    )


def _speed(m: dict[str, Any]) -> str:
    """How contended the machine was: CPU stolen by the hypervisor, plain Python's speed."""
    parts = []
    if m.get("steal_percent") is not None:
        parts.append(f"CPU stolen by the hypervisor during the run {m['steal_percent']}%")
    if m.get("python_loop_ms") is not None:
        after = m.get("python_loop_ms_after")
        gauge = f"a 2M-step Python loop {m['python_loop_ms']} ms"
        parts.append(gauge + (f" at start, {after} ms at the end" if after else ""))
    return "; " + "; ".join(parts) if parts else ""


def _failed(figures: dict[str, Any]) -> str | None:
    if figures.get("status") == "failed":
        return f"failed: {figures.get('error')}"
    if figures.get("status") == NOT_MEASURED:
        return f"{NOT_MEASURED} ({figures.get('reason')})"
    return None


def _on_time(f: dict[str, Any]) -> list[list[str]]:
    late = f["lateness_ms"]
    return [
        [
            "On time",
            f"{_n(f['publications'])} posts on {f['channels']} channels due within "
            f"{_n(f['window_seconds'])} s ({f['database']}, limits off, SENDING committed "
            "before each send)",
            f"lateness on the platform p50 {_n(late['p50'], 1)} ms · p99 {_n(late['p99'], 1)} ms"
            f" · max {_n(late['max'], 1)} ms; delivered {_n(f['delivered'])}, duplicated "
            f"{f['duplicated']}",
            "p99 ≤ 25 ms",
        ]
    ]


def _instagram_on_time(f: dict[str, Any]) -> list[list[str]]:
    late = f["lateness_ms"]
    return [
        [
            "On time, Instagram",
            f"{_n(f['publications'])} posts with an image on 1 account due within "
            f"{_n(f['window_seconds'])} s ({f['database']}, limits off, containers prepared "
            "ahead by the worker's `prepare` job)",
            f"lateness of the publish on the platform p50 {_n(late['p50'], 1)} ms · p99 "
            f"{_n(late['p99'], 1)} ms · max {_n(late['max'], 1)} ms; prepared ahead "
            f"{_n(f['prepared_ahead'])}, delivered {_n(f['delivered'])}, duplicated "
            f"{f['duplicated']}",
            "p99 ≤ 25 ms",
        ]
    ]


def _network(f: dict[str, Any]) -> list[list[str]]:
    late, free = f["lateness_ms"], f["lateness_unconstrained_ms"]
    return [
        [
            "Network",
            f"{_n(f['libraries'])} libraries ({_n(f['channels'])} Telegram channels): "
            f"{_n(f['posts'])} posts and {_n(f['events'])} events with 3 reminders = "
            f"{_n(f['publications'])} publications over {_n(f['window_seconds'])} s, "
            f"{f['workers']} workers on PostgreSQL, limits on",
            f"sent {_n(f['sent'])}, lost {_n(f['lost'])}, extra copies {_n(f['extra_copies'])}; "
            f"429 answers: {_n(f['answers_429_sandbox'])}; lateness where no limit held a post "
            f"back ({_n(f['unconstrained'])}) p50 {_n(free['p50'], 1)} ms · p99 "
            f"{_n(free['p99'], 1)} ms, of all p99 {_n(late['p99'], 1)} ms · max "
            f"{_n(late['max'], 1)} ms; queueing the plan {_n(f['queue_seconds'], 2)} s",
            "each once, 0 × 429, p99 ≤ 25 ms, queueing ≤ 1 s",
        ]
    ]


def _ceiling_tasks(f: dict[str, Any]) -> str:
    tasks = sorted({int(str(t).rsplit("-", 1)[-1]) for t in f.get("ceilings", {})})
    return "/".join(str(t) for t in tasks or [f["concurrency"]])


def _ceiling_phrase(f: dict[str, Any], run: dict[str, Any]) -> str:
    """The ceiling the run is compared with, and how it was measured."""
    ceiling = f["ceiling"]
    tasks = ceiling.get("concurrency", f["concurrency"])
    if "ceiling_around" not in run:  # results from before the ceiling was measured around runs
        text = f"{_n(ceiling['per_second'])}/s, PTB send_message from {tasks} tasks"
        if "client" not in ceiling:
            return f"{text}, the best of {_ceiling_tasks(f)}"
        return f"{text}, the best of {_ceiling_tasks(f)} tasks over either pool"
    over = "Afisha's small pools" if ceiling["client"] == "pooled" else "PTB's stock pool"
    before, after = (_n(c["per_second"]) for c in run["ceiling_around"])
    return (
        f"{_n(run['ceiling_per_second'])}/s: PTB send_message from {tasks} tasks over {over}, "
        f"its best of {_ceiling_tasks(f)} tasks over either pool, measured right before "
        f"({before}/s) and after ({after}/s) the run"
    )


def _same_tasks(f: dict[str, Any], run: dict[str, Any]) -> str:
    """A second ratio: to the sweep's best figure (or, in older results, to the ceiling at the
    engine's own concurrency when that is another one)."""
    if "of_sweep_best" in run:
        return (
            f", {run['of_sweep_best'] * 100:.0f}% of the sweep's best "
            f"{'set-up' if 'runs' in f['ceiling'] else 'single figure'} "
            f"({_n(f['ceiling']['per_second'])}/s)"
        )
    alike = run.get("of_ceiling_same_tasks")
    if alike is None or alike == run["of_ceiling"]:
        return ""
    return f", {alike * 100:.0f}% of it at the engine's {f['concurrency']} concurrent sends"


def _throughput(f: dict[str, Any]) -> list[list[str]]:
    rows = []
    for key, label in (("one_worker", "1 worker"), ("two_workers", "2 workers")):
        run = f[key]
        rows.append(
            [
                "Throughput" if key == "one_worker" else "",
                f"{_n(run['publications'])} due at once, PostgreSQL, {label}, limits off",
                f"{_n(run['per_second'])}/s = {run['of_ceiling'] * 100:.0f}% of the client's "
                f"ceiling ({_ceiling_phrase(f, run)}){_same_tasks(f, run)}; all "
                f"{_n(run['delivered'])} "
                f"delivered in {_n(run['seconds'], 1)} s, duplicated {run['duplicated']}",
                "≥ 85% of ceiling",
            ]
        )
    queue = f["queue_seconds"]
    rows.append(
        [
            "Queueing",
            f"{_n(f['publications'])} posts through `content.queueing.bulk.queue_many` (validated)",
            f"SQLite {_n(queue.get('sqlite'), 2)} s · "
            f"PostgreSQL {_n(queue.get('postgresql'), 2)} s",
            "≤ 1 s",
        ]
    )
    return rows


def _baseline(f: dict[str, Any], afisha_rate: float | None) -> list[list[str]]:
    rows = []
    for variant, label in (("default", "defaults"), ("capped", "misfire None, 50 at a time")):
        run = f[variant]
        ratio = ""
        if afisha_rate and run.get("per_second"):
            ratio = f"; Afisha (1 worker) is {afisha_rate / run['per_second']:.1f}× faster"
        elif afisha_rate:
            ratio = "; Afisha delivers them all, the baseline none in the window"
        rows.append(
            [
                "Baseline" if variant == "default" else "",
                f"the same burst as one APScheduler job per post, SQLAlchemyJobStore on "
                f"PostgreSQL, {label}",
                f"queueing {_n(run['queue_seconds'], 1)} s; delivered {_n(run['delivered'])} of "
                f"{_n(run['jobs'])} within {_n(run['observed_seconds'])} s of due "
                f"({_n(run['missed'])} skipped as misfires), {_n(run['per_second'])}/s{ratio}",
                "",
            ]
        )
    return rows


def _rate_limits(f: dict[str, Any]) -> list[list[str]]:
    workers = f.get("workers", 1)
    where = "" if workers == 1 else f", {workers} workers on PostgreSQL (pacing shared)"
    return [
        [
            "Rate limits" if workers == 1 else "Shared rate limits",
            f"{_n(f['publications'])} posts to {f['channels']} channels, Telegram limits on "
            f"(30/s per bot, 20/min per channel){where}",
            f"achieved {_n(f['achieved_per_second'], 2)}/s of {_n(f['allowed_per_second'], 2)}/s "
            f"allowed = {_n(f['efficiency'], 2)} ({_n(f['achieved_seconds'], 1)} s vs "
            f"{_n(f['allowed_seconds'], 1)} s); 429 answers: {f['answers_429_recorded']}",
            "",
        ]
    ]


def _collection(f: dict[str, Any]) -> list[list[str]]:
    return [
        [
            "Collection",
            f"{_n(f['facebook'])} Facebook + {_n(f['instagram'])} Instagram publications",
            f"{_n(f['graph_calls'])} Graph calls (floor {_n(f['floor'])}: Facebook "
            f"{_n(f['floor_facebook'])} = ⌈N/50⌉ per Page, Instagram "
            f"{_n(f['floor_instagram'])}); {_n(f['seconds'], 1)} s in {f['rounds']} rounds",
            "= floor",
        ]
    ]


def _exactly_once(f: dict[str, Any]) -> list[list[str]]:
    late = f["lateness_ms"]
    workers = ", ".join(
        f"{name} {_n(counts['sent'])}" for name, counts in sorted(f["per_worker"].items())
    )
    verdict = "meets the target" if f["passed"] else "**misses the target**"
    return [
        [
            "Exactly once",
            f"{_n(f['publications'])} due within {_n(f['window_seconds'])} s on "
            f"{f['channels']} channels, {f['workers']} workers on PostgreSQL, limits on",
            f"{verdict}: delivered {_n(f['delivered'])}, duplicated {f['duplicated']}, lost "
            f"{f['lost']}; sent by {workers}; lateness on the platform p50 "
            f"{_n(late['p50'], 1)} ms · p99 {_n(late['p99'], 1)} ms · max {_n(late['max'], 1)} ms;"
            f" 429 answers: {f['answers_429_sandbox']}",
            "each once, p99 < 1 s",
        ]
    ]


def _stats(f: dict[str, Any]) -> list[list[str]]:
    cells = []
    for database in ("sqlite", "postgresql"):
        data = f.get(database)
        if not data:
            cells.append(f"{database}: {NOT_MEASURED}")
            continue
        parts = [
            f"{label.split(' (')[0]} p50 {_n(c['p50_ms'], 0)} ms / p95 {_n(c['p95_ms'], 0)} ms"
            for label, c in data["cases"].items()
        ]
        cells.append(f"{'SQLite' if database == 'sqlite' else 'PostgreSQL'}: " + "; ".join(parts))
    return [
        [
            "Stats",
            f"{_n(f['snapshots'])} snapshots (bench/stats_bench.py)",
            " — ".join(cells),
            "",
        ]
    ]


def _footprint(f: dict[str, Any]) -> list[list[str]]:
    return [
        [
            "Footprint",
            f"`afisha worker` on SQLite with {_n(f['queued'])} queued"
            + (" (installed without the test tools)" if f.get("installation") != "dev" else ""),
            f"resident {_n(f['rss_mib'], 1)} MiB = {_n(f['rss_mib'] * 1.048576, 1)} MB "
            f"(peak {_n(f['peak_rss_mib'], 1)} MiB; the "
            f"engine without the CLI {_n(f.get('engine_only_rss_mib'), 1)} MiB); cold "
            f"start {_n(f['cold_start_ready_seconds'], 2)} s to ready, "
            f"{_n(f['cold_start_first_post_seconds'], 2)} s to the first post on the platform",
            "< 80 MB",
        ]
    ]


def table(rows: list[list[str]], header: list[str]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def bench_markdown(results: dict[str, Any]) -> str:
    scenarios = results["scenarios"]
    rows: list[list[str]] = []
    afisha_rate = None
    throughput = scenarios.get("throughput", {})
    if "one_worker" in throughput:
        afisha_rate = throughput["one_worker"]["per_second"]
    renderers = {
        "on_time": _on_time,
        "instagram_on_time": _instagram_on_time,
        "throughput": _throughput,
        "baseline": lambda f: _baseline(f, afisha_rate),
        "rate_limits": _rate_limits,
        "shared_limits": _rate_limits,
        "collection": _collection,
        "stats": _stats,
        "footprint": _footprint,
        "exactly_once": _exactly_once,
        "network": _network,
    }
    for name, render in renderers.items():
        figures = scenarios.get(name)
        if figures is None:
            continue
        problem = _failed(figures)
        if problem:
            rows.append([name, "", problem, ""])
            continue
        try:
            rows += render(figures)
        except (KeyError, TypeError, ZeroDivisionError) as exc:
            rows.append([name, "", f"cannot render: {exc!r}", ""])
    text = f"{machine_line(results)}\n\n"
    text += table(rows, ["Claim", "Scenario", "Figure", "Target"])
    if results.get("scale", 1.0) != 1.0:
        text += f"\nScale {results['scale']}: sizes are not the issue's.\n"
    return text


def chaos_markdown(results: dict[str, Any]) -> str:
    c = results["counts"]
    rows = [
        ["publications", _n(results["publications"])],
        ["delivered once", _n(c["delivered_once"])],
        [
            "unconfirmed, settled",
            f"{_n(c['unconfirmed_total'])}: "
            + ", ".join(f"{k} {v}" for k, v in sorted(results["unconfirmed_settled"].items())),
        ],
        [
            "failed with reason",
            f"{_n(c['failed'])}"
            + (
                ": " + "; ".join(f"{n}× {r}" for r, n in results["failure_reasons"].items())
                if results["failure_reasons"]
                else ""
            ),
        ],
        ["lost", _n(c["lost"])],
        ["duplicated", _n(c["duplicated"])],
        [
            "faults",
            f"{_n(results['faults_injected'])} injected ({results['fault_spec']}); "
            f"{results['kills']} SIGKILLs of workers; PostgreSQL restarted "
            f"{results['postgres_restarts']}×",
        ],
        ["wall time", f"{_n(results['seconds'], 0)} s"],
    ]
    text = f"{machine_line(results)}\n\n" + table(rows, ["Chaos run", "Count"])
    verdict = "PASS" if results["passed"] else "FAIL"
    text += f"\n{verdict}: lost {c['lost']}, duplicated {c['duplicated']} (both must be 0).\n"
    return text


def update_readme(path: Path, key: str, body: str) -> None:
    """Replace the text between `<!-- {key}:start -->` and `<!-- {key}:end -->`."""
    text = path.read_text(encoding="utf-8")
    start, end = f"<!-- {key}:start -->", f"<!-- {key}:end -->"
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if not pattern.search(text):
        raise ValueError(f"README.md has no {start} … {end} markers")
    path.write_text(pattern.sub(lambda _m: f"{start}\n{body}{end}", text), encoding="utf-8")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Render stored benchmark results.")
    parser.add_argument("result", type=Path)
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args(argv)
    results = json.loads(args.result.read_text())
    chaos = "counts" in results
    rendered = chaos_markdown(results) if chaos else bench_markdown(results)
    sys.stdout.write(rendered)
    if args.readme:
        root = Path(__file__).resolve().parent.parent
        update_readme(root / "README.md", "chaos" if chaos else "bench", rendered)


if __name__ == "__main__":
    main()
