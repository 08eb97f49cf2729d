"""Partner libraries' public Instagram counts, summed as reports sum our own: unknown (a hidden
like count) is n/a, and each total says for how many posts it was known."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.analytics.metrics import Counts, Totals, total_of
from content.analytics.periods import Period
from content.storage.models import Organization, PartnerPost
from content.storage.partners import list_partners


@dataclass(frozen=True)
class PartnerSummary:
    organization: str
    username: str
    full_name: str | None
    checked_at: datetime | None
    last_error: str | None
    posts: list[PartnerPost]
    totals: Totals


def partner_summaries(
    session: Session, organization_ids: Collection[int], period: Period | None = None
) -> list[PartnerSummary]:
    """Each followed partner with its posts (those posted in `period`, if given) and totals."""
    names: dict[int, str] = {
        org_id: name
        for org_id, name in session.execute(
            select(Organization.id, Organization.name).where(Organization.id.in_(organization_ids))
        )
    }
    summaries = []
    for partner in list_partners(session, organization_ids):
        posts = [
            p for p in partner.posts if period is None or period.start <= p.posted_at < period.end
        ]
        totals = total_of(
            Counts(reactions=p.reactions, comments=p.comments, views=p.views) for p in posts
        )
        summaries.append(
            PartnerSummary(
                names[partner.organization_id],
                partner.username,
                partner.full_name,
                partner.checked_at,
                partner.last_error,
                posts,
                totals,
            )
        )
    return summaries
