"""The failure table: each kind of channel error gives its attempt outcome, next state and
consequence, looked up along the error's class hierarchy."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from channels.base import (
    AlreadyPublished,
    AuthExpired,
    ChannelError,
    NotSent,
    OutcomeUnknown,
    RateLimited,
    Rejected,
)
from content.domain.states import ChannelStatus, PublicationState
from content.storage.models import Attempt, Channel, Notice
from scheduler.outcomes import FAILURES, rule_for
from tests.scheduler.conftest import World

S = PublicationState


class StrangeError(ChannelError):
    """A channel error of a kind the table does not list."""


class QuietlyRefused(NotSent):
    """A kind of NotSent the table does not list by name."""


@pytest.mark.parametrize(
    ("error", "outcome", "state", "notice", "channel_status"),
    [
        (RateLimited("slow down", 40), "rate_limited", S.RETRY_WAIT, None, ChannelStatus.ACTIVE),
        (NotSent("connection refused"), "not_sent", S.RETRY_WAIT, None, ChannelStatus.ACTIVE),
        (QuietlyRefused("refused"), "not_sent", S.RETRY_WAIT, None, ChannelStatus.ACTIVE),
        (Rejected("too long"), "rejected", S.FAILED, "publication_failed", ChannelStatus.ACTIVE),
        (
            AuthExpired("token revoked"),
            "auth_expired",
            S.PAUSED,
            "channel_auth_expired",
            ChannelStatus.AUTH_EXPIRED,
        ),
        (AlreadyPublished("seen"), "duplicate", S.UNCONFIRMED, None, ChannelStatus.ACTIVE),
        (OutcomeUnknown("timed out"), "unknown", S.UNCONFIRMED, None, ChannelStatus.ACTIVE),
        (StrangeError("odd"), "unknown", S.UNCONFIRMED, None, ChannelStatus.ACTIVE),
    ],
)
async def test_each_error_kind_is_recorded_as_the_table_says(
    world: World,
    error: ChannelError,
    outcome: str,
    state: PublicationState,
    notice: str | None,
    channel_status: ChannelStatus,
) -> None:
    world.queue("Poetry evening", ["tg1"])
    world.adapter_for(_channel(world, "tg1")).failures = [error]
    engine = world.engine()
    assert await engine.publish_due() == 1
    [publication] = world.publications()
    assert publication.state is state
    assert publication.last_error == error.reason
    assert (publication.claimed_by, publication.lease_until) == (None, None)
    with world.sessions() as session:
        assert session.scalars(select(Attempt.outcome)).all() == [outcome]
        assert session.scalars(select(Notice.kind)).all() == ([notice] if notice else [])
        assert _channel(world, "tg1").status is channel_status
    if state is S.RETRY_WAIT:
        assert publication.due_at > world.clock.now()  # later, not again at once
    if isinstance(error, RateLimited):  # never earlier than the platform asked
        assert publication.due_at >= world.clock.now() + timedelta(seconds=40)


async def test_not_sent_too_often_fails_with_how_many_tries_it_took(world: World) -> None:
    world.queue("Chess club", ["tg1"])
    engine = world.engine()
    tries = engine.settings.retry.max_not_sent
    world.adapter_for(_channel(world, "tg1")).failures = [NotSent("refused")] * tries
    for _ in range(tries):
        world.clock.advance(hours=1)  # past any backoff
        assert await engine.publish_due() == 1
    [publication] = world.publications()
    assert publication.state is S.FAILED
    assert publication.last_error == f"gave up after {tries} attempts: refused"
    with world.sessions() as session:
        assert session.scalars(select(Notice.kind)).all() == ["publication_failed"]


def test_the_nearest_listed_kind_decides() -> None:
    assert rule_for(RateLimited("x", 1)) is FAILURES[RateLimited]  # not its parent NotSent's
    assert rule_for(QuietlyRefused("x")) is FAILURES[NotSent]
    assert rule_for(StrangeError("x")) is FAILURES[ChannelError]
    assert {rule.state for rule in FAILURES.values()} <= {
        S.RETRY_WAIT,
        S.FAILED,
        S.PAUSED,
        S.UNCONFIRMED,
    }


def _channel(world: World, name: str) -> Channel:
    with world.sessions() as session:
        return session.scalars(select(Channel).where(Channel.name == name)).one()
