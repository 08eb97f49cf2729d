"""Who reaches which library, with which role: a person's memberships spread down the tree,
the stronger role wins, and nothing reaches up or sideways. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session

from bot.access import Permission, allowed, standings
from content.domain.states import Role
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import Organization, StaffMember


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    engine = make_engine(database_url)
    upgrade(engine)
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


def _tree(session: Session) -> dict[str, int]:
    """A region, a district below it, a village below that, and a second district."""
    ids: dict[str, int] = {}
    for name, parent in [
        ("region", None),
        ("district", "region"),
        ("village", "district"),
        ("other district", "region"),
        ("city", None),
    ]:
        org = Organization(
            name=name,
            timezone="Europe/Vilnius",
            language="lt",
            parent_id=ids[parent] if parent else None,
        )
        session.add(org)
        session.flush()
        ids[name] = org.id
    return ids


def _member(session: Session, org: int, role: Role, user: int = 7) -> StaffMember:
    member = StaffMember(
        organization_id=org, telegram_user_id=user, name="Rūta", role=role, language="lt"
    )
    session.add(member)
    session.flush()
    return member


def test_a_membership_reaches_its_library_and_every_one_below(session: Session) -> None:
    ids = _tree(session)
    district = _member(session, ids["district"], Role.MANAGER)
    reach = standings(session, [district])
    assert set(reach) == {ids["district"], ids["village"]}  # not up, not sideways
    assert reach[ids["village"]].role is Role.MANAGER
    assert reach[ids["village"]].staff.id == district.id
    assert allowed(reach[ids["village"]], Permission.APPROVE)


def test_the_stronger_role_counts_and_the_librarys_own_row_speaks_at_equal_roles(
    session: Session,
) -> None:
    ids = _tree(session)
    region_editor = _member(session, ids["region"], Role.EDITOR)
    village_admin = _member(session, ids["village"], Role.ADMIN)
    district_editor = _member(session, ids["district"], Role.EDITOR)
    reach = standings(session, [region_editor, village_admin, district_editor])
    assert set(reach) == {ids["region"], ids["district"], ids["village"], ids["other district"]}
    assert reach[ids["village"]].role is Role.ADMIN
    assert reach[ids["village"]].staff.id == village_admin.id
    assert reach[ids["district"]].staff.id == district_editor.id  # equal: its own row
    assert reach[ids["other district"]].staff.id == region_editor.id
    assert not allowed(reach[ids["other district"]], Permission.APPROVE)
    assert reach[ids["region"]].own_staff_ids == {
        region_editor.id,
        village_admin.id,
        district_editor.id,
    }


def test_no_membership_reaches_nothing(session: Session) -> None:
    ids = _tree(session)
    _member(session, ids["city"], Role.ADMIN, user=8)  # someone else's
    assert standings(session, []) == {}
