"""The queue of posts: pages soonest first, moving a post, and sending it now."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from content.domain.states import Platform, PublicationState
from content.errors import InvalidInput
from content.queueing.post_queue import next_due, publish_now, queue_page, reschedule_post
from content.queueing.scheduling import NewPost, cancel_post, queue_post
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import Organization, Post
from content.storage.registry import add_channel, ensure_organization
from content.storage.secrets import CredentialCipher, generate_key

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)


@pytest.fixture
def sessions(database_url: str, tmp_path: Path) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(database_url)
    upgrade(engine)
    factory = session_factory(engine)
    with factory.begin() as session:
        org = ensure_organization(session, "Library", "Europe/Vilnius", "lt")
        for name in ("a", "b"):
            add_channel(
                session,
                org,
                CredentialCipher(generate_key()),
                name=name,
                platform=Platform.TELEGRAM,
                external_id=f"@channel_{name}x",
                token=None,
                language=None,
                actor="test",
            )
    yield factory
    engine.dispose()


def org(session: Session) -> Organization:
    return session.scalars(select(Organization)).one()


def add(session: Session, text: str, hours: float, channels: tuple[str, ...] = ("a",)) -> Post:
    new = NewPost(text, list(channels), NOW + timedelta(hours=hours))
    return queue_post(session, org(session), new, Path("unused"), "test")


def test_pages_are_soonest_first_and_clamped(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        for n in range(7):
            add(session, f"p{n}", 10 - n)
        gone = add(session, "cancelled", 0.5)
        cancel_post(session, org(session), gone.id, "t")
        first = queue_page(session, org(session), 0, 5)
        assert (first.total, first.pages) == (7, 2)
        assert [p.text for p in first.posts] == ["p6", "p5", "p4", "p3", "p2"]
        last = queue_page(session, org(session), 9, 5)
        assert last.page == 1
        assert [p.text for p in last.posts] == ["p1", "p0"]
        assert queue_page(session, org(session), 0, 5).posts[0].text == "p6"


def test_a_post_on_two_channels_is_listed_once(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        post = add(session, "both", 2, ("a", "b"))
        page = queue_page(session, org(session), 0)
        assert [p.id for p in page.posts] == [post.id]
        assert page.total == 1
        assert next_due(post) == NOW + timedelta(hours=2)


def test_rescheduling_moves_every_unsent_publication(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        post = add(session, "move", 2, ("a", "b"))
        post.publications[1].state = PublicationState.MISSED
        target = NOW + timedelta(days=1)
        assert reschedule_post(session, org(session), post.id, target, NOW, "t") == 2
        assert {p.due_at for p in post.publications} == {target}
        assert {p.state for p in post.publications} == {PublicationState.SCHEDULED}
        with pytest.raises(InvalidInput, match="in the past"):
            reschedule_post(session, org(session), post.id, NOW - timedelta(hours=1), NOW, "t")


def test_publish_now_makes_it_due_and_leaves_sent_ones_alone(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as session:
        post = add(session, "now", 5, ("a", "b"))
        post.publications[0].state = PublicationState.SENT
        assert publish_now(session, org(session), post.id, NOW, "t") == 1
        assert [p.due_at for p in post.publications] == [NOW + timedelta(hours=5), NOW]


def test_a_post_that_is_not_waiting_cannot_be_moved(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as session:
        post = add(session, "x", 1)
        cancel_post(session, org(session), post.id, "t")
        with pytest.raises(InvalidInput, match="no longer waiting"):
            publish_now(session, org(session), post.id, NOW, "t")
        with pytest.raises(InvalidInput, match="no longer waiting"):
            reschedule_post(session, org(session), post.id, NOW + timedelta(hours=3), NOW, "t")
