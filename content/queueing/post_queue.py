"""The queue of posts as staff handle it: a page at a time, moved, or sent out now."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content.domain.states import PostStatus, PublicationState, move_publication
from content.errors import InvalidInput
from content.queueing.drafts import get_post
from content.storage.models import Organization, Post, Publication
from content.storage.registry import audit

# Unsent and not in flight. SENDING and UNCONFIRMED may already be out: they stay as they are.
MOVABLE = (
    PublicationState.SCHEDULED,
    PublicationState.RETRY_WAIT,
    PublicationState.PAUSED,
    PublicationState.MISSED,
    PublicationState.FAILED,
)
# These wait for nothing but their time once moved (RETRY_WAIT is claimable as it is; PAUSED
# waits for its channel).
_RESCHEDULE = (PublicationState.MISSED, PublicationState.FAILED)


@dataclass(frozen=True)
class QueuePage:
    posts: list[Post]
    page: int  # from 0
    pages: int  # at least 1
    total: int


def next_due(post: Post) -> datetime | None:
    """When the post's first unsent publication is due."""
    return min((p.due_at for p in post.publications if p.state in MOVABLE), default=None)


def queue_page(session: Session, org: Organization, page: int, size: int = 5) -> QueuePage:
    """Queued posts with something unsent, soonest first; `page` is clamped to the last."""
    movable = (
        select(Publication.post_id, func.min(Publication.due_at).label("due"))
        .where(Publication.post_id.is_not(None), Publication.state.in_(MOVABLE))
        .group_by(Publication.post_id)
        .subquery()
    )
    query = (
        select(Post)
        .join(movable, movable.c.post_id == Post.id)
        .where(Post.organization_id == org.id, Post.status == PostStatus.QUEUED)
    )
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    pages = max(1, -(-total // size))
    page = min(max(page, 0), pages - 1)
    posts = session.scalars(
        query.order_by(movable.c.due, Post.id).offset(page * size).limit(size)
    ).all()
    return QueuePage(list(posts), page, pages, total)


def _queued(session: Session, org: Organization, post_id: int) -> tuple[Post, list[Publication]]:
    post = get_post(session, org, post_id)
    unsent = [p for p in post.publications if p.state in MOVABLE]
    if post.status is not PostStatus.QUEUED or not unsent:
        raise InvalidInput("post {id} is no longer waiting in the queue", id=post_id)
    return post, unsent


def reschedule_post(
    session: Session,
    org: Organization,
    post_id: int,
    due_at: datetime,
    now: datetime,
    actor: str,
) -> int:
    """Move a queued post's unsent publications to `due_at`; returns how many moved."""
    if due_at <= now:
        raise InvalidInput("the new time is in the past: choose a later time")
    _post, unsent = _queued(session, org, post_id)
    for publication in unsent:
        publication.due_at = due_at
        publication.last_error = None
        if publication.state in _RESCHEDULE:
            move_publication(publication, PublicationState.SCHEDULED)
    audit(session, org, actor, "post.reschedule", f"post:{post_id}", due_at=due_at.isoformat())
    return len(unsent)


def publish_now(
    session: Session, org: Organization, post_id: int, now: datetime, actor: str
) -> int:
    """Make a queued post due now (the engine takes it on its next look); returns how many
    publications will go. A paused channel's publication waits for the channel."""
    _post, unsent = _queued(session, org, post_id)
    for publication in unsent:
        publication.due_at = now
        publication.last_error = None
        if publication.state in _RESCHEDULE:
            move_publication(publication, PublicationState.SCHEDULED)
    audit(session, org, actor, "post.publish_now", f"post:{post_id}")
    return sum(1 for p in unsent if p.state is not PublicationState.PAUSED)
