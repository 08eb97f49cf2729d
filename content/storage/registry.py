"""The organisation, its staff and its channels: validated writes with an audit trail."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from content.domain.languages import check_language
from content.domain.states import (
    ChannelStatus,
    Platform,
    PublicationState,
    Role,
    move_publication,
    transition,
)
from content.domain.timeparse import zone
from content.errors import ConfigurationError, InvalidInput, NotFound
from content.i18n import N_
from content.storage.models import (
    AuditEntry,
    BotConversation,
    Channel,
    Organization,
    Post,
    Publication,
    StaffMember,
)
from content.storage.organizations import network_ids
from content.storage.secrets import NO_KEY, CredentialCipher

_TELEGRAM_USERNAME = re.compile(r"^@[A-Za-z][A-Za-z0-9_]{3,31}$")
# ASCII digits only: Python's \d also takes Arabic-Indic and full-width ones, no platform's ids.
_NUMERIC_ID = re.compile(r"^[0-9]{5,20}$")
_TELEGRAM_CHAT_ID = re.compile(r"^-?[0-9]{1,20}$")
_CHANNEL_NAME = re.compile(r"^[\w][\w.\- ]{0,99}$")
UNSENT = (
    PublicationState.SCHEDULED,
    PublicationState.RETRY_WAIT,
    PublicationState.PAUSED,
    PublicationState.MISSED,
    PublicationState.FAILED,
    PublicationState.UNCONFIRMED,
    PublicationState.SENDING,
)


def audit(
    session: Session,
    org: Organization | None,
    actor: str,
    action: str,
    subject: str | None = None,
    **details: Any,
) -> None:
    session.add(
        AuditEntry(
            organization_id=org.id if org else None,
            actor=actor,
            action=action,
            subject=subject,
            details=details,
        )
    )


def ensure_organization(
    session: Session,
    name: str,
    timezone: str,
    language: str,
    requires_approval: bool | None = None,
) -> Organization:
    """The installation's organisation, created on first use and kept in step with settings.

    `requires_approval` None: the settings leave it to `afisha org set`.
    """
    zone(timezone)
    language = check_language(language)
    org = session.scalars(select(Organization).order_by(Organization.id)).first()
    if org is None:
        org = Organization(
            name=name,
            timezone=timezone,
            language=language,
            requires_approval=bool(requires_approval),
        )
        session.add(org)
        session.flush()
        audit(session, org, "system", "organization.create", f"organization:{org.id}")
        return org
    if requires_approval is not None and org.requires_approval is not requires_approval:
        audit(
            session,
            org,
            "system",
            "organization.update",
            f"organization:{org.id}",
            requires_approval=[org.requires_approval, requires_approval],
        )
        org.requires_approval = requires_approval
    if org.name != name and session.scalar(select(Organization).where(Organization.name == name)):
        raise ConfigurationError(
            f"the settings name the first organisation {name!r}, but another organisation has "
            "that name: choose another in the settings, or rename that one with `afisha org set`"
        )
    if (org.timezone, org.language, org.name) != (timezone, language, name):
        audit(
            session,
            org,
            "system",
            "organization.update",
            f"organization:{org.id}",
            timezone=[org.timezone, timezone],
            language=[org.language, language],
        )
        org.timezone, org.language, org.name = timezone, language, name
    return org


# Staff


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise InvalidInput(
            "unknown role {role!r}: choose admin, manager or editor", role=text
        ) from None


def add_staff(
    session: Session,
    org: Organization,
    user_id: int,
    name: str,
    role: str,
    language: str | None,
    actor: str,
) -> StaffMember:
    if user_id <= 0:
        raise InvalidInput("a Telegram user id is a positive number, not {id}", id=user_id)
    if not name.strip():
        raise InvalidInput("the staff member needs a name")
    parsed_role = parse_role(role)
    lang = check_language(language or org.language)
    if session.scalar(
        select(StaffMember).where(
            StaffMember.organization_id == org.id, StaffMember.telegram_user_id == user_id
        )
    ):
        raise InvalidInput(
            "Telegram user {id} is already on the staff of {org}", id=user_id, org=org.name
        )
    member = StaffMember(
        organization_id=org.id,
        telegram_user_id=user_id,
        name=name.strip(),
        role=parsed_role,
        language=lang,
    )
    session.add(member)
    session.flush()
    audit(session, org, actor, "staff.add", f"staff:{user_id}", role=parsed_role.value)
    return member


def get_staff(session: Session, user_id: int, org: Organization | None = None) -> StaffMember:
    """The person's membership of `org`'s staff (without `org`: their first membership)."""
    query = select(StaffMember).where(StaffMember.telegram_user_id == user_id)
    if org is not None:
        query = query.where(StaffMember.organization_id == org.id)
    member = session.scalars(query.order_by(StaffMember.id)).first()
    if member is None:
        if org is not None:
            raise NotFound(
                "no staff member of {org} has Telegram user id {id}", org=org.name, id=user_id
            )
        raise NotFound("no staff member has Telegram user id {id}", id=user_id)
    return member


def set_staff(
    session: Session,
    org: Organization,
    user_id: int,
    role: str,
    name: str | None,
    language: str | None,
    actor: str,
) -> StaffMember:
    """Change a staff member's role (and name or language, when given) in place."""
    member = get_staff(session, user_id, org)
    parsed_role = parse_role(role)
    if name is not None and not name.strip():
        raise InvalidInput("the staff member needs a name")
    lang = check_language(language) if language is not None else member.language
    audit(
        session,
        org,
        actor,
        "staff.set",
        f"staff:{user_id}",
        role=[member.role.value, parsed_role.value],
        language=[member.language, lang],
    )
    member.role, member.language = parsed_role, lang
    if name is not None:
        member.name = name.strip()
    return member


