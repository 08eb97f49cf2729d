"""The organisation tree on SQLite and PostgreSQL: a region, its districts, their villages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from content.domain.states import Role
from content.errors import InvalidInput, NotFound
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import Organization, StaffMember
from content.storage.organizations import (
    ancestors,
    children,
    choose_organization,
    descendants,
    find_organization,
    network_ids,
)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(engine: Engine) -> sessionmaker[Session]:
    return session_factory(engine)


def _org(session: Session, name: str, parent: Organization | None = None) -> Organization:
    org = Organization(
        name=name,
        timezone="Asia/Almaty",
        language="kk",
        parent_id=parent.id if parent else None,
    )
    session.add(org)
    session.flush()
    return org


def test_a_network_reads_down_and_up(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        region = _org(session, "Regional library")
        district = _org(session, "District library", region)
        village = _org(session, "Village library", district)
        other = _org(session, "Another region")
        assert [o.name for o in children(session, region)] == ["District library"]
        assert [o.name for o in descendants(session, region)] == [
            "District library",
            "Village library",
        ]
        assert [o.name for o in ancestors(session, village)] == [
            "District library",
            "Regional library",
        ]
        assert network_ids(session, district) == {district.id, village.id}
        assert other.id not in network_ids(session, region)
        assert descendants(session, village) == []


def test_choosing_an_organisation(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        first = _org(session, "Regional library")
        assert choose_organization(session, None) is first
        second = _org(session, "District library", first)
        assert choose_organization(session, "District library") is second
        with pytest.raises(InvalidInput) as several:
            choose_organization(session, None)
        assert "Regional library, District library" in str(several.value)
        with pytest.raises(NotFound) as unknown:
            find_organization(session, "Nowhere")
        assert "Nowhere" in str(unknown.value)
        assert "District library" in str(unknown.value)


def test_one_person_on_the_staff_of_two_libraries_but_once_in_each(
    sessions: sessionmaker[Session],
) -> None:
    with sessions() as session, session.begin():
        region = _org(session, "Regional library")
        district = _org(session, "District library", region)
        for org, role in ((region, Role.MANAGER), (district, Role.EDITOR)):
            session.add(
                StaffMember(
                    organization_id=org.id,
                    telegram_user_id=700000001,
                    name="Aigerim",
                    role=role,
                    language="kk",
                )
            )
        session.flush()
    with sessions() as session, session.begin():
        session.add(
            StaffMember(
                organization_id=district.id,
                telegram_user_id=700000001,
                name="Aigerim",
                role=Role.MANAGER,
                language="kk",
            )
        )
        with pytest.raises(IntegrityError):
            session.flush()
        session.rollback()


def test_organisation_names_are_unique(sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        _org(session, "Regional library")
    with sessions() as session, session.begin():
        with pytest.raises(IntegrityError):
            _org(session, "Regional library")
        session.rollback()
