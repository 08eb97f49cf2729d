"""Several workers on one PostgreSQL database; one worker on SQLite; APScheduler wake-ups."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, select

from content.domain.states import PostStatus, PublicationKind, PublicationState
from content.errors import ConfigurationError
from content.storage.models import Organization, Post, Publication
from scheduler.locks import WorkerLock
from scheduler.timing import WAKE_JOB, Worker
from tests.scheduler.conftest import World
from tests.support.scripted_channel import ScriptedChannel


def bulk_queue(world: World, count: int, channel_ids: list[int]) -> None:
    now = world.clock.now()
    with world.sessions.begin() as session:
        org = session.scalars(select(Organization)).one()
        posts = [
            Post(organization_id=org.id, text=f"post {i}", variants={}, status=PostStatus.QUEUED)
            for i in range(count)
        ]
        session.add_all(posts)
        session.flush()
        session.execute(
            insert(Publication),
            [
                {
                    "kind": PublicationKind.POST,
                    "post_id": post.id,
                    "channel_id": channel_ids[i % len(channel_ids)],
                    "due_at": now,
                    "state": PublicationState.SCHEDULED,
                    "attempts": 0,
                    "collect_stage": 0,
                }
                for i, post in enumerate(posts)
            ],
        )


def test_two_workers_never_claim_the_same_publication(world: World, database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers share a database only on PostgreSQL")
    bulk_queue(world, 1200, [1, 2, 3])
    sent: list[Counter[str]] = []

    def work(name: str) -> None:
        adapters: dict[str, ScriptedChannel] = {}
        engine = world.engine(name, concurrency=20, batch_size=25)
        engine.channels = lambda c: adapters.setdefault(c.name, ScriptedChannel(c.platform))

        async def drain() -> None:
            while await engine.publish_due():
                pass

        asyncio.run(drain())
        sent.append(Counter(o.text for a in adapters.values() for o in a.published))

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    total = sent[0] + sent[1]
    assert len(total) == 1200
    assert set(total.values()) == {1}  # each exactly once
    assert min(sum(c.values()) for c in sent) > 0  # both workers took a share
    assert {p.state for p in world.publications()} == {PublicationState.SENT}


def test_a_second_worker_on_sqlite_is_refused(tmp_path: object) -> None:
    url = f"sqlite:///{tmp_path}/afisha.db"
    first, second = WorkerLock(url), WorkerLock(url)
    first.acquire()
    try:
        with pytest.raises(ConfigurationError, match="already running on this SQLite database"):
            second.acquire()
    finally:
        first.release()
    second.acquire()  # free again once the first stops
    second.release()


async def test_the_wake_up_is_armed_at_the_next_due_publication(world: World) -> None:
    world.queue("now", ["tg1"])
    engine = world.engine()
    worker = Worker(engine, sweep_seconds=3600)
    worker.scheduler.start()
    try:
        world.queue("later", ["tg1"], minutes=30)
        assert await worker.publish_round() == 1
        job = worker.scheduler.get_job(WAKE_JOB)
        # The engine's clock is manual; the wake-up is set for the next due publication, less
        # the lookahead (it is claimed ahead and sent at its time).
        assert job is not None
        expected = world.clock.now() + timedelta(minutes=30) - engine.settings.lookahead
        assert abs((job.next_run_time - max(expected, datetime.now(UTC))).total_seconds()) < 1
        assert len(worker.scheduler.get_jobs()) == 1  # one wake-up, not one job per post
    finally:
        await worker.stop()
