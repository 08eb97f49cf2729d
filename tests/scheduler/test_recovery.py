"""After downtime each library's own grace period decides what still goes out."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from content.domain.states import Platform, PublicationState
from content.queueing.scheduling import NewPost, queue_post
from content.storage.models import Channel, Organization, Publication
from content.storage.org_admin import OrgSettings, add_organization, change_organization
from content.storage.registry import add_channel
from content.storage.secrets import CredentialCipher, generate_key
from scheduler.recovery import mark_missed
from tests.scheduler.conftest import World

S = PublicationState


def _village(world: World, grace: int | None) -> None:
    """A member library with a Telegram channel `village` and the grace period `grace`."""
    with world.sessions.begin() as session:
        first = session.scalars(select(Organization).order_by(Organization.id)).first()
        assert first is not None
        village = add_organization(
            session,
            "Village",
            OrgSettings(parent=first.name, grace_minutes=grace),
            "test",
            default=first,
        )
        add_channel(
            session,
            village,
            CredentialCipher(generate_key()),
            name="village",
            platform=Platform.TELEGRAM,
            external_id="-1001000000009",
            token=None,
            language=None,
            actor="test",
        )


def _queue(world: World, text: str, channel: str, minutes: float) -> None:
    with world.sessions.begin() as session:
        found = session.scalars(select(Channel).where(Channel.name == channel)).one()
        org = session.get_one(Organization, found.organization_id)
        due = world.clock.now() + timedelta(minutes=minutes)
        queue_post(session, org, NewPost(text, [channel], due), world.media_dir, "test")


def _states(world: World) -> dict[str, PublicationState]:
    with world.sessions() as session:
        rows = session.execute(
            select(Publication.post_id, Publication.state).order_by(Publication.id)
        )
        texts = {p.post.id: p.post.text for p in session.scalars(select(Publication))}
        return {texts[post_id]: state for post_id, state in rows}


async def test_each_library_keeps_its_own_grace_period(world: World) -> None:
    _village(world, grace=60)
    _queue(world, "first: 10 min late", "tg1", -10)
    _queue(world, "first: 30 min late", "tg1", -30)
    _queue(world, "village: 30 min late", "village", -30)
    _queue(world, "village: 90 min late", "village", -90)
    engine = world.engine()
    with world.sessions.begin() as session:
        # The installation's 15 minutes for the first library, the village's own hour for it.
        assert mark_missed(session, world.clock.now(), engine.settings.grace) == 2
    await engine.publish_due()
    assert _states(world) == {
        "first: 10 min late": S.SENT,
        "first: 30 min late": S.MISSED,
        "village: 30 min late": S.SENT,
        "village: 90 min late": S.MISSED,
    }
    assert [o.text for o in world.adapters["village"].published] == ["village: 30 min late"]


async def test_a_grace_of_zero_sends_nothing_late_and_unset_falls_back(world: World) -> None:
    _village(world, grace=None)
    _queue(world, "village: 10 min late", "village", -10)
    with world.sessions.begin() as session:
        assert mark_missed(session, world.clock.now(), timedelta(minutes=15)) == 0
        village = session.scalars(select(Organization).where(Organization.name == "Village")).one()
        change_organization(session, village, OrgSettings(grace_minutes=0), "test")
    with world.sessions.begin() as session:
        assert mark_missed(session, world.clock.now(), timedelta(minutes=15)) == 1
    assert await world.engine().publish_due() == 0
    assert _states(world) == {"village: 10 min late": S.MISSED}
