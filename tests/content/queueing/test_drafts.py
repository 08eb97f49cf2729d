"""Drafts and approvals in storage: a plan without publications until a manager approves."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from content.domain.states import Platform, PostStatus, PublicationState
from content.errors import InvalidInput
from content.queueing.drafts import (
    approve_post,
    discard_draft,
    draft_as_new_post,
    list_drafts,
    reject_post,
    save_draft,
    submit_for_approval,
)
from content.queueing.scheduling import NewPost, queue_post
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import Organization, Post, Publication, StaffMember
from content.storage.registry import add_channel, add_staff, ensure_organization
from content.storage.secrets import CredentialCipher, generate_key
from tests.support.images import make_image

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=1)


@dataclass
class Store:
    sessions: sessionmaker[Session]
    media: Path
    images: Path


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Store]:
    engine = make_engine(database_url)
    upgrade(engine)
    sessions = session_factory(engine)
    cipher = CredentialCipher(generate_key())
    with sessions.begin() as session:
        org = ensure_organization(session, "Library", "Asia/Almaty", "ru")
        add_staff(session, org, 1001, "Egle", "editor", "lt", "test")
        add_staff(session, org, 1002, "Marat", "manager", "kk", "test")
        add_channel(
            session,
            org,
            cipher,
            name="tg",
            platform=Platform.TELEGRAM,
            external_id="@library_news",
            token=None,
            language="ru",
            actor="test",
        )
        add_channel(
            session,
            org,
            cipher,
            name="ig",
            platform=Platform.INSTAGRAM,
            external_id="17841400000000001",
            token="tok",
            language="kk",
            actor="test",
        )
    images = tmp_path / "incoming"
    images.mkdir()
    yield Store(sessions, tmp_path / "media", images)
    engine.dispose()


def org_and_staff(session: Session, user_id: int) -> tuple[Organization, StaffMember]:
    org = session.scalars(select(Organization)).one()
    staff = session.scalars(select(StaffMember).where(StaffMember.telegram_user_id == user_id))
    return org, staff.one()


def test_a_draft_keeps_its_plan_and_images_but_has_no_publications(store: Store) -> None:
    first = make_image(store.images / "a.jpg")
    with store.sessions.begin() as session:
        org, egle = org_and_staff(session, 1001)
        new = NewPost(
            "Idea",
            ["tg"],
            None,
            images=[first],
            author_id=egle.id,
            alt_texts=["A poster"],
            variants={"kk": "Идея"},
        )
        draft_id = save_draft(session, org, new, store.media, "test").id
    with store.sessions.begin() as session:
        draft = session.get(Post, draft_id)
        assert draft is not None
        assert draft.status is PostStatus.DRAFT
        assert draft.publications == []
        assert session.scalars(select(Publication)).all() == []
        again = draft_as_new_post(session, draft, store.media)
        assert (again.text, again.channels, again.due_at) == ("Idea", ["tg"], None)
        assert again.alt_texts == ["A poster"]
        assert again.variants == {"kk": "Идея"}
        assert again.images[0].read_bytes() == first.read_bytes()
        assert [p.id for p in list_drafts(session, org_and_staff(session, 1001)[0])] == [draft_id]


def test_a_draft_is_updated_in_place_and_then_queued_as_the_same_post(store: Store) -> None:
    one = make_image(store.images / "1.jpg", (500, 500))
    two = make_image(store.images / "2.png", (600, 400), "PNG")
    with store.sessions.begin() as session:
        org, _ = org_and_staff(session, 1001)
        new = NewPost("v1", [], None, images=[one])
        draft_id = save_draft(session, org, new, store.media, "t").id
    with store.sessions.begin() as session:
        org, _ = org_and_staff(session, 1001)
        new = NewPost("v2", ["tg"], LATER, images=[two, one])
        save_draft(session, org, new, store.media, "t", draft=session.get(Post, draft_id))
    with store.sessions.begin() as session:
        org, _ = org_and_staff(session, 1001)
        draft = session.get(Post, draft_id)
        assert draft is not None
        assert draft.text == "v2"
        assert len(draft.media) == 2
        assert draft.planned_at == LATER
        post = queue_post(
            session,
            org,
            draft_as_new_post(session, draft, store.media),
            store.media,
            "t",
            draft=draft,
        )
        assert post.id == draft_id
        assert post.status is PostStatus.QUEUED
        assert post.planned_channels == []
        assert post.planned_at is None
        assert [(p.channel.name, p.due_at) for p in post.publications] == [("tg", LATER)]


def test_submitting_checks_like_queueing_and_creates_nothing_claimable(store: Store) -> None:
    with store.sessions.begin() as session:
        org, egle = org_and_staff(session, 1001)
        with pytest.raises(InvalidInput, match="Instagram needs at least one image"):
            submit_for_approval(session, org, NewPost("x", ["ig"], LATER), store.media, "t")
        with pytest.raises(InvalidInput, match="choose when"):
            submit_for_approval(session, org, NewPost("x", ["tg"], None), store.media, "t")
        post = submit_for_approval(
            session,
            org,
            NewPost("Please approve", ["tg"], LATER, author_id=egle.id),
            store.media,
            "t",
        )
        assert post.status is PostStatus.PENDING_APPROVAL
        assert post.publications == []
        assert session.scalars(select(Publication)).all() == []


def test_approval_queues_at_the_planned_time_or_now_if_it_passed(store: Store) -> None:
    with store.sessions.begin() as session:
        org, egle = org_and_staff(session, 1001)
        _, marat = org_and_staff(session, 1002)
        on_time = submit_for_approval(session, org, NewPost("a", ["tg"], LATER), store.media, "t")
        late = submit_for_approval(session, org, NewPost("b", ["tg"], NOW), store.media, "t")
        approve_post(session, org, on_time.id, marat.id, NOW, "t")
        approve_post(session, org, late.id, marat.id, NOW + timedelta(hours=1), "t")
        assert on_time.status is PostStatus.QUEUED
        assert on_time.reviewed_by == marat.id
        assert [p.due_at for p in on_time.publications] == [LATER]
        assert [p.due_at for p in late.publications] == [NOW + timedelta(hours=1)]
        assert {p.state for p in late.publications} == {PublicationState.SCHEDULED}
        with pytest.raises(InvalidInput, match="not waiting for approval"):
            approve_post(session, org, on_time.id, marat.id, NOW, "t")


def test_rejection_returns_a_draft_with_the_reason(store: Store) -> None:
    with store.sessions.begin() as session:
        org, _ = org_and_staff(session, 1001)
        _, marat = org_and_staff(session, 1002)
        post = submit_for_approval(session, org, NewPost("c", ["tg"], LATER), store.media, "t")
        with pytest.raises(InvalidInput, match="say why"):
            reject_post(session, org, post.id, marat.id, "  ", "t")
        reject_post(session, org, post.id, marat.id, "Add the date", "t")
        assert (post.status, post.review_note) == (PostStatus.DRAFT, "Add the date")
        assert post.planned_at == LATER  # kept, so it can be sent again as it was
        again = submit_for_approval(
            session, org, NewPost("c2", ["tg"], LATER), store.media, "t", draft=post
        )
        assert again.id == post.id
        assert again.review_note is None


def test_a_discarded_draft_is_gone_from_the_list(store: Store) -> None:
    with store.sessions.begin() as session:
        org, _ = org_and_staff(session, 1001)
        draft = save_draft(session, org, NewPost("bin me", [], None), store.media, "t")
        discard_draft(session, org, draft.id, "t")
        assert draft.status is PostStatus.CANCELLED
        assert list_drafts(session, org) == []
        with pytest.raises(InvalidInput, match="no longer a draft"):
            discard_draft(session, org, draft.id, "t")
        with pytest.raises(InvalidInput, match="no post has id"):
            discard_draft(session, org, 999, "t")
