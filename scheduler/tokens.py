"""Token health: ask each channel about its credentials, remember the answer, and tell staff once
when a token expires within a week or no longer works."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from channels.base import ChannelError, CredentialStatus, NotSent
from content.storage.models import Channel, Notice
from content.storage.notices import NoticeKind, add_notice
from scheduler.engine import Engine

log = logging.getLogger(__name__)

WARN_BEFORE = timedelta(days=7)
CHECK_EVERY = timedelta(hours=6)  # the interval the wiring runs check_tokens at


def problem_key(status: CredentialStatus, now: datetime) -> str | None:
    """What is wrong with a token, as a stable key (one notice per key); None if nothing."""
    if not status.valid:
        return "invalid"
    if status.expires_at is not None and status.expires_at - now <= WARN_BEFORE:
        return f"expires:{status.expires_at.isoformat()}"
    return None


def _latest_notice(session: Session, channel_id: int) -> Notice | None:
    return session.scalars(
        select(Notice)
        .where(Notice.kind == NoticeKind.TOKEN_EXPIRING.value, Notice.channel_id == channel_id)
        .order_by(Notice.id.desc())
        .limit(1)
    ).first()


def record_check(
    session: Session, channel: Channel, status: CredentialStatus, now: datetime
) -> bool:
    """Store one check's answer; returns True if it added a notice.

    A healthy answer marks the channel's last warning resolved, so the same problem coming
    back later is told again; an unchanged problem is told only once.
    """
    channel.token_checked_at = now
    channel.token_expires_at = status.expires_at
    key = problem_key(status, now)
    latest = _latest_notice(session, channel.id)
    if key is None:
        if latest is not None and not latest.details.get("resolved"):
            latest.details = {**latest.details, "resolved": True}
        return False
    if (
        latest is not None
        and latest.details.get("key") == key
        and not latest.details.get("resolved")
    ):
        return False
    add_notice(
        session,
        NoticeKind.TOKEN_EXPIRING,
        organization_id=channel.organization_id,
        channel_id=channel.id,
        key=key,
        valid=status.valid,
        detail=status.detail,
        expires_at=status.expires_at.isoformat() if status.expires_at else None,
    )
    return True


async def check_tokens(engine: Engine) -> int:
    """Check every channel's credentials through its adapter; returns how many notices were
    added. A channel whose platform could not be asked keeps its last known health."""
    with engine.sessions() as session:
        channels = list(session.scalars(select(Channel).order_by(Channel.id)))
        session.expunge_all()  # the channels travel outside this session
    answers: list[tuple[int, CredentialStatus]] = []
    for channel in channels:
        try:
            status = await engine.channels(channel).check_credentials()
        except NotSent as err:
            log.info("token of channel %s not checked now: %s", channel.name, err.reason)
            continue
        except ChannelError as err:  # e.g. AuthExpired: no token stored at all
            status = CredentialStatus(False, err.reason)
        answers.append((channel.id, status))
    added = 0
    now = engine.clock.now()
    with engine.sessions.begin() as session:
        for channel_id, status in answers:
            checked = session.get(Channel, channel_id)
            if checked is not None:  # not removed meanwhile
                added += record_check(session, checked, status, now)
    return added