def remove_staff(session: Session, org: Organization, user_id: int, actor: str) -> None:
    """Take someone off staff: from now on the bot knows them as a stranger.

    Their row is deleted rather than marked, so no query that looks staff up can overlook the
    mark; the posts they wrote or reviewed keep their name instead. The conversations they were
    in end, so a step half-done (a rejection's reason, a draft) cannot be finished.
    """
    member = get_staff(session, user_id, org)
    session.execute(
        update(Post)
        .where(Post.author_id == member.id)
        .values(author_id=None, author_name=member.name)
        .execution_options(synchronize_session="fetch")
    )
    session.execute(
        update(Post)
        .where(Post.reviewed_by == member.id)
        .values(reviewed_by=None, reviewer_name=member.name)
        .execution_options(synchronize_session="fetch")
    )
    # Even on another library's staff still, a step half-done may be this library's: it ends.
    session.execute(delete(BotConversation).where(BotConversation.user_id == user_id))
    session.delete(member)
    audit(session, org, actor, "staff.remove", f"staff:{user_id}", name=member.name)


# Channels


def resume_paused(session: Session, channel: Channel, now: datetime) -> int:
    """A fixed channel's publications paused by expired credentials go out now."""
    paused = list(
        session.scalars(
            select(Publication).where(
                Publication.channel_id == channel.id,
                Publication.state == PublicationState.PAUSED,
            )
        )
    )
    for publication in paused:
        move_publication(publication, PublicationState.SCHEDULED)
        publication.due_at = max(publication.due_at, now)
    return len(paused)


def get_channel(session: Session, name: str, org: Organization) -> Channel:
    """`org`'s own channel of that name: another library's is not found."""
    channel = session.scalar(
        select(Channel).where(Channel.name == name, Channel.organization_id == org.id)
    )
    if channel is None:
        raise _unknown(session, name, {org.id})
    return channel


def reachable_channel(session: Session, name: str, org: Organization) -> Channel:
    """The channel of that name that staff acting for `org` may post to: `org`'s own, or else
    one of its member libraries' (a network head posting for a village library). A channel
    outside `org`'s network is not found, whoever owns it; NotFound lists the reachable ones.
    Two members with a channel of that name (and none of `org`'s own): InvalidInput naming
    them, since acting for that library is what chooses."""
    ids = network_ids(session, org)
    found = list(
        session.scalars(
            select(Channel)
            .where(Channel.name == name, Channel.organization_id.in_(ids))
            .order_by(Channel.id)
        )
    )
    own = [c for c in found if c.organization_id == org.id]
    if own:
        return own[0]
    if not found:
        raise _unknown(session, name, ids)
    if len(found) > 1:
        owners = session.scalars(
            select(Organization.name)
            .where(Organization.id.in_([c.organization_id for c in found]))
            .order_by(Organization.name)
        )
        raise InvalidInput(
            "several member libraries of {org} have a channel named {name!r} ({libraries}): "
            "act for that library to choose its channel",
            org=org.name,
            name=name,
            libraries=", ".join(owners),
        )
    return found[0]


