"""Changing the organisation tree: add, change and remove libraries, validated and audited.

Every check runs before anything is written, so a refusal leaves the database as it was.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from content.domain.languages import check_language
from content.domain.states import PostStatus
from content.domain.timeparse import zone
from content.errors import InvalidInput
from content.storage.models import (
    AuditEntry,
    Channel,
    Event,
    Feed,
    FeedItem,
    ImportRow,
    Media,
    Notice,
    Organization,
    Post,
    StaffMember,
)
from content.storage.organizations import children, descendants, find_organization, organizations
from content.storage.registry import audit

NAME_LENGTH = 200
# A day: a post more than that late is news no longer, and asks a person instead.
LONGEST_GRACE = 24 * 60


@dataclass(frozen=True)
class OrgSettings:
    """What `org add` and `org set` may give; None leaves a value as it is (or as inherited).

    `parent` names the network head; `detach` makes the library a head of its own.
    """

    parent: str | None = None
    detach: bool = False
    timezone: str | None = None
    language: str | None = None
    requires_approval: bool | None = None
    grace_minutes: int | None = None


def check_name(session: Session, name: str, keep: Organization | None = None) -> str:
    """`name` trimmed, if it is one no other organisation has (compared ignoring case)."""
    cleaned = name.strip()
    if not cleaned or not cleaned.isprintable():
        raise InvalidInput("an organisation needs a name of printable characters")
    if len(cleaned) > NAME_LENGTH:
        raise InvalidInput(
            "an organisation's name is at most {limit} characters", limit=NAME_LENGTH
        )
    clash = session.scalar(
        select(Organization).where(func.lower(Organization.name) == cleaned.lower())
    )
    if clash is not None and clash is not keep:
        raise InvalidInput("an organisation named {name} already exists", name=clash.name)
    return cleaned


def check_grace(minutes: int) -> int:
    if not 0 <= minutes <= LONGEST_GRACE:
        raise InvalidInput(
            "the grace period is 0 to {limit} minutes, not {minutes}",
            limit=LONGEST_GRACE,
            minutes=minutes,
        )
    return minutes


def _parent(session: Session, org: Organization | None, wanted: OrgSettings) -> int | None:
    """The parent id `wanted` asks for (unchanged when it names none); refuses a cycle."""
    if wanted.detach:
        if wanted.parent is not None:
            raise InvalidInput("give either --parent or --no-parent, not both")
        return None
    if wanted.parent is None:
        return org.parent_id if org is not None else None
    parent = find_organization(session, wanted.parent)
    if org is not None and (parent.id == org.id or parent in descendants(session, org)):
        raise InvalidInput(
            "{parent} cannot be the network head of {name}: it is {name} itself or one of its "
            "member libraries, and the tree would go round in a circle",
            parent=parent.name,
            name=org.name,
        )
    return parent.id


def add_organization(
    session: Session, name: str, wanted: OrgSettings, actor: str, *, default: Organization
) -> Organization:
    """A new library; time zone and language come from its network head, else `default`."""
    cleaned = check_name(session, name)
    parent_id = _parent(session, None, wanted)
    model = session.get(Organization, parent_id) if parent_id is not None else default
    assert model is not None  # noqa: S101 - _parent found it
    timezone = zone(wanted.timezone).key if wanted.timezone else model.timezone
    language = check_language(wanted.language) if wanted.language else model.language
    grace = check_grace(wanted.grace_minutes) if wanted.grace_minutes is not None else None
    org = Organization(
        name=cleaned,
        parent_id=parent_id,
        timezone=timezone,
        language=language,
        requires_approval=bool(wanted.requires_approval),
        grace_minutes=grace,
    )
    session.add(org)
    session.flush()
    audit(
        session,
        org,
        actor,
        "organization.create",
        f"organization:{org.id}",
        name=cleaned,
        parent_id=parent_id,
        timezone=timezone,
        language=language,
        requires_approval=org.requires_approval,
        grace_minutes=grace,
    )
    return org


def change_organization(
    session: Session,
    org: Organization,
    wanted: OrgSettings,
    actor: str,
    *,
    new_name: str | None = None,
) -> dict[str, list[object]]:
    """Apply `wanted` to `org`; returns what changed as {field: [before, after]}."""
    after: dict[str, object] = {
        "name": check_name(session, new_name, keep=org) if new_name is not None else org.name,
        "parent_id": _parent(session, org, wanted),
        "timezone": zone(wanted.timezone).key if wanted.timezone else org.timezone,
        "language": check_language(wanted.language) if wanted.language else org.language,
        "requires_approval": (
            org.requires_approval if wanted.requires_approval is None else wanted.requires_approval
        ),
        "grace_minutes": (
            org.grace_minutes if wanted.grace_minutes is None else check_grace(wanted.grace_minutes)
        ),
    }
    changed = {
        key: [getattr(org, key), value]
        for key, value in after.items()
        if getattr(org, key) != value
    }
    for key, (_before, value) in changed.items():
        setattr(org, key, value)
    if changed:
        audit(session, org, actor, "organization.update", f"organization:{org.id}", **changed)
    return changed


def _count(session: Session, model: type[Channel | Post | Event], org: Organization) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(model).where(model.organization_id == org.id)
        )
        or 0
    )


def removal_refusal(session: Session, org: Organization) -> InvalidInput | None:
    """Why `org` cannot be removed now, or None: what it still holds would be lost."""
    members = children(session, org)
    if members:
        return InvalidInput(
            "{name} is the network head of {members}: remove them or give them another "
            "network head first (org set NAME --parent ...)",
            name=org.name,
            members=", ".join(m.name for m in members),
        )
    if organizations(session)[0].id == org.id:
        return InvalidInput(
            "{name} is the installation's organisation, named in the settings: it cannot be "
            "removed",
            name=org.name,
        )
    channels = _count(session, Channel, org)
    if channels:
        return InvalidInput(
            "{name} still has {count} channel(s): remove them first",
            name=org.name,
            count=channels,
        )
    queued = session.scalar(
        select(func.count())
        .select_from(Post)
        .where(
            Post.organization_id == org.id,
            Post.status.in_((PostStatus.QUEUED, PostStatus.PENDING_APPROVAL, PostStatus.DRAFT)),
        )
    )
    if queued:
        return InvalidInput(
            "{name} still has {count} queued post(s) or draft(s): cancel or discard them first",
            name=org.name,
            count=queued,
        )
    if _count(session, Post, org) or _count(session, Event, org):
        return InvalidInput(
            "{name} has posts or events in its history that reports need: it cannot be removed",
            name=org.name,
        )
    return None


def remove_organization(session: Session, org: Organization, actor: str) -> None:
    """Delete a library that holds nothing more than its staff, feeds and images.

    Its staff memberships, feeds and image records go with it (a person on other libraries'
    staff stays there); its audit trail stays, no longer tied to it.
    """
    refusal = removal_refusal(session, org)
    if refusal is not None:
        raise refusal
    staff = list(
        session.scalars(
            select(StaffMember.telegram_user_id).where(StaffMember.organization_id == org.id)
        )
    )
    feeds = select(Feed.id).where(Feed.organization_id == org.id)
    session.execute(delete(FeedItem).where(FeedItem.feed_id.in_(feeds)))
    for model in (StaffMember, Feed, ImportRow, Media, Notice):
        session.execute(delete(model).where(model.organization_id == org.id))
    session.execute(
        update(AuditEntry)
        .where(AuditEntry.organization_id == org.id)
        .values(organization_id=None)
        .execution_options(synchronize_session=False)
    )
    session.delete(org)
    session.flush()
    audit(
        session,
        None,
        actor,
        "organization.remove",
        f"organization:{org.id}",
        name=org.name,
        staff=staff,
    )
