"""The engine's promise: on time, once, or someone is told why not."""

from __future__ import annotations

from sqlalchemy import func, select

from channels.base import (
    AuthExpired,
    Metrics,
    NotSent,
    OutcomeUnknown,
    RateLimited,
    Rejected,
    Verdict,
)
from content.domain.states import ChannelStatus, PostStatus, PublicationState
from content.storage.models import Attempt, Channel, EngagementSnapshot, Notice, Post
from content.storage.registry import set_channel_status
from scheduler.collect import collect_due
from scheduler.recovery import expire_leases, mark_missed, reconcile_unconfirmed
from tests.scheduler.conftest import World

S = PublicationState


def states(world: World) -> list[PublicationState]:
    return [p.state for p in world.publications()]


def notices(world: World) -> list[str]:
    with world.sessions() as session:
        return list(session.scalars(select(Notice.kind).order_by(Notice.id)))


async def test_due_publications_are_sent_once_and_later_ones_wait(world: World) -> None:
    post_id = world.queue("Book fair", ["tg1", "fb"])
    world.queue("Next week", ["tg1"], minutes=60)
    engine = world.engine()
    assert await engine.publish_due() == 2
    assert await engine.publish_due() == 0  # nothing is sent twice
    assert states(world) == [S.SENT, S.SENT, S.SCHEDULED]
    assert [o.text for o in world.adapters["tg1"].published] == ["Book fair"]
    with world.sessions() as session:
        assert session.get_one(Post, post_id).status is PostStatus.DONE
        attempts = session.scalars(select(Attempt.outcome)).all()
        assert attempts == ["sent", "sent"]
    sent = world.publications()[0]
    assert sent.remote_id is not None
    assert sent.sent_at == world.clock.now()
    world.clock.advance(minutes=60)
    assert await engine.publish_due() == 1


async def test_rate_limited_channel_waits_while_others_continue(world: World) -> None:
    for i in range(3):
        world.queue(f"post {i}", ["tg1", "tg2"])
    world.adapters["tg1"] = tg1 = world.adapter_for(_channel(world, "tg1"))
    tg1.failures = [RateLimited("Too Many Requests: retry after 30", 30)] * 3
    engine = world.engine()
    await engine.publish_due()
    by_channel = {}
    for p in world.publications():
        by_channel.setdefault(p.channel.name, []).append(p)
    assert {p.state for p in by_channel["tg2"]} == {S.SENT}
    assert {p.state for p in by_channel["tg1"]} == {S.RETRY_WAIT}
    for p in by_channel["tg1"]:
        wait = (p.due_at - world.clock.now()).total_seconds()
        assert 30 <= wait <= 37  # honours retry_after, with a little jitter
    assert await engine.publish_due() == 0  # not before the time the platform asked
    world.clock.advance(seconds=40)
    await engine.publish_due()
    assert set(states(world)) == {S.SENT}
    assert len(tg1.published) == 3


async def test_not_sent_is_retried_with_backoff_then_failed_with_a_reason(world: World) -> None:
    world.queue("flaky", ["tg1"])
    adapter = world.adapter_for(_channel(world, "tg1"))
    adapter.failures = [NotSent("connection refused")] * 5
    engine = world.engine()
    delays = []
    for _ in range(5):
        await engine.publish_due()
        publication = world.publications()[0]
        if publication.state is S.FAILED:
            break
        assert publication.state is S.RETRY_WAIT
        delays.append((publication.due_at - world.clock.now()).total_seconds())
        world.clock.set(publication.due_at)
    assert delays == sorted(delays)
    assert 24 <= delays[0] <= 36
    publication = world.publications()[0]
    assert publication.state is S.FAILED
    assert publication.last_error == "gave up after 5 attempts: connection refused"
    assert notices(world) == ["publication_failed"]
    assert adapter.published == []


async def test_rejected_content_fails_at_once_and_staff_hear_why(world: World) -> None:
    world.queue("too long", ["tg1"])
    world.adapter_for(_channel(world, "tg1")).failures = [Rejected("message is too long")]
    await world.engine().publish_due()
    publication = world.publications()[0]
    assert (publication.state, publication.last_error) == (S.FAILED, "message is too long")
    assert notices(world) == ["publication_failed"]