def _unknown(session: Session, name: str, organization_ids: set[int]) -> NotFound:
    known = session.scalars(
        select(Channel.name)
        .where(Channel.organization_id.in_(organization_ids))
        .distinct()
        .order_by(Channel.name)
    )
    return NotFound(
        "unknown channel {name!r} (known channels: {known})",
        name=name,
        known=", ".join(known) or "none",
    )


def _check_external_id(platform: Platform, external_id: str) -> str:
    """The id as given, if it is one the platform can have; the refusal states the rule."""
    value = external_id.strip()
    if platform is Platform.TELEGRAM:
        if _TELEGRAM_CHAT_ID.match(value) or _TELEGRAM_USERNAME.match(value):
            return value
        raise InvalidInput(
            "Telegram chat id {id!r} is neither a number of up to 20 digits (0-9, e.g. "
            "-1001234567890) nor an @username (@, then 4 to 32 letters, digits or _, beginning "
            "with a letter)",
            id=external_id,
        )
    if not _NUMERIC_ID.match(value):
        if platform is Platform.FACEBOOK:
            what, example = N_("Facebook Page id"), "100200300400500"
        else:
            what, example = N_("Instagram user id"), "17841400000000000"
        raise InvalidInput(
            "{what} {id!r} must be 5 to 20 digits (0-9), e.g. {example}",
            what=what,
            id=external_id,
            example=example,
        )
    return value


def add_channel(
    session: Session,
    org: Organization,
    cipher: CredentialCipher,
    *,
    name: str,
    platform: Platform,
    external_id: str,
    token: str | None,
    language: str | None,
    actor: str,
    linked_page_id: str | None = None,
) -> Channel:
    """Register a channel; its token (if any) is stored encrypted.

    `linked_page_id` (Instagram): the Facebook Page that can host images for it.
    """
    name = name.strip()
    if not _CHANNEL_NAME.match(name):
        raise InvalidInput(
            "channel name {name!r} must start with a letter or digit and be at most 100 "
            "characters of letters, digits, spaces, '.', '_' or '-'",
            name=name,
        )
    if session.scalar(
        select(Channel).where(Channel.name == name, Channel.organization_id == org.id)
    ):
        raise InvalidInput("a channel named {name!r} already exists", name=name)
    external = _check_external_id(platform, external_id)
    lang = check_language(language or org.language)
    if platform is not Platform.TELEGRAM and not token:
        raise InvalidInput(
            "a {platform} channel needs an access token (--token)", platform=platform.value
        )
    if token and not cipher.available:
        raise InvalidInput(NO_KEY)
    credentials: dict[str, str] = {"access_token": token} if token else {}
    if linked_page_id:
        credentials["page_id"] = _check_external_id(Platform.FACEBOOK, linked_page_id)
    channel = Channel(
        organization_id=org.id,
        platform=platform,
        name=name,
        external_id=external,
        language=lang,
        credentials_encrypted=cipher.encrypt(credentials) if credentials else None,
        status=ChannelStatus.ACTIVE,
    )
    session.add(channel)
    session.flush()
    audit(session, org, actor, "channel.add", f"channel:{channel.id}", platform=platform.value)
    return channel


def set_channel_status(
    session: Session,
    org: Organization,
    name: str,
    status: ChannelStatus,
    actor: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> Channel:
    """Pause or resume a channel; resuming sends what expired credentials paused, from `now`
    (the current time unless given: the engine's clock, say)."""
    channel = get_channel(session, name, org)
    if channel.status is not status:
        channel.status = transition(channel.status, status)
    channel.status_reason = reason
    if status is ChannelStatus.ACTIVE:
        resume_paused(session, channel, now or datetime.now(UTC))
    audit(session, org, actor, f"channel.{status.value}", f"channel:{channel.id}")
    return channel


def remove_channel(session: Session, org: Organization, name: str, actor: str) -> None:
    """Delete a channel that has no publications; one with history can only be paused."""
    channel = get_channel(session, name, org)
    unsent = session.scalar(
        select(func.count())
        .select_from(Publication)
        .where(Publication.channel_id == channel.id, Publication.state.in_(UNSENT))
    )
    if unsent:
        raise InvalidInput(
            "channel {name!r} still has {count} publication(s) waiting: cancel them first, "
            "or pause the channel",
            name=name,
            count=unsent,
        )
    if session.scalar(
        select(func.count()).select_from(Publication).where(Publication.channel_id == channel.id)
    ):
        raise InvalidInput(
            "channel {name!r} has published history that reports need: pause it instead",
            name=name,
        )
    session.delete(channel)
    audit(session, org, actor, "channel.remove", f"channel:{channel.id}", name=name)
