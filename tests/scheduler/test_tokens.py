"""Token health: stored per channel, one notice per problem, told again when it comes back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy import select

from channels.base import AuthExpired, CredentialStatus, NotSent
from content.domain.states import Platform
from content.storage.models import Channel, Notice
from scheduler.tokens import check_tokens
from tests.scheduler.conftest import START, World
from tests.support.scripted_channel import ScriptedChannel


@dataclass
class TokenChannel(ScriptedChannel):
    """A scripted channel whose credential answers the test sets (or raises)."""

    answers: list[CredentialStatus | Exception] = field(default_factory=list)

    async def check_credentials(self) -> CredentialStatus:
        answer = self.answers.pop(0) if self.answers else CredentialStatus(True)
        if isinstance(answer, Exception):
            raise answer
        return answer


def channels(world: World) -> dict[str, Channel]:
    with world.sessions() as session:
        return {c.name: c for c in session.scalars(select(Channel))}


def notices(world: World) -> list[tuple[str, dict[str, object]]]:
    with world.sessions() as session:
        return [
            (session.get_one(Channel, n.channel_id).name, n.details)
            for n in session.scalars(select(Notice).order_by(Notice.id))
        ]


async def test_expiry_is_stored_and_a_week_ahead_is_told_once(world: World) -> None:
    far, near = START + timedelta(days=40), START + timedelta(days=6)
    world.adapters["fb"] = TokenChannel(
        Platform.FACEBOOK,
        answers=[
            CredentialStatus(True, "ok", far),
            CredentialStatus(True, "ok", near),
            CredentialStatus(True, "ok", near),
        ],
    )
    engine = world.engine()
    assert await check_tokens(engine) == 0
    fb = channels(world)["fb"]
    assert (fb.token_checked_at, fb.token_expires_at) == (START, far)

    world.clock.advance(hours=6)
    assert await check_tokens(engine) == 1
    world.clock.advance(hours=6)
    assert await check_tokens(engine) == 0  # the same problem is not told twice
    ((name, details),) = notices(world)
    assert name == "fb"
    assert details["expires_at"] == near.isoformat()
    assert channels(world)["fb"].token_checked_at == world.clock.now()


async def test_an_invalid_token_is_told_again_after_it_was_fixed(world: World) -> None:
    bad = CredentialStatus(False, "token revoked")
    world.adapters["tg1"] = TokenChannel(answers=[bad, bad, CredentialStatus(True), bad])
    engine = world.engine()
    assert await check_tokens(engine) == 1
    assert await check_tokens(engine) == 0
    assert await check_tokens(engine) == 0  # fixed: the warning is resolved
    assert await check_tokens(engine) == 1  # broken again: told again
    kept = [d for name, d in notices(world) if name == "tg1"]
    assert [d.get("resolved") for d in kept] == [True, None]
    assert kept[1]["detail"] == "token revoked"


async def test_unreachable_platforms_keep_the_last_known_health(world: World) -> None:
    world.adapters["tg1"] = TokenChannel(answers=[NotSent("connection refused")])
    world.adapters["tg2"] = TokenChannel(answers=[AuthExpired("no access token")])
    assert await check_tokens(world.engine()) == 1
    found = channels(world)
    assert found["tg1"].token_checked_at is None
    assert found["tg2"].token_checked_at == START
    assert [name for name, _ in notices(world)] == ["tg2"]
