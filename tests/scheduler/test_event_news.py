"""An announced event that moves or is cancelled: a notice goes where it was announced, and the
followers who asked to be reminded are told in private, once, in their language (#16 point 2).

Two libraries share the database; the other library's event and followers must stay untouched.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from content.domain.states import FollowerNews, Platform, PublicationKind, PublicationState
from content.errors import InvalidInput, NotFound
from content.queueing.event_changes import cancel_event_with_notice, move_event_with_notice
from content.queueing.scheduling import NewEvent, add_event
from content.storage.models import Event, EventSubscription, Organization, Publication
from content.storage.registry import add_channel
from content.storage.secrets import CredentialCipher, generate_key
from scheduler.followers import follower_messages, tell_followers
from tests.scheduler.conftest import World

READER_LT, READER_RU, OTHER_READER = 700001, 700002, 700003


def _event(world: World, org_name: str, channels: list[str], starts: datetime) -> int:
    with world.sessions.begin() as session:
        org = session.scalars(select(Organization).where(Organization.name == org_name)).one()
        event = add_event(
            session,
            org,
            NewEvent(
                title=f"Poetry night at {org_name}",
                starts_at=starts,
                channels=channels,
                announce_at=world.clock.now(),
                reminder_offsets=[120],
                place="Reading room",
            ),
            world.media_dir,
            world.clock.now(),
            "test",
        )
        for user, language in ((READER_LT, "lt"), (READER_RU, "ru"), (OTHER_READER, "lt")):
            if (user == OTHER_READER) == (org_name == "Village Library"):
                session.add(
                    EventSubscription(event_id=event.id, telegram_user_id=user, language=language)
                )
        return event.id


@pytest.fixture
def two_libraries(world: World) -> World:
    """The world's library, plus a village library with a Telegram channel of its own."""
    with world.sessions.begin() as session:
        village = Organization(name="Village Library", timezone="Asia/Almaty", language="kk")
        session.add(village)
        session.flush()
        add_channel(
            session,
            village,
            CredentialCipher(generate_key()),
            name="village",
            platform=Platform.TELEGRAM,
            external_id="-1001000000009",
            token=None,
            language="kk",
            actor="test",
        )
    return world


class Outbox:
    """The bot's private messages, as the followers' job hands them to Telegram."""

    def __init__(self) -> None:
        self.sent: list[tuple[int, str]] = []

    async def __call__(self, user_id: int, text: str) -> None:
        self.sent.append((user_id, text))


def _publications(world: World, event_id: int) -> list[tuple[str, str, PublicationState]]:
    with world.sessions() as session:
        rows = session.scalars(
            select(Publication).where(Publication.event_id == event_id).order_by(Publication.id)
        )
        return [(p.kind.value, p.channel.name, p.state) for p in rows]


def _news(world: World) -> dict[int, tuple[FollowerNews | None, datetime | None]]:
    with world.sessions() as session:
        return {
            s.telegram_user_id: (s.news, s.reminded_at)
            for s in session.scalars(select(EventSubscription))
        }


async def test_a_move_is_told_where_it_was_announced_and_to_its_followers_once(
    two_libraries: World,
) -> None:
    world = two_libraries
    starts = world.clock.now() + timedelta(days=5)
    event_id = _event(world, "Library", ["tg1", "tg2"], starts)
    other_id = _event(world, "Village Library", ["village"], starts)
    engine = world.engine()
    assert await engine.publish_due() == 3  # both announcements of ours, the village's one
    with world.sessions.begin() as session:
        # tg2's announcement never went out (say it was withdrawn): its readers heard nothing.
        (tg2,) = (
            p
            for p in session.get_one(Event, event_id).publications
            if p.channel.name == "tg2" and p.kind is PublicationKind.ANNOUNCEMENT
        )
        tg2.state = PublicationState.CANCELLED
        reader = session.scalars(
            select(EventSubscription).where(EventSubscription.telegram_user_id == READER_LT)
        ).one()
        reader.reminded_at = world.clock.now()  # say the 2-hour reminder was already sent

    later = starts + timedelta(days=2)
    with world.sessions.begin() as session:
        org = session.scalars(select(Organization).where(Organization.name == "Library")).one()
        moved = move_event_with_notice(
            session,
            org,
            event_id,
            later,
            notify=True,
            now=world.clock.now(),
            actor="test",
            new_place="Main hall",
        )
    assert (moved.notices, moved.followers) == (1, 2)
    # Moved again before the notice went: still one notice, with the latest facts.
    with world.sessions.begin() as session:
        org = session.scalars(select(Organization).where(Organization.name == "Library")).one()
        move_event_with_notice(
            session,
            org,
            event_id,
            later + timedelta(hours=1),
            notify=True,
            now=world.clock.now(),
            actor="test",
        )
    moved_rows = [p for p in _publications(world, event_id) if p[0] == "moved"]
    assert moved_rows == [("moved", "tg1", PublicationState.SCHEDULED)]

    assert await engine.publish_due() == 1
    (notice,) = [o for o in world.adapters["tg1"].published if o.text.startswith("🔁")]
    assert notice.text.startswith("🔁 Nauja data: Poetry night at Library")  # tg1 speaks lt
    assert "Main hall" in notice.text
    assert notice.buttons  # the event is still on: "Remind me" stays
    assert not any(o.text.startswith("🔁") for o in world.adapters["village"].published)

    news = _news(world)
    assert news[READER_LT] == (FollowerNews.MOVED, None)  # reminded again before the new start
    assert news[OTHER_READER] == (None, None)  # the village's follower: nothing happened there

    outbox = Outbox()
    assert await follower_messages(world.sessions, world.clock, outbox) == 2
    texts = dict(outbox.sent)
    assert set(texts) == {READER_LT, READER_RU}
    assert texts[READER_LT].startswith("🔁 Poetry night at Library: perkeltas")
    assert texts[READER_RU].startswith("🔁 Poetry night at Library: перенесено")
    assert "Main hall" in texts[READER_RU]
    assert await tell_followers(world.sessions, world.clock, outbox) == 0  # told once
    assert len(outbox.sent) == 2
    with world.sessions() as session:
        village_event = session.get_one(Event, other_id)
        assert village_event.starts_at == starts
        assert village_event.place == "Reading room"


