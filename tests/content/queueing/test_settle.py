"""People's decisions about unfinished publications: legal transitions, audited, refused when
moot; and cancelling an event with a notice."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from content.domain.states import (
    EventStatus,
    Platform,
    PostStatus,
    PublicationKind,
    PublicationState,
)
from content.errors import InvalidInput, NotFound
from content.queueing.event_changes import cancel_event_with_notice
from content.queueing.scheduling import NewEvent, NewPost, add_event, queue_post
from content.queueing.settle import (
    drop_publication,
    publish_missed_now,
    replace_text_and_retry,
    reschedule_publication,
    retry_failed,
    settle_unconfirmed,
)
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import AuditEntry, Organization, Post, Publication
from content.storage.registry import add_channel, ensure_organization
from content.storage.secrets import CredentialCipher, generate_key

S = PublicationState
NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class Desk:
    sessions: sessionmaker[Session]
    media: Path

    def post(self, text: str = "Book fair", channels: tuple[str, ...] = ("tg",)) -> list[int]:
        """A queued post; returns its publication ids."""
        with self.sessions.begin() as session:
            post = queue_post(
                session, _org(session), NewPost(text, list(channels), NOW), self.media, "test"
            )
            session.flush()
            return [p.id for p in post.publications]

    def set_state(self, publication_id: int, state: PublicationState) -> None:
        with self.sessions.begin() as session:
            session.get_one(Publication, publication_id).state = state

    def get(self, publication_id: int) -> Publication:
        with self.sessions() as session:
            publication = session.get_one(Publication, publication_id)
            _ = publication.post, publication.event
            return publication


def _org(session: Session) -> Organization:
    return session.scalars(select(Organization)).one()


@pytest.fixture
def desk(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    database = make_engine(database_url)
    upgrade(database)
    sessions = session_factory(database)
    cipher = CredentialCipher(generate_key())
    with sessions.begin() as session:
        org = ensure_organization(session, "Library", "Asia/Almaty", "ru")
        add_channel(
            session,
            org,
            cipher,
            name="tg",
            platform=Platform.TELEGRAM,
            external_id="-1001000000001",
            token=None,
            language="ru",
            actor="test",
        )
        add_channel(
            session,
            org,
            cipher,
            name="fb",
            platform=Platform.FACEBOOK,
            external_id="100200300400500",
            token="t0ken",
            language="kk",
            actor="test",
        )

    yield Desk(sessions, tmp_path / "media")
    database.dispose()


def decide(desk: Desk, action: object, *args: object, **kwargs: object) -> None:
    with desk.sessions.begin() as session:
        action(session, _org(session), *args, actor="staff:1", **kwargs)  # type: ignore[operator]


def audited(desk: Desk) -> list[str]:
    with desk.sessions() as session:
        return [a.action for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_retry_schedules_a_failure_now_and_is_audited(desk: Desk) -> None:
    (pub,) = desk.post()
    desk.set_state(pub, S.FAILED)
    later = NOW + timedelta(hours=1)
    decide(desk, retry_failed, pub, now=later)
    assert (desk.get(pub).state, desk.get(pub).due_at) == (S.SCHEDULED, later)
    assert audited(desk)[-1] == "publication.retry"
    with pytest.raises(InvalidInput, match="scheduled now"):
        decide(desk, retry_failed, pub, now=later)  # a second press changes nothing


def test_settling_an_unconfirmed_publication(desk: Desk) -> None:
    tg, fb = desk.post(channels=("tg", "fb"))
    desk.set_state(tg, S.UNCONFIRMED)
    desk.set_state(fb, S.UNCONFIRMED)
    decide(desk, settle_unconfirmed, tg, True, now=NOW, remote_url="https://t.me/x/5")
    assert desk.get(tg).state is S.SENT
    assert desk.get(tg).remote_url == "https://t.me/x/5"
    assert desk.get(tg).post.status is PostStatus.QUEUED  # fb still open  # type: ignore[union-attr]
    decide(desk, settle_unconfirmed, fb, False, now=NOW)
    assert desk.get(fb).state is S.SCHEDULED
    desk.set_state(fb, S.UNCONFIRMED)
    decide(desk, settle_unconfirmed, fb, True, now=NOW)
    assert desk.get(fb).post.status is PostStatus.DONE  # type: ignore[union-attr]


def test_missed_publications_go_now_get_a_new_time_or_are_dropped(desk: Desk) -> None:
    now, later, drop = desk.post(channels=("tg", "fb")) + desk.post("Other")
    for pub in (now, later, drop):
        desk.set_state(pub, S.MISSED)
    decide(desk, publish_missed_now, now, now=NOW)
    decide(desk, reschedule_publication, later, NOW + timedelta(days=1), now=NOW)
    decide(desk, drop_publication, drop)
    assert [desk.get(p).state for p in (now, later, drop)] == [
        S.SCHEDULED,
        S.SCHEDULED,
        S.CANCELLED,
    ]
    assert desk.get(later).due_at == NOW + timedelta(days=1)
    assert desk.get(drop).post.status is PostStatus.CANCELLED  # type: ignore[union-attr]
    with pytest.raises(InvalidInput, match="past"):
        decide(desk, reschedule_publication, later, NOW - timedelta(days=1), now=NOW)


def test_decisions_refuse_states_they_do_not_apply_to(desk: Desk) -> None:
    (pub,) = desk.post()
    for action, kwargs in (
        (retry_failed, {"now": NOW}),
        (publish_missed_now, {"now": NOW}),
    ):
        with pytest.raises(InvalidInput):
            decide(desk, action, pub, **kwargs)
    with pytest.raises(InvalidInput):
        decide(desk, settle_unconfirmed, pub, True, now=NOW)
    desk.set_state(pub, S.SENT)
    with pytest.raises(InvalidInput):
        decide(desk, drop_publication, pub)
    with pytest.raises(NotFound):
        decide(desk, drop_publication, 9999)


def test_an_event_reminder_cannot_be_moved_past_the_start(desk: Desk) -> None:
    with desk.sessions.begin() as session:
        event = add_event(
            session,
            _org(session),
            NewEvent("Poetry night", NOW + timedelta(days=3), ["tg"], NOW, [1440]),
            desk.media,
            NOW,
            "test",
        )
        session.flush()
        reminder = next(p.id for p in event.publications if p.offset_minutes)
    desk.set_state(reminder, S.MISSED)
    with pytest.raises(InvalidInput, match="before the event starts"):
        decide(desk, reschedule_publication, reminder, NOW + timedelta(days=4), now=NOW)


def test_edit_replaces_the_text_and_retries(desk: Desk) -> None:
    (pub,) = desk.post("Book fiar")
    desk.set_state(pub, S.FAILED)
    with pytest.raises(InvalidInput, match="empty"):
        decide(desk, replace_text_and_retry, pub, "  ", now=NOW)
    decide(desk, replace_text_and_retry, pub, "Book fair", now=NOW)
    assert desk.get(pub).post.text == "Book fair"  # type: ignore[union-attr]
    assert desk.get(pub).state is S.SCHEDULED


def test_edit_refuses_a_text_the_channel_cannot_take(desk: Desk) -> None:
    (pub,) = desk.post("Short", channels=("tg",))
    desk.set_state(pub, S.FAILED)
    with pytest.raises(InvalidInput):
        decide(desk, replace_text_and_retry, pub, "x" * 50000, now=NOW)  # over 10 messages
    assert desk.get(pub).state is S.FAILED


def test_cancelling_an_event_with_a_notice_tells_where_it_was_announced(desk: Desk) -> None:
    with desk.sessions.begin() as session:
        event = add_event(
            session,
            _org(session),
            NewEvent("Poetry night", NOW + timedelta(days=3), ["tg", "fb"], NOW, [1440, 120]),
            desk.media,
            NOW,
            "test",
        )
        session.flush()
        event_id = event.id
        tg_announcement = next(
            p
            for p in event.publications
            if p.kind is PublicationKind.ANNOUNCEMENT and p.channel.name == "tg"
        )
        tg_announcement.state = S.SENT
    with desk.sessions.begin() as session:
        done = cancel_event_with_notice(
            session, _org(session), event_id, notify=True, now=NOW, actor="staff:1"
        )
    assert (done.withdrawn, done.notices) == (5, 1)  # fb's announcement + 4 reminders
    with desk.sessions() as session:
        notices = session.scalars(
            select(Publication).where(Publication.kind == PublicationKind.CANCELLATION)
        ).all()
        assert [(p.channel.name, p.state, p.due_at) for p in notices] == [("tg", S.SCHEDULED, NOW)]
        post_count = session.scalars(select(Post)).all()
        assert post_count == []
    with desk.sessions.begin() as session, pytest.raises(InvalidInput, match="already"):
        cancel_event_with_notice(session, _org(session), event_id, notify=True, now=NOW, actor="x")


def test_cancelling_quietly_adds_no_notice(desk: Desk) -> None:
    with desk.sessions.begin() as session:
        event = add_event(
            session,
            _org(session),
            NewEvent("Poetry night", NOW + timedelta(days=3), ["tg"], NOW, []),
            desk.media,
            NOW,
            "test",
        )
        session.flush()
        event_id = event.id
    with desk.sessions.begin() as session:
        done = cancel_event_with_notice(
            session, _org(session), event_id, notify=False, now=NOW, actor="staff:1"
        )
        assert done.notices == 0
        assert session.get_one(type(event), event_id).status is EventStatus.CANCELLED
