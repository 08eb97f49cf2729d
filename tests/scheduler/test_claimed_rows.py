"""Claimed publications read as rows: text posts composed from them, the rest by the ORM."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from content.queueing.scheduling import NewEvent, NewPost, add_event, queue_post
from content.storage.models import Channel, Organization, Publication
from scheduler.claimed_rows import ChannelRows, read_claimed
from tests.scheduler.conftest import World
from tests.support.images import make_image


def set_language(world: World, name: str, language: str) -> None:
    with world.sessions.begin() as session:
        session.execute(update(Channel).where(Channel.name == name).values(language=language))


def queue(world: World, new: NewPost) -> int:
    with world.sessions.begin() as session:
        org = session.scalars(select(Organization)).one()
        return queue_post(session, org, new, world.media_dir, "test").id


def publication_ids(world: World) -> list[int]:
    with world.sessions() as session:
        return list(session.scalars(select(Publication.id).order_by(Publication.id)))


async def test_a_text_post_goes_in_each_channels_language(world: World) -> None:
    set_language(world, "tg2", "ru")
    due = world.clock.now()
    queue(world, NewPost("Vakaras", ["tg1", "tg2"], due, variants={"ru": "Вечер"}))
    with world.database.connect() as connection:
        rows = read_claimed(connection, publication_ids(world), ChannelRows())
    assert [row.outgoing.text if row.outgoing else None for row in rows] == ["Vakaras", "Вечер"]
    assert [row.channel.name for row in rows] == ["tg1", "tg2"]

    assert await world.engine().publish_due() == 2
    assert [o.text for o in world.adapters["tg1"].published] == ["Vakaras"]
    assert [o.text for o in world.adapters["tg2"].published] == ["Вечер"]
    assert {p.state.value for p in world.publications()} == {"sent"}


async def test_rows_come_in_due_order(world: World) -> None:
    now = world.clock.now()
    later = queue(world, NewPost("later", ["tg1"], now + timedelta(minutes=2)))
    sooner = queue(world, NewPost("sooner", ["tg1"], now + timedelta(minutes=1)))
    with world.database.connect() as connection:
        rows = read_claimed(connection, publication_ids(world), ChannelRows())
    assert [row.outgoing.text if row.outgoing else None for row in rows] == ["sooner", "later"]
    assert [row.post_id for row in rows] == [sooner, later]


async def test_posts_with_images_and_event_messages_take_the_full_compose(world: World) -> None:
    world.media_dir.mkdir(parents=True, exist_ok=True)
    poster = make_image(world.media_dir.parent / "poster.jpg")
    now = world.clock.now()
    queue(world, NewPost("With a poster", ["tg1"], now, images=[poster]))
    with world.sessions.begin() as session:
        org = session.scalars(select(Organization)).one()
        event = NewEvent(
            "Book club", now + timedelta(days=3), ["tg2"], announce_at=now, reminder_offsets=[]
        )
        add_event(session, org, event, world.media_dir, now - timedelta(minutes=1), "test")
    with world.database.connect() as connection:
        rows = read_claimed(connection, publication_ids(world), ChannelRows())
    assert len(rows) == 2
    assert all(row.outgoing is None for row in rows)

    assert await world.engine().publish_due() == 2
    [with_poster] = world.adapters["tg1"].published
    assert with_poster.text == "With a poster"
    assert len(with_poster.images) == 1
    [announcement] = world.adapters["tg2"].published
    assert "Book club" in announcement.text
    assert announcement.buttons  # "Remind me": composed by the full path


def test_a_channel_object_is_reused_until_its_row_changes(world: World) -> None:
    rows = ChannelRows()
    with world.sessions() as session:
        channel = session.scalars(select(Channel).where(Channel.name == "fb")).one()
        values = {c.name: getattr(channel, c.key) for c in Channel.__table__.c}
    first = rows.channel(values)
    assert rows.channel(dict(values)) is first
    rotated = rows.channel({**values, "credentials_encrypted": "new-token-ciphertext"})
    assert rotated is not first
    assert rotated.credentials_encrypted == "new-token-ciphertext"
    assert (rotated.id, rotated.name, rotated.platform) == (first.id, first.name, first.platform)
