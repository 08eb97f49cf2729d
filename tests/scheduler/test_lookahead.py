"""Claiming ahead: what falls due within the lookahead is leased early and begun at its time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, text, update

from channels.base import Checkpoint, Outgoing, Published, no_checkpoint
from content.domain.states import PublicationState
from content.storage.models import WAITING_SQL, Attempt, Publication
from scheduler.claims import CLAIMABLE
from scheduler.engine import BEGIN_AHEAD, Engine
from tests.scheduler.conftest import World
from tests.support.scripted_channel import ScriptedChannel

S = PublicationState
SOON = 0.001  # minutes: 60 ms after the manual clock's now


async def _until(condition: Callable[[], bool]) -> None:
    """Let the engine's claim (on its own thread) happen; fails if it never does."""
    for _ in range(400):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the engine never got there")


def _claimed(world: World) -> bool:
    return all(p.claimed_by is not None for p in world.publications())


async def test_a_publication_claimed_ahead_is_sent_at_its_time_not_before(world: World) -> None:
    world.queue("soon", ["tg1"], minutes=SOON)
    engine = world.engine()
    running = asyncio.create_task(engine.publish_due(lookahead=1.0))
    await _until(lambda: _claimed(world))
    [publication] = world.publications()
    assert publication.state is S.SCHEDULED  # leased, not begun: nothing was sent early
    assert world.adapters.get("tg1") is None or world.adapters["tg1"].published == []
    due = publication.due_at
    world.clock.advance(seconds=0.06)
    assert await running == 1
    assert [p.state for p in world.publications()] == [S.SENT]
    with world.sessions() as session:
        [started] = session.scalars(select(Attempt.started_at)).all()
    assert started >= due
    assert len(world.adapters["tg1"].published) == 1


async def test_a_publication_moved_after_its_claim_is_not_sent_and_is_given_back(
    world: World,
) -> None:
    world.queue("moved", ["tg1"], minutes=SOON)
    engine = world.engine()
    running = asyncio.create_task(engine.publish_due(lookahead=1.0))
    await _until(lambda: _claimed(world))
    later = world.clock.now() + timedelta(hours=1)
    with world.sessions.begin() as session:  # staff reschedule it meanwhile
        session.execute(update(Publication).values(due_at=later))
    world.clock.advance(seconds=0.06)
    assert await running == 0
    [publication] = world.publications()
    assert (publication.state, publication.attempts) == (S.SCHEDULED, 0)
    assert (publication.claimed_by, publication.due_at) == (None, later)
    assert "tg1" not in world.adapters or world.adapters["tg1"].published == []


async def test_draining_gives_back_what_was_claimed_ahead(world: World) -> None:
    world.queue("not yet", ["tg1", "tg2"], minutes=SOON * 10)
    engine: Engine = world.engine()
    running = asyncio.create_task(engine.publish_due(lookahead=1.0))
    await _until(lambda: _claimed(world))
    engine.drain()  # the worker is stopping
    assert await running == 0
    assert [(p.state, p.claimed_by) for p in world.publications()] == [(S.SCHEDULED, None)] * 2
    other = world.engine("w2")
    world.clock.advance(seconds=1)
    assert await other.publish_due() == 2  # another worker takes them at once


async def test_draining_ends_a_wait_for_what_is_due_later_at_once(world: World) -> None:
    # Claimed half an hour ahead, the engine waits until it is due; a worker stopping must not
    # wait with it (its round would hold the stop, and be cancelled with a traceback).
    world.queue("later", ["tg1"], minutes=30)
    engine: Engine = world.engine()
    running = asyncio.create_task(engine.publish_due(lookahead=3600.0))
    await _until(lambda: _claimed(world))
    engine.drain()
    assert await asyncio.wait_for(running, timeout=10) == 0
    assert [(p.state, p.claimed_by) for p in world.publications()] == [(S.SCHEDULED, None)]


def test_the_waiting_index_holds_exactly_the_claimable_states(world: World) -> None:
    world.queue("any", ["tg1"])
    with world.sessions.begin() as session:
        for state in PublicationState:
            session.execute(update(Publication).values(state=state))
            waiting = session.scalar(select(Publication.id).where(text(WAITING_SQL)).limit(1))
            assert (waiting is not None) == (state in CLAIMABLE), state


async def test_a_send_claimed_ahead_counts_against_its_rate_limit_from_when_it_begins(
    world: World,
) -> None:
    # Booked at the claim, a send made a second later could leave the pacer's one-second window
    # before it reaches the platform's, and let one send too many through (a 429).
    world.queue("soon", ["tg1"], minutes=SOON)
    engine = world.engine(pacing=True)
    [publication] = world.publications()
    rates = engine.rates_for(publication.channel)
    running = asyncio.create_task(engine.publish_due(lookahead=1.0))
    await _until(lambda: _claimed(world))
    assert engine.pacer.available(rates) == 20  # claimed, not yet booked: Telegram's 20/min
    world.clock.advance(seconds=0.06)
    assert await running == 1
    assert engine.pacer.available(rates) == 19


class _Watching(ScriptedChannel):
    """Notes, as each request goes out, the loop's time and its publication's stored state."""

    def __init__(self, world: World) -> None:
        super().__init__(checkpoints=False)
        self.world = world
        self.seen: list[tuple[float, PublicationState, int]] = []

    async def publish(
        self, outgoing: Outgoing, checkpoint: Checkpoint = no_checkpoint
    ) -> Published:
        [publication] = self.world.publications()
        self.seen.append(
            (asyncio.get_running_loop().time(), publication.state, publication.attempts)
        )
        return await super().publish(outgoing, checkpoint)


async def test_a_publication_due_in_a_moment_is_committed_first_and_sent_at_its_time(
    world: World,
) -> None:
    # Due within BEGIN_AHEAD: its attempt is committed at once, its request waits for the due
    # moment, so the commit is no part of its lateness.
    ahead = BEGIN_AHEAD.total_seconds() / 2
    world.queue("in a moment", ["tg1"], minutes=ahead / 60)
    watching = world.adapters["tg1"] = _Watching(world)
    engine = world.engine()
    began = asyncio.get_running_loop().time()
    assert await engine.publish_due(lookahead=1.0) == 1
    [(sent_at, state, attempts)] = watching.seen
    assert (state, attempts) == (S.SENDING, 1)  # committed before the request
    assert sent_at - began >= ahead  # and the request waited for the due moment
    [publication] = world.publications()
    assert publication.state is S.SENT
    with world.sessions() as session:
        [started] = session.scalars(select(Attempt.started_at)).all()
    assert started == publication.due_at  # the attempt starts when its request does


async def test_a_publication_due_later_is_not_begun_ahead_of_the_moment_before(
    world: World,
) -> None:
    world.queue("later", ["tg1"], minutes=SOON)  # 60 ms ahead: claimed, not begun
    engine = world.engine()
    running = asyncio.create_task(engine.publish_due(lookahead=1.0))
    await _until(lambda: _claimed(world))
    for _ in range(5):  # the engine waits for the moment before its due time
        await asyncio.sleep(0.005)
        assert [p.state for p in world.publications()] == [S.SCHEDULED]
    world.clock.advance(seconds=0.06)
    assert await running == 1
