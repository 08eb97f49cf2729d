"""Who may do what: the one place every update's permission is decided."""

from __future__ import annotations

import enum

from content.domain.states import Role
from content.errors import InvalidInput
from content.storage.models import Post, StaffMember


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


def allowed(staff: StaffMember | None, permission: Permission) -> bool:
    if permission is Permission.PUBLIC:
        return True
    return staff is not None and permission in GRANTS[staff.role]


def may_change(staff: StaffMember | None, post: Post) -> bool:
    """Whether `staff` may open, edit, submit, move or cancel `post` (a draft or not).

    Managers and administrators may, for any post of their library; an editor for their own,
    and for the library's own (from a feed, a plan or the command line: no author)."""
    if staff is None or staff.organization_id != post.organization_id:
        return False
    return staff.role in (Role.MANAGER, Role.ADMIN) or post.author_id in (None, staff.id)


def check_may_change(staff: StaffMember | None, post: Post) -> None:
    """InvalidInput, naming only the post's number, unless `staff` may change `post`."""
    if not may_change(staff, post):
        raise InvalidInput(
            "post #{id} is another person's: only its author, a manager or an administrator "
            "may open or change it",
            id=post.id,
        )
