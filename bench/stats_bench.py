"""How fast /stats, the monthly report and the network report answer over 1,000,000 snapshots.

Run: `python -m bench.stats_bench [--snapshots N] [--repeat N] [--no-postgres]`.

Fills a fresh SQLite file and, when one answers, a PostgreSQL schema of its own with bulk
inserts: a regional network of 300 libraries (the head with six channels, 299 members with two
each), a publication every ~10 minutes over three years, six snapshots each (the collector's
stages), every publication carrying its latest counts as `record_snapshot` leaves them. Then
times, on new sessions, the /stats summary (`stats_summary`: totals, the previous period, per
channel, top posts, best times over a year) of every library and of one member library, the
monthly report's queries (`build_monthly_report`) and the network report's
(`build_network_report`: one row per library, totals, top posts), and prints p50/p95. Not a
test: a figure to read.
"""

from __future__ import annotations

import argparse
import os
import random
import socket
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.orm import Session

from content.analytics.metrics import interactions
from content.analytics.network import build_network_report
from content.analytics.report import build_monthly_report
from content.analytics.stats import stats_summary
from content.queueing.bulk import insert_rows
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import (
    Channel,
    EngagementSnapshot,
    Event,
    Organization,
    Post,
    Publication,
)

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
TZ = ZoneInfo("Asia/Almaty")
STAGE_HOURS = (1, 6, 24, 72, 168, 720)
PLATFORMS = ("telegram", "telegram", "facebook", "facebook", "instagram", "instagram")
LIBRARIES = 300  # the regional library (id 1, the six channels above) and 299 members
MEMBER_PLATFORMS = ("telegram", "facebook")  # two channels each
CHUNK = 20_000


def channel_rows(libraries: int) -> list[dict[str, Any]]:
    """The head's six channels (ids 1-6), then two for each member library (org id 2, 3, ...)."""
    owners = [(1, p) for p in PLATFORMS]
    owners += [(org, p) for org in range(2, libraries + 1) for p in MEMBER_PLATFORMS]
    return [
        {
            "id": i + 1,
            "organization_id": org,
            "platform": p,
            "name": f"{p}-{i + 1}",
            "external_id": str(1000 + i),
            "language": "ru",
            "status": "active",
            "created_at": NOW,
        }
        for i, (org, p) in enumerate(owners)
    ]


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _counts(platform: str, rng: random.Random, scale: float) -> dict[str, int | None]:
    """What each platform reports, growing with `scale` (0..1) as the stages pass."""

    def n(top: int) -> int:
        return int(rng.randint(0, top) * scale)

    if platform == "telegram":
        return {
            "reactions": n(60),
            "comments": None,
            "shares": None,
            "views": None,
            "reach": None,
            "saves": None,
        }
    if platform == "facebook":
        reach = n(4000) if rng.random() < 0.7 else None
        return {
            "reactions": n(120),
            "comments": n(20),
            "shares": n(10),
            "views": reach,
            "reach": reach,
            "saves": None,
        }
    return {
        "reactions": n(300),
        "comments": n(40),
        "shares": None,
        "views": n(8000),
        "reach": n(5000),
        "saves": n(30),
    }


