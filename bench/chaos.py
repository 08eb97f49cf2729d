"""`make chaos`: 2,000 publications through faults, SIGKILLed workers and a PostgreSQL restart.

Two `afisha worker` processes share a fresh PostgreSQL schema. The sandbox (a process of its
own) injects platform faults into 20% of publishing calls (429, 5xx, a connection dropped
before or after the item is stored, an answer slower than the client waits). A driver kills a
random worker with SIGKILL at random moments (at least 20 times; each is restarted) and
restarts PostgreSQL once. Then the workers run undisturbed until every publication is settled:
sent, failed with a reason, or unconfirmed and put before a person (a notice).

The result counts, per publication, the truth from the sandbox's ledger (how many times it is
on the platform) against the database: delivered once, unconfirmed (and how each was settled),
failed with reason, lost (neither sent, nor failed with a reason, nor unconfirmed and
surfaced; or marked sent but not on the platform), duplicated (on the platform twice). Exits
non-zero unless lost and duplicated are both 0.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bench import report
from bench.harness import (
    ROOT,
    Installation,
    WorkerProcess,
    afisha_command,
    fresh_database,
    install,
    ledger_by_text,
    now,
    sandbox_process,
    spread,
    start_worker,
)
from bench.machine import cpu_times, describe, steal_percent
from content.domain.states import PublicationState
from content.storage.models import Attempt, Notice, Publication
from content.storage.notices import NoticeKind

RESULTS = ROOT / "bench" / "results"
# 20% of publishing calls fail. Graph gets no injected throttling: Afisha answers Meta's with a
# pause of minutes to an hour (as Meta asks), which no 15-minute run can wait out.
FAULTS = {
    "sendMessage": {
        "429": 0.05,
        "5xx": 0.05,
        "drop_before": 0.04,
        "drop_after": 0.03,
        "slow": 0.03,
    },
    "feed": {"5xx": 0.06, "drop_before": 0.05, "drop_after": 0.05, "slow": 0.04},
}
FAULT_SPEC = ";".join(
    f"{method}:" + ",".join(f"{kind}={p}" for kind, p in kinds.items())
    for method, kinds in FAULTS.items()
)
SLOW_SECONDS = 12.0  # longer than the clients wait (Telegram 10 s read timeout)
TELEGRAM_CHANNELS = 100
SETTLED = {PublicationState.SENT, PublicationState.FAILED, PublicationState.UNCONFIRMED}


def log(message: str) -> None:
    sys.stderr.write(f"[chaos {datetime.now(UTC):%H:%M:%S}] {message}\n")
    sys.stderr.flush()


def restart_postgres() -> float:
    """Restart the local cluster (as root, as the issue allows); returns seconds it took."""
    versions = sorted(p.name for p in Path("/etc/postgresql").iterdir())
    began = time.perf_counter()
    subprocess.run(  # noqa: S603 - fixed arguments
        ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "restart"],  # noqa: S607
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - began


def snapshot(installation: Installation) -> dict[int, dict[str, Any]]:
    """Every publication's state, reason, attempts' outcomes and notices."""
    with installation.afisha.sessions() as session:
        rows: dict[int, dict[str, Any]] = {
            p.id: {
                "state": p.state,
                "error": p.last_error,
                "post_id": p.post_id,
                "outcomes": [],
                "notices": set(),
            }
            for p in session.scalars(select(Publication))
        }
        for publication_id, outcome in session.execute(
            select(Attempt.publication_id, Attempt.outcome).order_by(Attempt.id)
        ):
            rows[publication_id]["outcomes"].append(outcome)
        for noticed, kind in session.execute(select(Notice.publication_id, Notice.kind)):
            if noticed is not None and noticed in rows:
                rows[noticed]["notices"].add(kind)
    return rows


def settled(rows: dict[int, dict[str, Any]]) -> bool:
    for row in rows.values():
        if row["state"] not in SETTLED:
            return False
        if row["state"] is PublicationState.UNCONFIRMED and not row["notices"]:
            return False
    return True


def tally(
    rows: dict[int, dict[str, Any]], on_platform: dict[int, int]
) -> tuple[dict[str, int], dict[str, int], dict[str, int], list[dict[str, Any]]]:
    counts = Counter(
        {
            "delivered_once": 0,
            "unconfirmed_total": 0,
            "failed": 0,
            "lost": 0,
            "duplicated": 0,
        }
    )
    settled_how: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    problems: list[dict[str, Any]] = []
    for publication_id, row in rows.items():
        copies = on_platform.get(publication_id, 0)
        state = row["state"]
        was_unconfirmed = any(o in ("unknown", "crashed", "duplicate") for o in row["outcomes"])
        if copies > 1:
            counts["duplicated"] += 1
            problems.append({"publication": publication_id, "problem": "duplicated", **_s(row)})
        if state is PublicationState.SENT and copies == 1:
            counts["delivered_once"] += 1
        elif state is PublicationState.SENT and copies == 0:
            counts["lost"] += 1
            problems.append({"publication": publication_id, "problem": "sent, absent", **_s(row)})
        elif state is PublicationState.FAILED and row["error"]:
            counts["failed"] += 1
            reasons[str(row["error"])[:90]] += 1
        elif (
            state is PublicationState.UNCONFIRMED
            and NoticeKind.PUBLICATION_UNCONFIRMED in row["notices"]
        ):
            pass  # counted below
        elif copies <= 1:
            counts["lost"] += 1
            problems.append({"publication": publication_id, "problem": "lost", **_s(row)})
        if was_unconfirmed or state is PublicationState.UNCONFIRMED:
            counts["unconfirmed_total"] += 1
            truth = "on the platform" if copies else "not on the platform"
            if state is PublicationState.SENT:
                how = (
                    "resent after reconciliation found it absent"
                    if row["outcomes"].count("sent") and row["outcomes"][-1] == "sent"
                    else "confirmed posted by reconciliation"
                )
            elif state is PublicationState.UNCONFIRMED:
                how = f"asked staff ({truth})"
            else:
                how = f"{state.value} ({truth})"
            settled_how[how] += 1
    return dict(counts), dict(settled_how), dict(reasons.most_common(8)), problems


def _s(row: dict[str, Any]) -> dict[str, Any]:
    return {"state": str(row["state"]), "error": row["error"], "outcomes": row["outcomes"]}


def run(
    count: int,
    kills: int,
    seed: int,
    workdir: Path,
    restart_pg: bool,
    deadline: float,
    fault_spec: str = FAULT_SPEC,
) -> dict[str, Any]:
    rng = random.Random(seed)  # noqa: S311 - a reproducible schedule, not a secret
    began = time.perf_counter()
    machine = describe()
    counters = cpu_times()
    started_at = datetime.now(UTC).isoformat(timespec="seconds")
    with (
        sandbox_process(telegram_channels=TELEGRAM_CHANNELS, faults=fault_spec) as sandbox,
        fresh_database("postgresql", workdir) as database,
    ):
        sandbox.request("POST", "/_sandbox/faults", {"slow_seconds": SLOW_SECONDS})
        sandbox.limits(telegram_flood=True, graph_page_budget=None)
        installation = install(database, sandbox, workdir, telegram=TELEGRAM_CHANNELS, facebook=2)
        telegram = [n for n in installation.channel_names if n.startswith("tg")]
        facebook = [n for n in installation.channel_names if n.startswith("fb")]
        facebook_share = max(1, count // 20)
        start = now() + timedelta(seconds=5)
        due = spread(count, start, 60.0, seed=seed)
        installation.queue_posts(due[: count - facebook_share], telegram, label="chaos-tg")
        installation.queue_posts(due[count - facebook_share :], facebook, label="chaos-fb")
        texts = _texts(installation)
        workers: list[WorkerProcess] = []
        spawned = 0

        def spawn() -> None:
            nonlocal spawned
            spawned += 1
            workers.append(start_worker(installation, f"chaos-{spawned}", command=afisha_command()))

        try:
            spawn()
            spawn()
            log(f"{count} publications queued; 2 workers; faults {fault_spec}")
            time.sleep(max(0.0, (start - now()).total_seconds()))
            restart_at = rng.randrange(kills // 4, 3 * kills // 4 + 1) if restart_pg else -1
            pg_seconds = None
            done_kills = 0
            while done_kills < kills:
                time.sleep(rng.uniform(1.5, 6.0))
                alive = [w for w in workers if w.process.poll() is None]
                victim = rng.choice(alive)
                victim.kill()
                workers.remove(victim)
                done_kills += 1
                log(f"SIGKILL {done_kills}/{kills} (pid {victim.process.pid})")
                time.sleep(rng.uniform(0.1, 1.0))
                spawn()
                if done_kills == restart_at:
                    pg_seconds = restart_postgres()
                    log(f"PostgreSQL restarted in {pg_seconds:.1f} s")
            log("kills done; letting the workers settle everything")
            rows = snapshot(installation)
            while not settled(rows) and time.perf_counter() - began < deadline:
                time.sleep(5)
                rows = snapshot(installation)
                waiting = Counter(str(r["state"]) for r in rows.values())
                log(f"states: {dict(waiting)}")
        finally:
            # Also when the run fails: no worker may outlive it.
            for worker in workers:
                worker.stop()
        rows = snapshot(installation)
        ledger = sandbox.ledger()
        faults = sandbox.request("GET", "/_sandbox/faults")
        installation.close()
    seen = ledger_by_text(ledger, "chaos-")
    on_platform = {texts[text]: len(times) for text, times in seen.items() if text in texts}
    counts, settled_how, reasons, problems = tally(rows, on_platform)
    machine["steal_percent"] = steal_percent(counters, cpu_times())
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "started_at": started_at,
        "machine": machine,
        "publications": count,
        "channels": {"telegram": TELEGRAM_CHANNELS, "facebook": 2},
        "fault_spec": fault_spec,
        "faults_injected": len(faults.get("injected", [])),
        "faults_by_kind": dict(Counter(f["kind"] for f in faults.get("injected", []))),
        "kills": done_kills,
        "postgres_restarts": 0 if pg_seconds is None else 1,
        "postgres_restart_seconds": pg_seconds,
        "counts": counts,
        "unconfirmed_settled": settled_how,
        "failure_reasons": reasons,
        "final_states": dict(Counter(str(r["state"]) for r in rows.values())),
        "problems": problems[:50],
        "seconds": round(time.perf_counter() - began, 1),
        "passed": counts["lost"] == 0 and counts["duplicated"] == 0,
    }


def _texts(installation: Installation) -> dict[str, int]:
    """Post text -> publication id (one publication per post here)."""
    from content.storage.models import Post

    with installation.afisha.sessions() as session:
        return {
            text: publication_id
            for text, publication_id in session.execute(
                select(Post.text, Publication.id).join(Publication, Publication.post_id == Post.id)
            )
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Afisha's chaos run against the sandbox.")
    parser.add_argument("--publications", type=int, default=2_000)
    parser.add_argument("--kills", type=int, default=24)
    parser.add_argument("--seed", type=int, default=9)
    parser.add_argument("--no-postgres-restart", action="store_true")
    parser.add_argument("--deadline", type=float, default=780.0, help="seconds for the run")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--readme", action="store_true")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="afisha-chaos-") as scratch:
        results = run(
            args.publications,
            args.kills,
            args.seed,
            Path(scratch),
            not args.no_postgres_restart,
            args.deadline,
        )
    args.out.mkdir(parents=True, exist_ok=True)
    stem = f"chaos-{results['date']}"
    (args.out / f"{stem}.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    table = report.chaos_markdown(results)
    (args.out / f"{stem}.md").write_text(table)
    sys.stdout.write(table)
    if args.readme:
        report.update_readme(ROOT / "README.md", "chaos", table)
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
