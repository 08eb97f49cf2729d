"""Who may do what: the one place every update's permission is decided."""

from __future__ import annotations

import enum

from content.domain.states import Role
from content.storage.models import StaffMember


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
