"""Outcomes recorded together, in the transaction that begins the next sends."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from content.domain.states import Platform, PostStatus, PublicationState
from content.storage.models import Attempt, Post
from scheduler.engine import Engine
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
