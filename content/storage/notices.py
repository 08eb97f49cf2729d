"""The staff notice outbox: the engine writes, the bot delivers."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.storage.models import Notice


class NoticeKind(enum.StrEnum):
    PUBLICATION_FAILED = "publication_failed"
    PUBLICATION_UNCONFIRMED = "publication_unconfirmed"
    PUBLICATION_MISSED = "publication_missed"
    CHANNEL_AUTH_EXPIRED = "channel_auth_expired"
    TOKEN_EXPIRING = "token_expiring"  # noqa: S105 - a notice kind, not a secret
    # Written by the bot's weekly job (details: {"week": "2026-W49"}), delivered to managers.
    WEEKLY_DIGEST = "weekly_digest"
    # Written on the 1st of each month (details: {"month": "2026-11"}), the report to managers.
    MONTHLY_REPORT = "monthly_report"


def add_notice(
    session: Session,
    kind: NoticeKind,
    *,
    organization_id: int | None = None,
    publication_id: int | None = None,
    channel_id: int | None = None,
    **details: Any,
) -> Notice:
    notice = Notice(
        organization_id=organization_id,
        kind=kind.value,
        publication_id=publication_id,
        channel_id=channel_id,
        details=details,
    )
    session.add(notice)
    return notice


def undelivered(session: Session, limit: int = 100) -> list[Notice]:
    return list(
        session.scalars(
            select(Notice).where(Notice.delivered_at.is_(None)).order_by(Notice.id).limit(limit)
        )
    )


def mark_delivered(session: Session, notice: Notice, at: datetime) -> None:
    notice.delivered_at = at
