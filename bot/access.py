"""Who may do what: the one place every update's permission is decided.

A person may be on several organisations' staff. The role that counts is the one in the
organisation being acted on: their own role there, or the one they hold in a library above it
(a network head's staff reach its member libraries), whichever is the stronger."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from content.domain.states import Role
from content.errors import InvalidInput
from content.storage.models import Organization, Post, StaffMember
from content.storage.organizations import descendants


class Permission(enum.StrEnum):
    PUBLIC = "public"  # /start, /events, /help, /lang, "Remind me"
    EDIT = "edit"  # drafts, the queue, events
    APPROVE = "approve"  # approvals
    STATS = "stats"  # stats and reports
    ADMIN = "admin"  # channels and staff


GRANTS: dict[Role, frozenset[Permission]] = {
    Role.EDITOR: frozenset({Permission.PUBLIC, Permission.EDIT}),
    Role.MANAGER: frozenset(
        {Permission.PUBLIC, Permission.EDIT, Permission.APPROVE, Permission.STATS}
    ),
    Role.ADMIN: frozenset(Permission),
}
RANK = {Role.EDITOR: 1, Role.MANAGER: 2, Role.ADMIN: 3}


class HasRole(Protocol):
    @property
    def role(self) -> Role: ...


@dataclass(frozen=True)
class Standing:
    """A person's place in one organisation: the role that counts there, and the staff row it
    comes from (that organisation's own, or a library's above it)."""

    organization: Organization
    role: Role
    staff: StaffMember
    own_staff_ids: frozenset[int]  # every membership of the person: what they wrote is theirs


def standings(session: Session, memberships: list[StaffMember]) -> dict[int, Standing]:
    """Every organisation the person may reach, by id, with their standing in it."""
    own = frozenset(m.id for m in memberships)
    found: dict[int, Standing] = {}
    for member in memberships:
        org = session.get_one(Organization, member.organization_id)
        for reached in (org, *descendants(session, org)):
            current = found.get(reached.id)
            stronger = current is None or RANK[member.role] > RANK[current.role]
            # Equal roles: the organisation's own staff row speaks (its name and language).
            closer = (
                current is not None
                and RANK[member.role] == RANK[current.role]
                and member.organization_id == reached.id
            )
            if stronger or closer:
                found[reached.id] = Standing(reached, member.role, member, own)
    return dict(sorted(found.items()))


def allowed(who: HasRole | None, permission: Permission) -> bool:
    if permission is Permission.PUBLIC:
        return True
    return who is not None and permission in GRANTS[who.role]


def may_change(who: Standing | None, post: Post) -> bool:
    """Whether someone of standing `who` may open, edit, submit, move or cancel `post`.

    Managers and administrators may, for any post of the library; an editor for their own,
    and for the library's own (from a feed, a plan or the command line: no author)."""
    if who is None or who.organization.id != post.organization_id:
        return False
    return who.role in (Role.MANAGER, Role.ADMIN) or (
        post.author_id is None or post.author_id in who.own_staff_ids
    )


def check_may_change(who: Standing | None, post: Post) -> None:
    """InvalidInput, naming only the post's number, unless `who` may change `post`."""
    if not may_change(who, post):
        raise InvalidInput(
            "post #{id} is another person's: only its author, a manager or an administrator "
            "may open or change it",
            id=post.id,
        )
