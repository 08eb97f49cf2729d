"""The one list of periodic jobs: what each process schedules, and what `--once` reports."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

import afisha.jobs
from afisha.config import Settings
from afisha.jobs import bot_jobs, engine_jobs, worker_jobs
from afisha.runtime import EngineParts, build_engine
from afisha.wiring import Afisha, open_afisha
from bot.app import build_application
from bot.services import BotServices
from channels.download import download_image
from content.storage.secrets import generate_key
from scheduler.clock import SystemClock
from scheduler.timing import Worker, run_once

WORKER_JOBS = [
    "reconcile",
    "collect",
    "prepare",
    "follower-reminders",
    "token-check",
    "feeds",
    "partners",
]
BOT_JOBS = ["notices", "weekly-digest", "monthly-report"]


@pytest.fixture
def running(tmp_path: Path) -> Iterator[tuple[Afisha, EngineParts]]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/afisha.db",
        secret_key=generate_key(),
        telegram_token="7000000001:AAnotUsedForAnyRequestInThisTest0123",
        telegram_api_url="http://127.0.0.1:9",  # nothing is sent: no channel, no follower
        media_dir=str(tmp_path / "media"),
    )
    afisha = open_afisha(settings)
    try:
        yield afisha, build_engine(afisha)
    finally:
        afisha.close()


def test_the_module_lists_every_job_the_code_makes(
    running: tuple[Afisha, EngineParts],
) -> None:
    afisha_, parts = running
    services = BotServices(
        afisha_.sessions, SystemClock(), afisha_.settings.media_path, fetch_image=download_image
    )
    application = build_application(services, "7000000001:AAx", "http://127.0.0.1:9")
    made = [*worker_jobs(afisha_, parts), *bot_jobs(application, services)]
    documented = re.findall(
        r"^\| ([a-z-]+) +\| ([0-9]+) (s|min|h) +\|", afisha.jobs.__doc__ or "", re.M
    )
    unit = {"s": 1, "min": 60, "h": 3600}
    assert [(job.name, job.seconds) for job in made] == [
        (name, int(amount) * unit[u]) for name, amount, u in documented
    ]
    assert [job.name for job in made] == WORKER_JOBS + BOT_JOBS
    assert [job.name for job in engine_jobs(parts.engine)] == WORKER_JOBS[:3]


def test_follower_reminders_need_the_bot_token(tmp_path: Path) -> None:
    afisha_ = open_afisha(Settings(database_url=f"sqlite:///{tmp_path}/a.db"))
    try:
        names = [job.name for job in worker_jobs(afisha_, build_engine(afisha_))]
    finally:
        afisha_.close()
    assert names == [name for name in WORKER_JOBS if name != "follower-reminders"]


async def test_a_worker_schedules_each_job_it_is_given(
    running: tuple[Afisha, EngineParts],
) -> None:
    afisha_, parts = running
    worker = Worker(parts.engine, sweep_seconds=3600, periodic=worker_jobs(afisha_, parts))
    worker.start()
    try:
        scheduled = {job.id for job in worker.scheduler.get_jobs()}
    finally:
        await worker.stop()
    assert {f"afisha-{name}" for name in WORKER_JOBS} <= scheduled
    assert not {f"afisha-{name}" for name in BOT_JOBS} & scheduled


async def test_once_runs_each_job_and_reports_it(running: tuple[Afisha, EngineParts]) -> None:
    afisha_, parts = running
    report = await run_once(parts.engine, worker_jobs(afisha_, parts))
    assert list(report) == [
        "crashed",
        "missed",
        "attempts",
        "reconciled",
        "snapshots",
        "prepare",
        "follower-reminders",
        "token-check",
        "feeds",
        "partners",
    ]
    assert report["attempts"] == 0