async def test_token_expiry_pauses_only_that_channel_until_it_is_fixed(world: World) -> None:
    world.queue("one", ["fb", "tg1"])
    world.queue("two", ["fb"], minutes=5)
    fb = world.adapter_for(_channel(world, "fb"))
    fb.failures = [AuthExpired("token revoked")]
    engine = world.engine()
    await engine.publish_due()
    world.clock.advance(minutes=5)
    await engine.publish_due()
    by_name = {(p.channel.name, p.post_id): p.state for p in world.publications()}
    assert by_name == {("fb", 1): S.PAUSED, ("tg1", 1): S.SENT, ("fb", 2): S.SCHEDULED}
    assert _channel(world, "fb").status is ChannelStatus.AUTH_EXPIRED
    assert notices(world) == ["channel_auth_expired"]  # told once
    with world.sessions.begin() as session:
        org = session.get_one(Channel, _channel(world, "fb").id).organization_id
        from content.storage.models import Organization

        set_channel_status(
            session,
            session.get_one(Organization, org),
            "fb",
            ChannelStatus.ACTIVE,
            "test",
            now=world.clock.now(),
        )
    world.clock.advance(minutes=1)
    await engine.publish_due()
    assert set(states(world)) == {S.SENT}


async def test_unknown_outcome_is_reconciled_never_resent(world: World) -> None:
    world.queue("did it post?", ["fb", "tg1"])
    fb = world.adapter_for(_channel(world, "fb"))
    tg = world.adapter_for(_channel(world, "tg1"))
    fb.lose_response = OutcomeUnknown("read timeout")
    tg.lose_response = OutcomeUnknown("read timeout")
    fb.verdict = Verdict.POSTED
    tg.verdict = Verdict.UNKNOWN  # a bot cannot read channel history
    engine = world.engine()
    await engine.publish_due()
    assert states(world) == [S.UNCONFIRMED, S.UNCONFIRMED]
    assert await engine.publish_due() == 0
    tally = await reconcile_unconfirmed(engine)
    assert tally == {"posted": 1, "not_posted": 0, "unknown": 1}
    fb_pub, tg_pub = world.publications()
    assert fb_pub.state is S.SENT
    assert fb_pub.remote_id in fb.posted
    assert tg_pub.state is S.UNCONFIRMED
    assert notices(world) == ["publication_unconfirmed"]
    for _ in range(4):
        world.clock.advance(minutes=2)
        await reconcile_unconfirmed(engine)
        await engine.publish_due()
    assert notices(world) == ["publication_unconfirmed"]  # asked once
    assert len(fb.published) == 1
    assert len(tg.published) == 1


async def test_a_crash_between_send_and_record_gives_unconfirmed_not_a_second_post(
    world: World,
) -> None:
    world.queue("crash", ["tg1"])
    engine = world.engine()
    begun, ahead = engine._claim(10)  # claimed and begun (SENDING committed) together
    assert ahead == []
    [(job, _attempt)] = begun
    adapter = world.adapter_for(_channel(world, "tg1"))
    await adapter.publish(job.outgoing)  # the request went out, then the worker died
    world.clock.advance(minutes=3)
    restarted = world.engine("w2")
    with world.sessions.begin() as session:
        assert expire_leases(session, world.clock.now()) == 1
    assert await restarted.publish_due() == 0
    assert states(world) == [S.UNCONFIRMED]
    assert len(adapter.published) == 1
    with world.sessions() as session:
        assert session.scalars(select(Attempt.outcome)).all() == ["crashed"]


async def test_downtime_within_grace_publishes_beyond_grace_asks(world: World) -> None:
    world.queue("ten minutes late", ["tg1"], minutes=-10)
    world.queue("an hour late", ["tg1"], minutes=-60)
    engine = world.engine()
    with world.sessions.begin() as session:
        assert mark_missed(session, world.clock.now(), engine.settings.grace) == 1
    await engine.publish_due()
    assert states(world) == [S.SENT, S.MISSED]
    assert notices(world) == ["publication_missed"]
    assert "60 minutes overdue" in (world.publications()[1].last_error or "")


async def test_engagement_is_collected_on_a_decaying_schedule(world: World) -> None:
    world.queue("popular", ["fb"])
    engine = world.engine()
    await engine.publish_due()
    fb = world.adapters["fb"]
    remote = world.publications()[0].remote_id
    assert remote is not None
    assert await collect_due(engine) == 0  # first collection an hour after sending
    world.clock.advance(hours=1)
    fb.metrics[remote] = Metrics(
        remote, reactions=5, comments=1, shares=None, views=80, source="graph"
    )
    assert await collect_due(engine) == 1
    assert await collect_due(engine) == 0
    world.clock.advance(days=2)  # downtime: the 6h and 24h stages are not replayed
    assert await collect_due(engine) == 1
    publication = world.publications()[0]
    assert publication.collect_stage == 3
    # Reports read the latest counts kept on the publication.
    assert (publication.latest_reactions, publication.latest_views) == (5, 80)
    with world.sessions() as session:
        snapshot = session.scalars(select(EngagementSnapshot)).first()
        assert snapshot is not None
        assert (snapshot.reactions, snapshot.shares, snapshot.views) == (5, None, 80)
        assert session.scalar(select(func.count()).select_from(EngagementSnapshot)) == 2


def _channel(world: World, name: str) -> Channel:
    with world.sessions() as session:
        return session.scalars(select(Channel).where(Channel.name == name)).one()
