"""The organisation tree: a network head (a regional library) and its member libraries.

Reading only; what changes the tree is validated and audited where it is written. A tree is
shallow (a region, its districts, their villages), so walking it row by row is cheap.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.errors import InvalidInput, NotFound
from content.storage.models import Organization


def organizations(session: Session) -> list[Organization]:
    """Every organisation, the oldest first."""
    return list(session.scalars(select(Organization).order_by(Organization.id)))


def find_organization(session: Session, name: str) -> Organization:
    """The organisation of that name, or NotFound naming the ones there are."""
    org = session.scalars(select(Organization).where(Organization.name == name.strip())).first()
    if org is None:
        raise NotFound(
            "no organisation is named {name}; there are: {names}",
            name=name.strip(),
            names=", ".join(o.name for o in organizations(session)) or "-",
        )
    return org


def choose_organization(session: Session, name: str | None) -> Organization:
    """The organisation a command acts on: the one named, or the only one there is.

    With several and none named the choice is the person's: InvalidInput naming them.
    """
    if name is not None:
        return find_organization(session, name)
    every = organizations(session)
    if len(every) == 1:
        return every[0]
    if not every:
        raise NotFound("no organisation is set up yet")
    raise InvalidInput(
        "there are several organisations; choose one with --org: {names}",
        names=", ".join(o.name for o in every),
    )


def children(session: Session, org: Organization) -> list[Organization]:
    """The libraries directly below `org`."""
    return list(
        session.scalars(
            select(Organization).where(Organization.parent_id == org.id).order_by(Organization.id)
        )
    )


def descendants(session: Session, org: Organization) -> list[Organization]:
    """Every library below `org`, at any depth, breadth first (not `org` itself)."""
    found: list[Organization] = []
    level = [org.id]
    seen = {org.id}
    while level:
        below = list(
            session.scalars(
                select(Organization)
                .where(Organization.parent_id.in_(level))
                .order_by(Organization.id)
            )
        )
        below = [o for o in below if o.id not in seen]
        seen.update(o.id for o in below)
        found.extend(below)
        level = [o.id for o in below]
    return found


def ancestors(session: Session, org: Organization) -> list[Organization]:
    """The organisations above `org`, the nearest first (not `org` itself)."""
    found: list[Organization] = []
    seen = {org.id}
    parent_id = org.parent_id
    while parent_id is not None and parent_id not in seen:
        parent = session.get(Organization, parent_id)
        if parent is None:
            break
        found.append(parent)
        seen.add(parent.id)
        parent_id = parent.parent_id
    return found


def network_ids(session: Session, org: Organization) -> set[int]:
    """The ids of `org` and every library below it: what its network's staff may reach."""
    return {org.id, *(o.id for o in descendants(session, org))}
