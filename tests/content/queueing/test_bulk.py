"""Bulk queueing: each post checked before anything is written; rows as `queue_post` writes them."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, func, select
from sqlalchemy.orm import Session, sessionmaker

from content.domain.states import Platform
from content.errors import InvalidInput, NotFound
from content.queueing.bulk import BulkPost, queue_many
from content.queueing.scheduling import NewPost, queue_post
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import AuditEntry, Organization, Post, Publication
from content.storage.registry import add_channel, ensure_organization
from content.storage.secrets import CredentialCipher, generate_key

DUE = datetime(2026, 12, 1, 10, 0, tzinfo=timezone(timedelta(hours=2)))


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    upgrade(engine)
    factory = session_factory(engine)
    cipher = CredentialCipher(generate_key())
    with factory.begin() as session:
        org = ensure_organization(session, "Library", "Europe/Vilnius", "lt")
        for name, language in (("a", None), ("b", "en")):
            add_channel(
                session,
                org,
                cipher,
                name=name,
                platform=Platform.TELEGRAM,
                external_id=f"@channel_{name}x",
                token=None,
                language=language,
                actor="test",
            )
        add_channel(
            session,
            org,
            cipher,
            name="fb",
            platform=Platform.FACEBOOK,
            external_id="123456789",
            token="page-token",
            language=None,
            actor="test",
        )
    yield factory
    engine.dispose()


def org(session: Session) -> Organization:
    return session.scalars(select(Organization)).one()


def row(session: Session, table: Table, key: int, *, leave_out: set[str]) -> dict[str, Any]:
    found = session.execute(select(table).where(table.c.id == key)).mappings().one()
    return {name: value for name, value in found.items() if name not in leave_out}


def counts(session: Session) -> tuple[int, ...]:
    return tuple(
        session.scalar(select(func.count()).select_from(model)) or 0
        for model in (Post, Publication, AuditEntry)
    )


def test_rows_are_those_queue_post_writes(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        link, variants = "https://lib.example/open", {"en": "Hi"}
        new = NewPost(" Open day ", ["a", "b"], DUE, link=link, variants=variants)
        single = queue_post(session, org(session), new, Path("unused"), "test")
        [bulk] = queue_many(
            session,
            org(session),
            [BulkPost(" Open day ", ["a", "b"], DUE, link=link, variants=variants)],
            "test",
        )
        posts = Post.__table__
        assert row(session, posts, bulk, leave_out={"id", "created_at"}) == row(
            session, posts, single.id, leave_out={"id", "created_at"}
        )
        publications = Publication.__table__
        ids = {
            post: session.scalars(
                select(Publication.id).where(Publication.post_id == post).order_by(Publication.id)
            ).all()
            for post in (single.id, bulk)
        }
        assert len(ids[bulk]) == 2
        for mine, theirs in zip(ids[bulk], ids[single.id], strict=True):
            leave_out = {"id", "post_id", "updated_at"}
            assert row(session, publications, mine, leave_out=leave_out) == row(
                session, publications, theirs, leave_out=leave_out
            )


def test_defaults_are_filled_as_the_orm_fills_them(sessions: sessionmaker[Session]) -> None:
    before = datetime.now(UTC)
    with sessions.begin() as session:
        [post_id] = queue_many(session, org(session), [BulkPost("Hello", ["a"], DUE)], "test")
    after = datetime.now(UTC)
    with sessions() as session:
        post = session.get_one(Post, post_id)
        assert before <= post.created_at <= after
        assert (post.variants, post.planned_channels, post.planned_at) == ({}, [], None)
        [publication] = post.publications
        assert before <= publication.updated_at <= after
        assert publication.due_at == DUE
        assert (publication.attempts, publication.collect_stage) == (0, 0)
        # SQL NULL, not a JSON null: the ORM leaves an unset JSON column out of its INSERT.
        unset = select(Publication.id).where(Publication.progress.is_(None))
        assert session.scalars(unset).all() == [publication.id]


def test_ids_come_in_order_after_existing_posts(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        earlier = queue_post(session, org(session), NewPost("first", ["a"], DUE), Path("x"), "t")
    with sessions.begin() as session:
        posts = [BulkPost(f"post {n}", ["a", "fb"], DUE + timedelta(hours=n)) for n in range(5)]
        ids = queue_many(session, org(session), posts, "test")
    with sessions.begin() as session:
        later = queue_post(session, org(session), NewPost("last", ["a"], DUE), Path("x"), "t")
        assert ids == sorted(ids)
        assert earlier.id < ids[0]
        assert ids[-1] < later.id
        for n, post_id in enumerate(ids):
            post = session.get_one(Post, post_id)
            assert post.text == f"post {n}"
            assert [p.due_at for p in post.publications] == [DUE + timedelta(hours=n)] * 2


def test_the_audit_entry_sums_the_queueing_up(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        posts = [BulkPost("late", ["fb"], DUE + timedelta(days=1)), BulkPost("early", ["b"], DUE)]
        queue_many(session, org(session), posts, "staff:7")
    with sessions() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert entry is not None
        assert (entry.actor, entry.action, entry.subject) == ("staff:7", "post.queue_many", None)
        assert entry.details == {
            "posts": 2,
            "channels": ["b", "fb"],
            "first_due": DUE.isoformat(),
            "last_due": (DUE + timedelta(days=1)).isoformat(),
        }


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        (BulkPost("   ", ["a"], DUE), "post 2 has no text"),
        (
            BulkPost("naive", ["a"], datetime(2026, 12, 1, 10, 0)),
            "post 2: its time has no time zone",
        ),
        (BulkPost("nowhere", [" ", ""], DUE), "post 2: choose at least one channel"),
        (
            BulkPost("x" * 50000, ["fb", "a"], DUE),
            "post 2: a: the number of messages is 13, over the",
        ),
    ],
)
def test_the_first_bad_post_is_named_and_nothing_is_written(
    sessions: sessionmaker[Session], bad: BulkPost, message: str
) -> None:
    with sessions.begin() as session:
        written = counts(session)
        posts = [BulkPost("fine", ["a"], DUE), bad, BulkPost("", ["a"], DUE)]
        with pytest.raises(InvalidInput) as caught:
            queue_many(session, org(session), posts, "test")
        assert str(caught.value).startswith(message)
        assert counts(session) == written


def test_an_unknown_channel_writes_nothing(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        written = counts(session)
        posts = [BulkPost("fine", ["a"], DUE), BulkPost("lost", ["a", "nope"], DUE)]
        with pytest.raises(NotFound, match="unknown channel 'nope'"):
            queue_many(session, org(session), posts, "test")
        assert counts(session) == written


def test_nothing_to_queue_writes_nothing(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        written = counts(session)
        assert queue_many(session, org(session), [], "test") == []
        assert counts(session) == written


def test_reserved_ids_survive_a_concurrent_writer(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    if database_url.startswith("sqlite"):
        pytest.skip("SQLite has one writer at a time: the other would wait for the commit")
    with sessions.begin() as bulk_session:
        ids = queue_many(
            bulk_session, org(bulk_session), [BulkPost(f"p{n}", ["a"], DUE) for n in range(3)], "t"
        )
        with sessions.begin() as other:
            meanwhile = queue_post(other, org(other), NewPost("other", ["b"], DUE), Path("x"), "t")
    assert meanwhile.id not in ids
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == 4


def test_texts_arrive_exactly_as_written(sessions: sessionmaker[Session]) -> None:
    awkward = "tab\there\nnew line \\ backslash \\N 'quote' \"double\" ąčę 😀 \r end"
    variants = {"en": "also\tawkward\n\\N"}
    with sessions.begin() as session:
        [post_id] = queue_many(
            session, org(session), [BulkPost(awkward, ["a", "b"], DUE, variants=variants)], "t"
        )
    with sessions() as session:
        post = session.get_one(Post, post_id)
        assert (post.text, post.variants) == (awkward.strip(), variants)
