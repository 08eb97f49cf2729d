"""Storage on SQLite and PostgreSQL: migrations, UTC times, validated writes, encrypted tokens."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from content.domain.states import Platform, PostStatus, PublicationKind, PublicationState
from content.errors import InvalidInput, NotFound
from content.queueing.scheduling import (
    NewEvent,
    NewPost,
    add_event,
    cancel_event,
    cancel_post,
    queue_post,
)
from content.storage.db import (
    current_revisions,
    head_revisions,
    make_engine,
    session_factory,
    upgrade,
)
from content.storage.models import Channel, Media, Organization, Post, Publication
from content.storage.registry import add_channel, add_staff, ensure_organization
from content.storage.secrets import CredentialCipher, generate_key
from tests.support.dbdump import dump
from tests.support.images import make_image

NOW = datetime.now(UTC)
TOKEN = "EAAsecretPageToken1234567890"


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


@pytest.fixture
def cipher() -> CredentialCipher:
    return CredentialCipher(generate_key())


@pytest.fixture
def seeded(sessions: sessionmaker[Session], cipher: CredentialCipher) -> None:
    with sessions.begin() as session:
        org = ensure_organization(session, "Library", "Asia/Almaty", "ru")
        add_staff(session, org, 1001, "Aigerim", "editor", None, "test")
        add_channel(
            session,
            org,
            cipher,
            name="tg",
            platform=Platform.TELEGRAM,
            external_id="@library_news",
            token=None,
            language=None,
            actor="test",
        )
        add_channel(
            session,
            org,
            cipher,
            name="fb",
            platform=Platform.FACEBOOK,
            external_id="100200300400500",
            token=TOKEN,
            language="kk",
            actor="test",
        )
        add_channel(
            session,
            org,
            cipher,
            name="ig",
            platform=Platform.INSTAGRAM,
            external_id="17841400000000001",
            token=TOKEN,
            language="kk",
            actor="test",
        )


def org_of(session: Session) -> Organization:
    return session.scalars(select(Organization)).one()


def test_migrations_reach_head(engine: Engine) -> None:
    assert current_revisions(engine) == head_revisions()


@pytest.mark.usefixtures("seeded")
def test_times_are_stored_as_utc_and_read_back_aware(
    sessions: sessionmaker[Session], engine: Engine, tmp_path: Path
) -> None:
    almaty_ten = datetime(2026, 12, 1, 10, 0, tzinfo=ZoneInfo("Asia/Almaty"))
    with sessions.begin() as session:
        post = queue_post(
            session, org_of(session), NewPost("Hello", ["tg"], almaty_ten), tmp_path, "test"
        )
        post_id = post.id
    with sessions() as session:
        due = session.scalars(
            select(Publication.due_at).where(Publication.post_id == post_id)
        ).one()
    assert due == datetime(2026, 12, 1, 5, 0, tzinfo=UTC)
    assert due.tzinfo is UTC
    with engine.connect() as connection:
        raw = connection.execute(text("SELECT due_at FROM publication")).scalar_one()
    # SQLite keeps the naive UTC wall time; PostgreSQL a timestamptz of the same instant.
    assert str(raw).startswith("2026-12-01 05:00:00")


@pytest.mark.usefixtures("seeded")
def test_naive_datetimes_are_refused(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    with pytest.raises(Exception, match="naive datetime"), sessions.begin() as session:
        queue_post(
            session, org_of(session), NewPost("x", ["tg"], datetime(2030, 1, 1)), tmp_path, "test"
        )


@pytest.mark.usefixtures("seeded")
def test_a_post_with_images_becomes_one_publication_per_channel(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    image = make_image(tmp_path / "poster.jpg")
    media_dir = tmp_path / "media"
    due = NOW + timedelta(hours=1)
    with sessions.begin() as session:
        post = queue_post(
            session,
            org_of(session),
            NewPost("Book fair", ["tg", "fb", "ig"], due, [image]),
            media_dir,
            "test",
        )
        again = queue_post(
            session, org_of(session), NewPost("Second", ["ig"], due, [image]), media_dir, "test"
        )
        assert post.status is PostStatus.QUEUED
        assert [p.channel.name for p in post.publications] == ["tg", "fb", "ig"]
        assert {p.state for p in post.publications} == {PublicationState.SCHEDULED}
        assert post.media[0].media.id == again.media[0].media.id  # stored once by content hash
        stored = media_dir / post.media[0].media.path
        assert stored.read_bytes() == image.read_bytes()
        assert len(session.scalars(select(Media)).all()) == 1


@pytest.mark.usefixtures("seeded")
@pytest.mark.parametrize(
    ("channels", "images", "message"),
    [
        (["tg", "nope"], 0, "unknown channel 'nope'"),
        (["ig"], 0, "Instagram needs at least one image"),
        ([], 0, "choose at least one channel"),
    ],
)
def test_refused_posts_write_nothing(
    sessions: sessionmaker[Session],
    database_url: str,
    tmp_path: Path,
    channels: list[str],
    images: int,
    message: str,
) -> None:
    before = dump(database_url)
    with pytest.raises(InvalidInput, match=message), sessions.begin() as session:
        queue_post(
            session,
            org_of(session),
            NewPost("x", channels, NOW + timedelta(hours=1)),
            tmp_path / "media",
            "test",
        )
    assert dump(database_url) == before
    assert not (tmp_path / "media").exists()


@pytest.mark.usefixtures("seeded")
def test_tokens_are_encrypted_at_rest(
    sessions: sessionmaker[Session], engine: Engine, cipher: CredentialCipher
) -> None:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT credentials_encrypted FROM channel")).all()
    assert all(TOKEN not in str(row) for row in rows)
    with sessions() as session:
        fb = session.scalars(select(Channel).where(Channel.name == "fb")).one()
        assert fb.credentials_encrypted is not None
        assert cipher.decrypt(fb.credentials_encrypted) == {"access_token": TOKEN}


@pytest.mark.usefixtures("seeded")
def test_duplicate_channel_names_are_refused(
    sessions: sessionmaker[Session], cipher: CredentialCipher
) -> None:
    with pytest.raises(InvalidInput, match="'tg' already exists"), sessions.begin() as session:
        add_channel(
            session,
            org_of(session),
            cipher,
            name="tg",
            platform=Platform.TELEGRAM,
            external_id="-100123",
            token=None,
            language=None,
            actor="test",
        )


@pytest.mark.usefixtures("seeded")
def test_cancelling_a_post_withdraws_what_is_unsent(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    with sessions.begin() as session:
        post = queue_post(
            session,
            org_of(session),
            NewPost("x", ["tg", "fb"], NOW + timedelta(hours=1)),
            tmp_path,
            "test",
        )
        post.publications[0].state = PublicationState.SENT  # as if already published
        post_id = post.id
    with sessions.begin() as session:
        assert cancel_post(session, org_of(session), post_id, "test") == 1
    with sessions() as session:
        post = session.get_one(Post, post_id)
        assert post.status is PostStatus.CANCELLED
        assert [p.state for p in post.publications] == [
            PublicationState.SENT,
            PublicationState.CANCELLED,
        ]
    with pytest.raises(NotFound), sessions.begin() as session:
        cancel_post(session, org_of(session), 999, "test")


@pytest.mark.usefixtures("seeded")
def test_an_event_queues_its_announcement_and_reminders(
    sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    starts = NOW + timedelta(days=3)
    new = NewEvent(
        title="Book presentation",
        starts_at=starts,
        channels=["tg", "fb"],
        announce_at=NOW,
        reminder_offsets=[7 * 1440, 1440, 120],
        place="Reading room",
    )
    with sessions.begin() as session:
        event = add_event(session, org_of(session), new, tmp_path, NOW, "test")
        kinds = sorted(
            (p.channel.name, p.kind.value, p.offset_minutes or 0) for p in event.publications
        )
        event_id = event.id
    # The 7-day reminder is already past: skipped.
    assert kinds == [
        ("fb", "announcement", 0),
        ("fb", "reminder", 120),
        ("fb", "reminder", 1440),
        ("tg", "announcement", 0),
        ("tg", "reminder", 120),
        ("tg", "reminder", 1440),
    ]
    with sessions.begin() as session:
        assert cancel_event(session, org_of(session), event_id, "test") == 6
    with sessions() as session:
        states = session.scalars(select(Publication.state).where(Publication.event_id == event_id))
        assert set(states) == {PublicationState.CANCELLED}
        kinds_left = session.scalars(select(Publication.kind)).all()
        assert PublicationKind.REMINDER in kinds_left


def test_migrations_match_the_models(engine: Engine) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from content.storage.orm_base import Base

    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def test_upgrading_a_database_with_data_keeps_it(database_url: str, tmp_path: Path) -> None:
    """The later migrations alter tables that rows already reference (SQLite copies them)."""
    engine = make_engine(database_url)
    try:
        upgrade(engine, "0003")
        sessions = session_factory(engine)
        with sessions.begin() as session:
            # Raw SQL throughout: the models describe the head's tables, not 0003's.
            org_id = session.execute(
                text(
                    "INSERT INTO organization (name, timezone, language, requires_approval, "
                    "created_at) VALUES ('L', 'UTC', 'en', false, :t) RETURNING id"
                ),
                {"t": NOW.replace(tzinfo=None)},
            ).scalar_one()
            session.execute(
                text(
                    "INSERT INTO channel (organization_id, platform, name, external_id, language, "
                    "status, created_at) VALUES (:o, 'telegram', 'tg', '-100', 'en', 'active', :t)"
                ),
                {"o": org_id, "t": NOW.replace(tzinfo=None)},
            )
            session.execute(
                text(
                    "INSERT INTO post (organization_id, text, variants, status, created_at) "
                    "VALUES (:o, 'hello', '{}', 'queued', :t)"
                ),
                {"o": org_id, "t": NOW.replace(tzinfo=None)},
            )
            session.execute(
                text(
                    "INSERT INTO publication (kind, post_id, channel_id, due_at, state, attempts, "
                    "collect_stage, updated_at) SELECT 'post', post.id, channel.id, :t, "
                    "'scheduled', 0, 0, :t FROM post, channel"
                ),
                {"t": NOW.replace(tzinfo=None)},
            )
        upgrade(engine)
        assert current_revisions(engine) == head_revisions()
        with engine.connect() as connection:
            counts = [
                connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()
                for table in ("channel", "post", "publication")
            ]
        assert counts == [1, 1, 1]
    finally:
        engine.dispose()
