"""After a crash or downtime: expired leases, missed publications, unconfirmed outcomes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, false, or_, select, update
from sqlalchemy.orm import Session, selectinload

from channels.base import ChannelError, Outgoing, Verdict
from content.domain.states import PublicationState, move_publication
from content.storage.models import Attempt, Channel, Organization, Post, PostMedia, Publication
from content.storage.notices import NoticeKind, add_notice
from content.storage.store import organization_zones
from scheduler.claims import CLAIMABLE
from scheduler.compose import compose
from scheduler.datastore import mark_sent
from scheduler.engine import Engine

log = logging.getLogger(__name__)

VERIFY_EVERY = timedelta(minutes=1)
VERIFY_TRIES = 3
RECONCILE_BATCH = 200


def expire_leases(session: Session, now: datetime) -> int:
    """Attempts whose worker vanished mid-send become UNCONFIRMED (they may have posted)."""
    stale = list(
        session.scalars(
            select(Publication)
            .where(Publication.state == PublicationState.SENDING, Publication.lease_until < now)
            .with_for_update(skip_locked=True, of=Publication)
        )
    )
    for publication in stale:
        move_publication(publication, PublicationState.UNCONFIRMED)
        publication.last_error = "the worker stopped while sending"
        session.execute(
            update(Attempt)
            .where(Attempt.publication_id == publication.id, Attempt.finished_at.is_(None))
            .values(finished_at=now, outcome="crashed")
        )
    return len(stale)


def _past_grace(session: Session, now: datetime, grace: timedelta) -> ColumnElement[bool]:
    """Due longer ago than the grace period of the channel's organisation (its own, or
    `grace`): one condition per distinct grace period, however many libraries share it."""
    libraries: dict[timedelta, list[int]] = {}
    for org_id, minutes in session.execute(select(Organization.id, Organization.grace_minutes)):
        own = grace if minutes is None else timedelta(minutes=minutes)
        libraries.setdefault(own, []).append(org_id)
    return or_(
        false(),
        *(
            and_(Channel.organization_id.in_(ids), Publication.due_at < now - period)
            for period, ids in libraries.items()
        ),
    )


def mark_missed(session: Session, now: datetime, grace: timedelta) -> int:
    """Publications overdue by more than their organisation's grace period (`grace` where it
    sets none) wait for a person's decision."""
    overdue = list(
        session.scalars(
            select(Publication)
            .join(Channel, Publication.channel_id == Channel.id)
            .where(Publication.state.in_(CLAIMABLE), _past_grace(session, now, grace))
            .with_for_update(skip_locked=True, of=Publication)
        )
    )
    for publication in overdue:
        move_publication(publication, PublicationState.MISSED)
        late = now - publication.due_at
        publication.last_error = f"missed: {int(late.total_seconds() // 60)} minutes overdue"
        add_notice(
            session,
            NoticeKind.PUBLICATION_MISSED,
            publication_id=publication.id,
            channel_id=publication.channel_id,
            due_at=publication.due_at.isoformat(),
        )
    return len(overdue)


def _unconfirmed(session: Session) -> Iterator[Publication]:
    """Every unconfirmed publication, in pages by id: those whose tries are used up (and which
    stay unconfirmed until a person decides) must not hide the others behind a LIMIT."""
    after = 0
    while True:
        page = session.scalars(
            select(Publication)
            .where(Publication.state == PublicationState.UNCONFIRMED, Publication.id > after)
            .order_by(Publication.id)
            .options(
                selectinload(Publication.post).selectinload(Post.media).joinedload(PostMedia.media),
                selectinload(Publication.event),
            )
            .limit(RECONCILE_BATCH)
        ).all()
        yield from page
        if len(page) < RECONCILE_BATCH:
            return
        after = page[-1].id


async def reconcile_unconfirmed(engine: Engine) -> dict[str, int]:
    """Ask each channel whether its unconfirmed publications are on the platform."""
    now = engine.clock.now()
    tally = {"posted": 0, "not_posted": 0, "unknown": 0}
    with engine.sessions.begin() as session:
        zones = organization_zones(session)
        work: list[tuple[int, Channel, Outgoing, dict[str, Any], datetime]] = []
        for publication in _unconfirmed(session):
            if len(work) >= RECONCILE_BATCH:
                break
            progress = dict(publication.progress or {})
            tries = int(progress.get("verify_tries", 0))
            last = progress.get("verified_at")
            if tries >= VERIFY_TRIES or (
                last and now - datetime.fromisoformat(last) < VERIFY_EVERY
            ):
                continue
            started = session.scalar(
                select(Attempt.started_at)
                .where(Attempt.publication_id == publication.id)
                .order_by(Attempt.number.desc())
                .limit(1)
            )
            channel = publication.channel
            outgoing = compose(publication, zones[channel.organization_id], engine.settings.media)
            work.append((publication.id, channel, outgoing, progress, started or now))
        session.expunge_all()  # the channels travel outside this session
    for publication_id, channel, outgoing, progress, started in work:
        try:
            adapter = engine.channels(channel)
            result = await adapter.verify(outgoing, progress, started - timedelta(minutes=1))
        except ChannelError as err:
            log.info("verifying publication %s failed: %s", publication_id, err.reason)
            result = None
        verdict = result.verdict if result else Verdict.UNKNOWN
        with engine.sessions.begin() as session:
            publication = session.get_one(
                Publication, publication_id, with_for_update={"of": Publication}
            )
            if publication.state is not PublicationState.UNCONFIRMED:
                continue  # settled meanwhile, e.g. by a person
            tries = int(progress.get("verify_tries", 0)) + 1
            publication.progress = {
                **(publication.progress or {}),
                "verify_tries": tries,
                "verified_at": now.isoformat(),
            }
            if verdict is Verdict.POSTED and result and result.published:
                mark_sent(session, publication, result.published, now)
            elif verdict is Verdict.NOT_POSTED:
                # Confirmed absent: sending again cannot double it.
                move_publication(publication, PublicationState.SCHEDULED)
                publication.due_at = now
            elif tries == 1 or tries >= VERIFY_TRIES:
                # Tell staff once when it first cannot be settled, not on every try.
                if not (publication.progress or {}).get("asked"):
                    publication.progress = {**publication.progress, "asked": True}
                    add_notice(
                        session,
                        NoticeKind.PUBLICATION_UNCONFIRMED,
                        publication_id=publication.id,
                        channel_id=publication.channel_id,
                        reason=publication.last_error or "",
                    )
        tally[verdict.value] += 1
    return tally
