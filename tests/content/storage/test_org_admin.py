"""Changing the tree in storage: deep cycles refused, an empty library removed cleanly."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from content.domain.states import Platform
from content.errors import InvalidInput
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import AuditEntry, Feed, FeedItem, StaffMember
from content.storage.org_admin import (
    OrgSettings,
    add_organization,
    change_organization,
    remove_organization,
)
from content.storage.organizations import find_organization
from content.storage.registry import (
    add_channel,
    add_staff,
    ensure_organization,
    remove_channel,
    remove_staff,
)
from content.storage.secrets import CredentialCipher, generate_key
from tests.support.dbdump import dump


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def _tree(sessions: sessionmaker[Session]) -> None:
    """Region > District > Village, and Another region on its own."""
    with sessions.begin() as session:
        region = ensure_organization(session, "Region", "Asia/Almaty", "kk")
        for name, parent in (("District", "Region"), ("Village", "District"), ("Another", None)):
            add_organization(session, name, OrgSettings(parent=parent), "test", default=region)


def test_a_head_cannot_move_below_its_grandchild(
    sessions: sessionmaker[Session], database_url: str
) -> None:
    _tree(sessions)
    before = dump(database_url)
    with sessions.begin() as session:
        region = ensure_organization(session, "Region", "Asia/Almaty", "kk")
        with pytest.raises(InvalidInput, match="go round in a circle"):
            change_organization(session, region, OrgSettings(parent="Village"), "test")
    assert dump(database_url) == before
    with sessions.begin() as session:
        region = ensure_organization(session, "Region", "Asia/Almaty", "kk")
        # Below another tree is fine: no cycle.
        changed = change_organization(session, region, OrgSettings(parent="Another"), "test")
        assert list(changed) == ["parent_id"]


def test_an_empty_library_goes_with_its_staff_and_feeds_and_others_keep_theirs(
    sessions: sessionmaker[Session],
) -> None:
    _tree(sessions)
    cipher = CredentialCipher(generate_key())
    with sessions.begin() as session:
        region = ensure_organization(session, "Region", "Asia/Almaty", "kk")
        village_org = find_organization(session, "Village")
        add_staff(session, village_org, 555, "Rūta", "editor", "lt", "test")
        add_staff(session, region, 555, "Rūta", "manager", "lt", "test")
        add_staff(session, village_org, 666, "Asel", "editor", None, "test")
        add_channel(
            session, village_org, cipher, name="village", platform=Platform.TELEGRAM,
            external_id="@village_news", token=None, language=None, actor="test",
        )  # fmt: skip
        feed = Feed(
            organization_id=village_org.id, url="https://v.example/rss", channels=["village"]
        )
        session.add(feed)
        session.flush()
        session.add(FeedItem(feed_id=feed.id, item_key="k" * 64))
    with sessions.begin() as session:
        village_org = find_organization(session, "Village")
        with pytest.raises(InvalidInput, match="still has 1 channel"):
            remove_organization(session, village_org, "test")
    with sessions.begin() as session:
        village_org = find_organization(session, "Village")
        remove_channel(session, village_org, "village", "test")
        remove_staff(session, village_org, 666, "test")
        remove_organization(session, village_org, "test")
    with sessions() as session:
        staff = session.execute(select(StaffMember.telegram_user_id, StaffMember.name)).all()
        assert [tuple(s) for s in staff] == [(555, "Rūta")]
        assert session.scalar(select(func.count()).select_from(Feed)) == 0
        assert session.scalar(select(func.count()).select_from(FeedItem)) == 0
        removal = session.scalars(
            select(AuditEntry).where(AuditEntry.action == "organization.remove")
        ).one()
        assert removal.organization_id is None
        assert removal.details == {"name": "Village", "staff": [555]}