def _rows(
    snapshots: int, seed: int, channels: list[dict[str, Any]]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """(table, row) in insertion order: posts, events, publications, then their snapshots.

    Each post's three publications go to three channels in a row (mostly one library's two
    and the next one's first: the post is the first channel's library's)."""
    rng = random.Random(seed)  # noqa: S311 - benchmark data, not secrets
    publications = snapshots // len(STAGE_HOURS)
    span = timedelta(days=3 * 365)
    step = span / publications
    start = NOW - span
    for index in range(publications):
        sent = start + step * index + timedelta(seconds=rng.randint(0, 300))
        channel = channels[index % len(channels)]
        # Three publications per post; every twentieth "post" is an event's announcement.
        group = index // 3 + 1
        event_id = group // 20 if group % 20 == 0 else None
        post_id = None if event_id else group
        stages = [(sent + timedelta(hours=h), h / STAGE_HOURS[-1]) for h in STAGE_HOURS]
        platform = channel["platform"]
        measured = [(at, _counts(platform, rng, 0.2 + 0.8 * s)) for at, s in stages]
        if index % 3 == 0 and post_id:
            yield (
                "post",
                {
                    "id": post_id,
                    "organization_id": channel["organization_id"],
                    "text": f"Post {post_id}\nbody",
                    "variants": {},
                    "status": "done",
                    "created_at": sent,
                },
            )
        if index % 3 == 0 and event_id:
            yield (
                "event",
                {
                    "id": event_id,
                    "organization_id": channel["organization_id"],
                    "title": f"Event {event_id}",
                    "starts_at": sent + timedelta(days=7),
                    "language": "ru",
                    "reminder_offsets": [],
                    "status": "scheduled",
                    "created_at": sent,
                },
            )
        latest_at, latest = measured[-1]
        yield (
            "publication",
            {
                "id": index + 1,
                "kind": "announcement" if event_id else "post",
                "post_id": None if event_id else post_id,
                "event_id": event_id,
                "channel_id": channel["id"],
                "due_at": sent,
                "state": "sent",
                "attempts": 1,
                "remote_id": str(index),
                "remote_url": f"https://example.org/{index}",
                "sent_at": sent,
                "collect_stage": len(STAGE_HOURS),
                "updated_at": latest_at,
                "latest_collected_at": latest_at,
                **{f"latest_{k}": v for k, v in latest.items()},
                "latest_interactions": interactions(
                    latest["reactions"], latest["comments"], latest["shares"], latest["saves"]
                ),
            },
        )
        for at, counts in measured:
            yield (
                "engagement_snapshot",
                {"publication_id": index + 1, "collected_at": at, "source": "bench", **counts},
            )


def fill(engine: Engine, snapshots: int, libraries: int = LIBRARIES) -> float:
    """Schema and data; returns the seconds the inserts took."""
    upgrade(engine)
    tables = {
        "post": Post.__table__,
        "event": Event.__table__,
        "publication": Publication.__table__,
        "engagement_snapshot": EngagementSnapshot.__table__,
    }
    began = time.perf_counter()
    with engine.begin() as connection:
        connection.execute(
            insert(Organization),
            [
                {
                    "id": org,
                    "name": "Bench Library" if org == 1 else f"Bench member library {org}",
                    "parent_id": None if org == 1 else 1,
                    "timezone": TZ.key,
                    "language": "ru",
                    "requires_approval": False,
                    "created_at": NOW,
                }
                for org in range(1, libraries + 1)
            ],
        )
        channels = channel_rows(libraries)
        connection.execute(insert(Channel), channels)
        # Parents go in before their children: flush every table in that order per chunk.
        pending: dict[str, list[dict[str, Any]]] = {name: [] for name in tables}
        count = 0
        for table, row in _rows(snapshots, seed=7, channels=channels):
            pending[table].append(row)
            count += 1
            if count % CHUNK == 0:
                _flush(connection, tables, pending)
        _flush(connection, tables, pending)
        if engine.dialect.name == "postgresql":
            connection.execute(
                text(
                    "SELECT setval(pg_get_serial_sequence('publication', 'id'), "
                    "(SELECT max(id) FROM publication))"
                )
            )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text("ANALYZE"))
    return time.perf_counter() - began


def _flush(
    connection: Any, tables: dict[str, Any], pending: dict[str, list[dict[str, Any]]]
) -> None:
    for name, rows in pending.items():
        # Straight through the driver (COPY on PostgreSQL): SQLAlchemy's executemany spent
        # most of the scenario's time filling the tables.
        insert_rows(connection, tables[name], rows)
        rows.clear()


def timed(engine: Engine, work: Callable[[Session], object], repeat: int) -> tuple[float, float]:
    """p50 and p95 in milliseconds of `work` on a new session each time (after one warm-up)."""
    sessions = session_factory(engine)
    samples = []
    for attempt in range(repeat + 1):
        with sessions() as session:
            began = time.perf_counter()
            work(session)
            elapsed = (time.perf_counter() - began) * 1000
        if attempt:
            samples.append(elapsed)
    samples.sort()
    p95 = samples[max(0, round(0.95 * len(samples)) - 1)]
    return statistics.median(samples), p95


def run(name: str, engine: Engine, snapshots: int, repeat: int) -> None:
    seconds = fill(engine, snapshots)
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT count(*) FROM engagement_snapshot")).scalar_one()
        sent = connection.execute(text("SELECT count(*) FROM publication")).scalar_one()
    say(f"\n{name}: {stored:,} snapshots of {sent:,} publications, inserted in {seconds:.0f} s")
    month = date(2026, 10, 1)
    cases: dict[str, Callable[[Session], object]] = {
        "/stats summary of every library (30d, best times over 365d)": lambda s: stats_summary(
            s, NOW, TZ, timedelta(days=30)
        ),
        "a member library's /stats (30d, best times over 365d)": lambda s: stats_summary(
            s, NOW, TZ, timedelta(days=30), orgs={2}
        ),
        "monthly report queries (2026-10, the head's own channels)": lambda s: build_monthly_report(
            s, s.get_one(Organization, 1), month, NOW
        ),
        f"network report queries (2026-10, {LIBRARIES} libraries)": lambda s: build_network_report(
            s, s.get_one(Organization, 1), month, NOW
        ),
    }
    for label, work in cases.items():
        p50, p95 = timed(engine, work, repeat)
        say(f"  {label:<46} p50 {p50:7.1f} ms   p95 {p95:7.1f} ms")


def _postgres_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=0.5):
            return True
    except OSError:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--snapshots", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--postgres", default=os.environ.get("AFISHA_TEST_DATABASE_URL", POSTGRES))
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        engine = make_engine(f"sqlite:///{Path(directory) / 'bench.db'}")
        try:
            run("SQLite", engine, args.snapshots, args.repeat)
        finally:
            engine.dispose()
    if args.no_postgres or not _postgres_answers():
        say("\nPostgreSQL: not answering on 127.0.0.1:5432, skipped")
        return
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = create_engine(args.postgres)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    separator = "&" if "?" in args.postgres else "?"
    engine = make_engine(f"{args.postgres}{separator}options=-csearch_path%3D{schema}")
    try:
        run("PostgreSQL", engine, args.snapshots, args.repeat)
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


if __name__ == "__main__":
    main()
