"""The benchmark harness at a tiny size, so it cannot rot: every scenario runs end to end."""

from __future__ import annotations

import json
import statistics
from pathlib import Path

import pytest

from bench import chaos, report
from bench.harness import Context
from bench.run import SCENARIOS, main
from bench.scenarios import rate_limits, stats
from content.domain.states import PublicationState
from tests.conftest import POSTGRES_URL

NEEDS_POSTGRES = {"throughput", "baseline", "exactly_once", "network", "shared_limits"}


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", list(SCENARIOS))
def test_each_scenario_runs_at_a_tiny_size(name: str, tmp_path: Path) -> None:
    if name in NEEDS_POSTGRES and POSTGRES_URL is None:
        pytest.skip("this scenario runs on PostgreSQL")
    figures = SCENARIOS[name](Context(tmp_path, scale=0.005))
    assert figures.get("status") != "failed", figures
    if name == "throughput":
        assert figures["one_worker"]["delivered"] == figures["publications"]
        assert figures["two_workers"]["duplicated"] == 0
        # The ceiling is the best of both HTTP set-ups, each at several concurrencies.
        clients = {(c["client"], c["concurrency"]) for c in figures["ceilings"].values()}
        assert clients == {(c, t) for c in ("pooled", "stock") for t in (10, 20, 50)}
        assert figures["ceiling"]["per_second"] == max(
            c["per_second"] for c in figures["ceilings"].values()
        )
        # Each set-up is rated by the mean of its rounds, not by one lucky figure.
        for setup in figures["ceilings"].values():
            assert len(setup["runs"]) == 2
            assert setup["per_second"] == round(statistics.mean(setup["runs"]), 1)
        # Each run is compared with that best set-up measured right before and after it.
        for key in ("one_worker", "two_workers"):
            run = figures[key]
            assert [c["concurrency"] for c in run["ceiling_around"]] == [
                figures["ceiling"]["concurrency"]
            ] * 2
            mean = sum(c["per_second"] for c in run["ceiling_around"]) / 2
            assert run["of_ceiling"] == round(run["per_second"] / mean, 3)
    if name == "instagram_on_time":
        assert figures["delivered"] == figures["publications"]
        # Containers are made ahead (how many in time depends on the machine's load).
        assert figures["prepared_ahead"] > 0
        assert figures["duplicated"] == 0
    if name == "network":
        assert figures["libraries"] >= 3
        assert figures["lost"] == 0
        assert figures["extra_copies"] == 0
    if name == "on_time":
        assert figures["delivered"] == figures["publications"]
        assert figures["duplicated"] == 0
    if name == "shared_limits":
        assert figures["delivered"] == figures["publications"]
        assert figures["duplicated"] == 0
        assert figures["answers_429_sandbox"] == 0
    if name == "collection":
        assert figures["graph_calls"] == figures["floor"]
    if name == "exactly_once":
        assert figures["delivered"] == figures["publications"]
        assert figures["duplicated"] == 0
        assert sum(w["sent"] for w in figures["per_worker"].values()) == figures["publications"]


def test_the_run_command_writes_results_and_a_table(tmp_path: Path) -> None:
    assert main(["--scale", "0.005", "--only", "collection", "--out", str(tmp_path)]) == 0
    stored = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert "collection" in stored["scenarios"]
    assert "| Collection |" in next(tmp_path.glob("*.md")).read_text()


def test_a_missed_target_is_marked_in_the_table() -> None:
    figures = {
        "publications": 500,
        "window_seconds": 60.0,
        "channels": 50,
        "workers": 2,
        "delivered": 499,
        "duplicated": 1,
        "lost": 1,
        "answers_429_sandbox": 0,
        "per_worker": {"once-w1": {"attempts": 250, "sent": 250}},
        "lateness_ms": {"p50": 12.0, "p99": 80.0, "max": 95.0},
        "passed": False,
    }
    results = {
        "date": "2026-11-23",
        "machine": {"nproc": 2, "cpu": "x", "python": "3", "sqlite": "3"},
    }
    missed = report.bench_markdown({**results, "scenarios": {"exactly_once": figures}})
    assert "| Exactly once |" in missed
    assert "misses the target" in missed
    met = report.bench_markdown(
        {**results, "scenarios": {"exactly_once": {**figures, "passed": True}}}
    )
    assert "meets the target" in met


def test_the_fastest_schedule_under_telegram_limits() -> None:
    assert rate_limits.fastest_schedule([20] * 10) == pytest.approx(6.0)  # 200 at 30 a second
    assert rate_limits.fastest_schedule([60] * 10) == pytest.approx(126.0)


def test_stats_output_is_read_and_a_missing_script_is_not_a_number(tmp_path: Path) -> None:
    output = (
        "\nSQLite: 1,000 snapshots of 166 publications, inserted in 0 s\n"
        "  /stats summary (30d, best times over 365d)       p50     5.1 ms   p95     7.0 ms\n"
    )
    parsed = stats.parse(output)
    assert parsed["sqlite"]["cases"]["/stats summary (30d, best times over 365d)"] == {
        "p50_ms": 5.1,
        "p95_ms": 7.0,
    }
    missing = stats.run(Context(tmp_path), script=tmp_path / "absent.py")
    assert missing["status"] == "not measured"


def test_chaos_counts_lost_and_duplicated() -> None:
    S = PublicationState
    rows = {
        1: {"state": S.SENT, "error": None, "outcomes": ["sent"], "notices": set()},
        2: {"state": S.SENT, "error": None, "outcomes": ["crashed", "sent"], "notices": set()},
        3: {"state": S.FAILED, "error": "refused", "outcomes": ["rejected"], "notices": set()},
        4: {
            "state": S.UNCONFIRMED,
            "error": "no answer",
            "outcomes": ["unknown"],
            "notices": {"publication_unconfirmed"},
        },
        5: {"state": S.SCHEDULED, "error": None, "outcomes": [], "notices": set()},
    }
    counts, settled, reasons, problems = chaos.tally(rows, {1: 1, 2: 2, 4: 1})
    assert counts["delivered_once"] == 1
    assert counts["duplicated"] == 1
    assert counts["failed"] == 1
    assert counts["lost"] == 1
    assert counts["unconfirmed_total"] == 2
    assert reasons == {"refused": 1}
    assert {p["publication"] for p in problems} == {2, 5}
    assert "asked staff (on the platform)" in settled


@pytest.mark.timeout(300)
def test_a_small_chaos_run_settles_everything(tmp_path: Path) -> None:
    if POSTGRES_URL is None:
        pytest.skip("the chaos run uses PostgreSQL")
    results = chaos.run(
        40,
        kills=0,
        seed=1,
        workdir=tmp_path,
        restart_pg=False,
        deadline=150,
        fault_spec="sendMessage:drop_after=0.2",
    )
    assert results["passed"], results["problems"]
    assert results["counts"]["delivered_once"] + results["counts"]["unconfirmed_total"] >= 40
    assert "Chaos run" in report.chaos_markdown(results)
