"""Partner libraries' public Instagram accounts that an organisation follows without a token."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from content.errors import InvalidInput, NotFound
from content.storage.models import Organization, PartnerAccount, PartnerPost
from content.storage.registry import audit

# Instagram's rule: 1-30 letters, digits, '_' and '.', no '.' first, last or twice in a row.
USERNAME = re.compile(r"^(?!\.)(?!.*\.\.)(?!.*\.$)[a-z0-9._]{1,30}$")
# How often a partner's recent posts are read again.
PARTNER_EVERY = timedelta(hours=6)


@dataclass(frozen=True)
class SeenPost:
    """A partner post as the public page shows it (None: the count is hidden, not zero)."""

    shortcode: str
    posted_at: datetime
    caption: str | None
    reactions: int | None
    comments: int | None
    views: int | None
    source: str


def check_username(raw: str) -> str:
    """The username as Instagram keeps it (lower case, no '@'), or InvalidInput."""
    # ASCII first: some letters (the Kelvin sign) lower-case into ASCII ones.
    username = raw.strip().removeprefix("@")
    username = username.lower() if username.isascii() else ""
    if not USERNAME.match(username):
        raise InvalidInput(
            "{username!r} is not an Instagram username: 1-30 letters, digits, '_' and '.', "
            "not starting or ending with '.'",
            username=raw,
        )
    return username


def find_partner(session: Session, org: Organization, username: str) -> PartnerAccount | None:
    return session.scalars(
        select(PartnerAccount).where(
            PartnerAccount.organization_id == org.id, PartnerAccount.username == username
        )
    ).first()


def check_new_partner(session: Session, org: Organization, raw: str) -> str:
    """The checked username of an account `org` does not follow yet, or InvalidInput."""
    username = check_username(raw)
    if find_partner(session, org, username) is not None:
        raise InvalidInput(
            "{org} already follows the Instagram account {username}",
            org=org.name,
            username=username,
        )
    return username


def add_partner(
    session: Session, org: Organization, raw: str, full_name: str | None, actor: str
) -> PartnerAccount:
    """Follow a public account (its existence is checked on Instagram by the caller)."""
    username = check_new_partner(session, org, raw)
    partner = PartnerAccount(organization_id=org.id, username=username, full_name=full_name)
    session.add(partner)
    session.flush()
    audit(session, org, actor, "partner.add", f"partner:{partner.id}", username=username)
    return partner


def remove_partner(session: Session, org: Organization, raw: str, actor: str) -> None:
    username = check_username(raw)
    partner = find_partner(session, org, username)
    if partner is None:
        raise NotFound(
            "{org} follows no Instagram account named {username}: see `afisha partner list`",
            org=org.name,
            username=username,
        )
    audit(session, org, actor, "partner.remove", f"partner:{partner.id}", username=username)
    session.delete(partner)


def list_partners(session: Session, organization_ids: Collection[int]) -> list[PartnerAccount]:
    """The partners these organisations follow, with their posts, by organisation and name."""
    return list(
        session.scalars(
            select(PartnerAccount)
            .where(PartnerAccount.organization_id.in_(organization_ids))
            .options(selectinload(PartnerAccount.posts))
            .order_by(PartnerAccount.organization_id, PartnerAccount.username)
        )
    )


def due_partners(session: Session, now: datetime, limit: int) -> list[tuple[int, str]]:
    """(id, username) of the partners not read within `PARTNER_EVERY`, least recent first."""
    rows = session.execute(
        select(PartnerAccount.id, PartnerAccount.username)
        .where(
            or_(
                PartnerAccount.checked_at.is_(None),
                PartnerAccount.checked_at <= now - PARTNER_EVERY,
            )
        )
        .order_by(PartnerAccount.checked_at.is_not(None), PartnerAccount.checked_at)
        .limit(limit)
    )
    return [(row.id, row.username) for row in rows]


def store_partner_posts(
    session: Session,
    partner_id: int,
    posts: Sequence[SeenPost],
    now: datetime,
    full_name: str | None = None,
) -> int:
    """Keep the latest public counts of each post read; returns how many were stored."""
    partner = session.get_one(PartnerAccount, partner_id)
    known = {p.shortcode: p for p in partner.posts}
    for seen in posts:
        row = known.get(seen.shortcode)
        if row is None:
            row = PartnerPost(partner_id=partner.id, shortcode=seen.shortcode)
            partner.posts.append(row)
        row.posted_at, row.caption = seen.posted_at, seen.caption
        row.reactions, row.comments, row.views = seen.reactions, seen.comments, seen.views
        row.collected_at, row.source = now, seen.source
    partner.checked_at, partner.last_error = now, None
    if full_name:
        partner.full_name = full_name
    return len(posts)


def note_partner_failure(session: Session, partner_id: int, now: datetime, reason: str) -> None:
    partner = session.get_one(PartnerAccount, partner_id)
    partner.checked_at, partner.last_error = now, reason
