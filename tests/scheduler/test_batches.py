"""Outcomes recorded together, in the transaction that begins the next sends."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from channels.base import NotSent, Verdict
from content.domain.states import Platform, PostStatus, PublicationState
from content.storage.models import Attempt, Post, Publication
from scheduler.engine import Engine
from scheduler.recovery import expire_leases, reconcile_unconfirmed
from tests.scheduler.conftest import World
from tests.support.scripted_channel import ScriptedChannel


def quiet(world: World) -> None:
    """Channels that save no progress mid-send: their sends take the bulk record."""
    for name, platform in (("tg1", Platform.TELEGRAM), ("tg2", Platform.TELEGRAM)):
        world.adapters[name] = ScriptedChannel(platform, checkpoints=False)


async def test_sends_are_recorded_together_with_the_next_begin(world: World) -> None:
    quiet(world)
    posts = [world.queue(f"Reading {i}", ["tg1", "tg2"]) for i in range(5)]
    engine = world.engine(concurrency=2)
    assert await engine.publish_due() == 10
    publications = world.publications()
    assert {p.state for p in publications} == {PublicationState.SENT}
    assert all(p.remote_id and p.remote_url and p.sent_at for p in publications)
    assert all(p.claimed_by is None and p.lease_until is None for p in publications)
    with world.sessions() as session:
        outcomes = session.scalars(select(Attempt.outcome)).all()
        statuses = session.scalars(select(Post.status).where(Post.id.in_(posts))).all()
    assert outcomes == ["sent"] * 10
    assert set(statuses) == {PostStatus.DONE}


async def test_a_failed_bulk_record_is_recorded_one_by_one_and_the_next_still_begin(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    quiet(world)
    for i in range(6):
        world.queue(f"Exhibition {i}", ["tg1"])
    failures = []
    bulk = Engine._record_sent_many

    def failing_once(self: Engine, *args: Any) -> Any:
        if not failures:
            failures.append(len(args[1]))
            raise RuntimeError("the database went away for a moment")
        return bulk(self, *args)

    monkeypatch.setattr(Engine, "_record_sent_many", failing_once)
    engine = world.engine(concurrency=2)
    assert await engine.publish_due() == 6
    assert failures  # the bulk record did fail...
    assert failures[0] >= 1  # ...with sends in it
    publications = world.publications()
    assert [p.state for p in publications] == [PublicationState.SENT] * 6
    assert len({p.remote_id for p in publications}) == 6
    assert len(world.adapters["tg1"].published) == 6  # each sent once
    with world.sessions() as session:
        assert session.scalars(select(Attempt.outcome)).all() == ["sent"] * 6


async def test_a_crash_after_a_batch_begin_leaves_every_row_reconcilable(world: World) -> None:
    quiet(world)
    for i in range(4):
        world.queue(f"Lecture {i}", ["tg1", "tg2"])
    engine = world.engine()
    now = world.clock.now()
    # Claimed and begun as one batch (on PostgreSQL: one statement each, committed at once)...
    begun, ahead = await engine._claim_soon(10, now, 10)
    assert (len(begun), ahead) == (8, [])
    engine.store.close()  # ...and the worker dies before any request goes out
    with world.sessions() as session:
        attempts = session.scalars(select(Attempt)).all()
    assert {p.state for p in world.publications()} == {PublicationState.SENDING}
    assert sorted(a.id for a in attempts) == sorted(attempt for _, attempt in begun)
    assert all(a.finished_at is None for a in attempts)
    world.clock.advance(minutes=3)  # past the lease
    with world.sessions.begin() as session:
        assert expire_leases(session, world.clock.now()) == 8
    assert {p.state for p in world.publications()} == {PublicationState.UNCONFIRMED}
    for adapter in world.adapters.values():
        adapter.verdict = Verdict.NOT_POSTED
    restarted = world.engine("w2")
    tally = await reconcile_unconfirmed(restarted)
    assert tally["not_posted"] == 8
    assert await restarted.publish_due() == 8
    assert {p.state for p in world.publications()} == {PublicationState.SENT}
    sent = [o.text for a in world.adapters.values() for o in a.published]
    assert sorted(sent) == sorted(f"Lecture {i}" for i in range(4) for _ in ("tg1", "tg2"))
    with world.sessions() as session:
        outcomes = session.scalars(select(Attempt.outcome).order_by(Attempt.id)).all()
    assert outcomes == ["crashed"] * 8 + ["sent"] * 8


async def test_a_publication_moved_after_its_claim_is_not_begun_and_is_given_back(
    world: World,
) -> None:
    quiet(world)
    world.queue("Film night", ["tg1"])
    engine = world.engine()
    begun, ahead = await engine._claim_soon(10, world.clock.now(), 0)  # claimed, not begun
    assert (begun, len(ahead)) == ([], 1)
    later = world.clock.now() + timedelta(hours=1)
    with world.sessions.begin() as session:
        session.get_one(Publication, ahead[0].publication_id).due_at = later
    assert await engine._begin_many(ahead) == []
    engine.store.close()
    [publication] = world.publications()
    assert (publication.state, publication.due_at) == (PublicationState.SCHEDULED, later)
    assert (publication.claimed_by, publication.lease_until) == (None, None)
    with world.sessions() as session:
        assert session.scalars(select(Attempt)).all() == []


async def test_a_post_is_done_only_once_its_last_publication_is_recorded_sent(
    world: World,
) -> None:
    quiet(world)
    post = world.queue("Open day", ["tg1", "tg2"])
    world.adapters["tg2"].failures = [NotSent("connection refused")]
    engine = world.engine(concurrency=4)
    assert await engine.publish_due() == 2
    assert [p.state for p in world.publications()] == [
        PublicationState.SENT,
        PublicationState.RETRY_WAIT,
    ]
    with world.sessions() as session:
        assert session.get_one(Post, post).status is PostStatus.QUEUED
    world.clock.advance(hours=1)
    assert await engine.publish_due() == 1
    with world.sessions() as session:
        assert session.get_one(Post, post).status is PostStatus.DONE