async def test_a_cancellation_is_told_and_the_latest_news_wins(two_libraries: World) -> None:
    world = two_libraries
    starts = world.clock.now() + timedelta(days=5)
    event_id = _event(world, "Library", ["tg1"], starts)
    _event(world, "Village Library", ["village"], starts)
    assert await world.engine().publish_due() == 2
    with world.sessions.begin() as session:
        org = session.scalars(select(Organization).where(Organization.name == "Library")).one()
        move_event_with_notice(
            session,
            org,
            event_id,
            starts + timedelta(days=1),
            notify=True,
            now=world.clock.now(),
            actor="test",
        )
        done = cancel_event_with_notice(
            session, org, event_id, notify=True, now=world.clock.now(), actor="test"
        )
    assert (done.notices, done.followers) == (1, 2)
    kinds = _publications(world, event_id)
    # The new-date notice not yet out is withdrawn with the rest; the cancellation goes.
    assert ("moved", "tg1", PublicationState.CANCELLED) in kinds
    assert ("cancellation", "tg1", PublicationState.SCHEDULED) in kinds

    outbox = Outbox()
    assert await tell_followers(world.sessions, world.clock, outbox) == 2
    texts = dict(outbox.sent)
    assert texts[READER_LT].startswith("❌ Poetry night at Library: atšauktas")
    assert texts[READER_RU].startswith("❌ Poetry night at Library: отменено")
    assert OTHER_READER not in texts


async def test_without_a_notice_nobody_is_told(two_libraries: World) -> None:
    world = two_libraries
    starts = world.clock.now() + timedelta(days=5)
    event_id = _event(world, "Library", ["tg1"], starts)
    assert await world.engine().publish_due() == 1
    with world.sessions.begin() as session:
        org = session.scalars(select(Organization).where(Organization.name == "Library")).one()
        moved = move_event_with_notice(
            session,
            org,
            event_id,
            starts + timedelta(days=1),
            notify=False,
            now=world.clock.now(),
            actor="test",
        )
    assert (moved.notices, moved.followers) == (0, 0)
    assert [p for p in _publications(world, event_id) if p[0] == "moved"] == []
    assert all(news is None for news, _ in _news(world).values())


@pytest.mark.parametrize(
    ("library", "shift", "error"),
    [
        ("Village Library", timedelta(days=1), NotFound),  # another library's event
        ("Library", timedelta(days=-6), InvalidInput),  # to the past
    ],
)
async def test_a_refused_move_writes_nothing(
    two_libraries: World, library: str, shift: timedelta, error: type[Exception]
) -> None:
    world = two_libraries
    starts = world.clock.now() + timedelta(days=5)
    event_id = _event(world, "Library", ["tg1"], starts)
    assert await world.engine().publish_due() == 1
    before = (_publications(world, event_id), _news(world))
    with world.sessions.begin() as session:
        org = session.scalars(select(Organization).where(Organization.name == library)).one()
        with pytest.raises(error):
            move_event_with_notice(
                session,
                org,
                event_id,
                starts + shift,
                notify=True,
                now=world.clock.now(),
                actor="test",
            )
    assert (_publications(world, event_id), _news(world)) == before
