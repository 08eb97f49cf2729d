"""What every scenario needs: a sandbox process, a fresh database, channels, posts, workers.

Workers and the sandbox are separate processes (the machine has 2 cores; sharing one GIL with
the emulator would measure the emulator). Times are wall-clock UTC everywhere: the sandbox's
ledger, the database and this driver read the same system clock.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from afisha.config import Settings
from afisha.wiring import Afisha, open_afisha
from content.domain.states import Platform, PublicationState
from content.queueing.bulk import BulkPost, queue_many
from content.storage.models import Channel, Publication
from content.storage.registry import add_channel
from content.storage.secrets import generate_key
from scheduler.engine import DEFAULT_CONCURRENCY

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get(
    "AFISHA_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
PG_DATABASE = "afisha_bench"
SECRET_KEY = generate_key()


def now() -> datetime:
    return datetime.now(UTC)


def percentile(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank), of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def lateness_summary(values: Sequence[float]) -> dict[str, float | None]:
    """p50, p99 and max of lateness figures (None for each when there are none)."""
    if not values:
        return {"p50": None, "p99": None, "max": None}
    return {
        "p50": round(percentile(values, 50), 2),
        "p99": round(percentile(values, 99), 2),
        "max": round(max(values), 2),
    }


def python_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    env.setdefault("NO_PROXY", "127.0.0.1,localhost")
    env.setdefault("PTB_TIMEDELTA", "true")
    return env


# --- the sandbox -------------------------------------------------------------------------------


@dataclass
class SandboxProcess:
    """`bench.sandbox_server` running in a child process."""

    process: subprocess.Popen[str]
    info: dict[str, Any]

    @property
    def base_url(self) -> str:
        return str(self.info["base_url"])

    @property
    def bot_token(self) -> str:
        return str(self.info["bot_token"])

    @property
    def chats(self) -> list[int]:
        return [int(c) for c in self.info["chats"]]

    def request(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(  # noqa: S310 - our own loopback URL
            f"{self.base_url}{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as answer:  # noqa: S310
            return json.loads(answer.read())

    def limits(self, **body: Any) -> Any:
        return self.request("POST", "/_sandbox/limits", body)

    def ledger(self) -> list[list[Any]]:
        """[platform, target, remote_id, text, unix time] of every published item."""
        return list(self.request("GET", "/_bench/ledger")["items"])

    def calls(self) -> dict[str, int]:
        return dict(self.request("GET", "/_bench/ledger")["calls"])

    def graph_calls(self) -> int:
        return int(self.request("GET", "/_bench/graph_calls")["http_calls"])

    def environment(self) -> dict[str, str]:
        return {
            "AFISHA_TELEGRAM_API_URL": self.base_url,
            "AFISHA_GRAPH_API_URL": f"{self.base_url}/graph",
            "AFISHA_TELEGRAM_TOKEN": self.bot_token,
        }

    def stop(self) -> None:
        stop_process(self.process)
        if self.process.stdout is not None:
            self.process.stdout.close()


def stop_process(process: subprocess.Popen[Any], timeout: float = 10.0) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def sandbox_process(telegram_channels: int = 0, faults: str = "") -> Iterator[SandboxProcess]:
    command = [sys.executable, "-m", "bench.sandbox_server"]
    command += ["--telegram-channels", str(telegram_channels), "--faults", faults]
    process = subprocess.Popen(  # noqa: S603 - our own module
        command, cwd=ROOT, env=python_env(), stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait()
        raise RuntimeError("the sandbox process did not start")
    sandbox = SandboxProcess(process, json.loads(line))
    try:
        yield sandbox
    finally:
        sandbox.stop()


# --- the database ------------------------------------------------------------------------------


def _ensure_pg_database() -> str:
    """The URL of the benchmark database (created on first use)."""
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": PG_DATABASE}
            )
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{PG_DATABASE}"'))
    finally:
        admin.dispose()
    return make_url(PG_ADMIN_URL).set(database=PG_DATABASE).render_as_string(hide_password=False)


@dataclass
class Database:
    """A fresh, empty database: a SQLite file, or a PostgreSQL schema of its own."""

    kind: str
    url: str
    schema: str | None = None
    admin_url: str | None = None

    def drop(self) -> None:
        if self.schema and self.admin_url:
            admin = create_engine(self.admin_url)
            with admin.begin() as connection:
                connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE'))
            admin.dispose()


@contextmanager
def fresh_database(kind: str, workdir: Path) -> Iterator[Database]:
    if kind == "sqlite":
        path = workdir / f"afisha-{uuid.uuid4().hex[:8]}.db"
        yield Database("sqlite", f"sqlite:///{path}")
        return
    base = _ensure_pg_database()
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(base)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    database = Database("postgresql", f"{base}?options=-csearch_path%3D{schema}", schema, base)
    try:
        yield database
    finally:
        database.drop()


# --- the installation --------------------------------------------------------------------------


@dataclass
class Installation:
    """An Afisha database with channels, and the settings its workers run with."""

    afisha: Afisha
    environment: dict[str, str]
    workdir: Path
    channel_names: list[str] = field(default_factory=list)

    def close(self) -> None:
        self.afisha.close()

    def queue_posts(
        self, due: Sequence[datetime], channels: Sequence[str] | None = None, label: str = "post"
    ) -> float:
        """Queue one post per due time, round-robin over `channels`; returns seconds taken."""
        names = list(channels or self.channel_names)
        posts = [
            BulkPost(f"{label} {i}", [names[i % len(names)]], when) for i, when in enumerate(due)
        ]
        started = time.perf_counter()
        with self.afisha.transaction() as (session, org):
            queue_many(session, org, posts, "bench")
        return time.perf_counter() - started

    def count(self, *states: PublicationState) -> int:
        with self.afisha.sessions() as session:
            query = select(func.count()).select_from(Publication)
            if states:
                query = query.where(Publication.state.in_(states))
            return int(session.scalar(query) or 0)

    def states(self) -> dict[str, int]:
        with self.afisha.sessions() as session:
            rows = session.execute(
                select(Publication.state, func.count()).group_by(Publication.state)
            )
            return {str(state): int(n) for state, n in rows}


def install(
    database: Database,
    sandbox: SandboxProcess,
    workdir: Path,
    *,
    telegram: int = 0,
    facebook: int = 0,
    instagram: int = 0,
) -> Installation:
    """Migrate the database and add channels: the first `telegram` chats, Pages, IG accounts."""
    environment = {
        "AFISHA_DATABASE_URL": database.url,
        "AFISHA_SECRET_KEY": SECRET_KEY,
        "AFISHA_MEDIA_DIR": str(workdir / "media"),
        "AFISHA_TIMEZONE": "UTC",
        **sandbox.environment(),
    }
    settings = Settings(
        database_url=database.url,
        secret_key=SECRET_KEY,
        telegram_token=sandbox.bot_token,
        telegram_api_url=sandbox.base_url,
        graph_api_url=f"{sandbox.base_url}/graph",
        media_dir=str(workdir / "media"),
    )
    afisha = open_afisha(settings, migrate=True)
    names: list[str] = []
    chats = sandbox.chats
    if telegram > len(chats):
        raise ValueError(f"the sandbox has {len(chats)} Telegram channels, not {telegram}")
    with afisha.transaction() as (session, org):
        for i, chat in enumerate(chats[:telegram]):
            add_channel(
                session,
                org,
                afisha.cipher,
                name=f"tg{i}",
                platform=Platform.TELEGRAM,
                external_id=str(chat),
                token=None,
                language=None,
                actor="bench",
            )
            names.append(f"tg{i}")
        for i, page in enumerate(sandbox.info["pages"][:facebook]):
            add_channel(
                session,
                org,
                afisha.cipher,
                name=f"fb{i}",
                platform=Platform.FACEBOOK,
                external_id=page["id"],
                token=page["token"],
                language=None,
                actor="bench",
            )
            names.append(f"fb{i}")
        for i, account in enumerate(sandbox.info["instagram"][:instagram]):
            add_channel(
                session,
                org,
                afisha.cipher,
                name=f"ig{i}",
                platform=Platform.INSTAGRAM,
                external_id=account["id"],
                token=account["token"],
                language=None,
                actor="bench",
                linked_page_id=account["page_id"],
            )
            names.append(f"ig{i}")
    return Installation(afisha, environment, workdir, names)


def channel_ids(installation: Installation) -> dict[str, int]:
    with installation.afisha.sessions() as session:
        return {c.name: c.id for c in session.scalars(select(Channel))}


# --- workers -----------------------------------------------------------------------------------


@dataclass
class WorkerProcess:
    process: subprocess.Popen[str]
    log: IO[str]
    started: float  # perf_counter at spawn

    def stop(self) -> None:
        stop_process(self.process, timeout=30)
        self.log.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.log.close()

    def rss_kib(self) -> tuple[int, int]:
        """Resident memory now and at its peak (VmRSS, VmHWM), in KiB."""
        values = {}
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
        return values["VmRSS"], values["VmHWM"]


# Afisha installed without the test tools (`make bench` makes it): what a library runs.
RUN_VENV = ROOT / ".venv-run"


def afisha_command(installed: bool = False) -> list[str]:
    """`afisha worker` of this environment, or (`installed`) of RUN_VENV when it exists."""
    run_script = RUN_VENV / "bin" / "afisha"
    if installed and run_script.exists():
        return [str(run_script), "worker"]
    script = Path(sys.executable).with_name("afisha")
    found = str(script) if script.exists() else shutil.which("afisha")
    if found is None:
        raise RuntimeError("the afisha command is not installed (pip install -e .)")
    return [found, "worker"]


def start_worker(
    installation: Installation,
    name: str,
    *,
    pacing: bool = True,
    concurrency: int = DEFAULT_CONCURRENCY,
    command: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
) -> WorkerProcess:
    """A `bench.worker` process (or `command`, e.g. `afisha worker`), logging to a file."""
    env = {**python_env(), **installation.environment, **(extra_env or {})}
    args = command or [
        sys.executable,
        "-m",
        "bench.worker",
        "--name",
        name,
        "--concurrency",
        str(concurrency),
        "--pacing" if pacing else "--no-pacing",
    ]
    log = (installation.workdir / f"{name}.log").open("w")
    started = time.perf_counter()
    process = subprocess.Popen(  # noqa: S603 - our own module or the afisha script
        args, cwd=installation.workdir, env=env, stdout=log, stderr=subprocess.STDOUT, text=True
    )
    return WorkerProcess(process, log, started)


def wait_ready(worker: WorkerProcess, timeout: float = 60.0) -> float:
    """Seconds from spawn until the worker logged that it started."""
    path = Path(worker.log.name)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "started" in path.read_text():
            return time.perf_counter() - worker.started
        if worker.process.poll() is not None:
            raise RuntimeError(f"the worker exited: {path.read_text()[-2000:]}")
        time.sleep(0.02)
    raise TimeoutError("the worker did not start")


def wait_until(condition: Any, timeout: float, every: float = 0.25) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(every)
    return bool(condition())


def sleep_until(moment: datetime) -> None:
    delay = (moment - now()).total_seconds()
    if delay > 0:
        time.sleep(delay)


def spread(count: int, start: datetime, seconds: float, seed: int = 9) -> list[datetime]:
    """`count` due times spread evenly-at-random over `seconds` from `start` (deterministic)."""
    import random

    rng = random.Random(seed)  # noqa: S311 - benchmark data
    return sorted(start + timedelta(seconds=rng.uniform(0, seconds)) for _ in range(count))


# --- scenarios ---------------------------------------------------------------------------------


@dataclass
class Context:
    """What a scenario is given: a scratch directory and the size factor (1.0 = the issue's)."""

    workdir: Path
    scale: float = 1.0

    def size(self, full: int, smallest: int = 10) -> int:
        return max(smallest, round(full * self.scale))

    def say(self, message: str) -> None:
        sys.stderr.write(f"[bench {datetime.now(UTC):%H:%M:%S}] {message}\n")
        sys.stderr.flush()


def ledger_by_text(items: list[list[Any]], prefix: str) -> dict[str, list[float]]:
    """Times each text starting with `prefix` reached the platform (twice = a duplicate)."""
    seen: dict[str, list[float]] = {}
    for _platform, _target, _remote, body, at in items:
        if str(body).startswith(prefix):
            seen.setdefault(str(body), []).append(float(at))
    return seen


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]
