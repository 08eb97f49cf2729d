"""Drafts and approvals: posts that are planned but not queued yet.

A draft, and a post waiting for approval, keeps its plan (channel ids and time) on the post and
has no publications: the engine can never claim anything that is unfinished or unapproved.
Approval makes the publications; rejection returns the post to its author's drafts.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.domain.characters import check_characters, visible
from content.domain.states import PostStatus, PublicationKind, PublicationState, Role, transition
from content.errors import InvalidInput, NotFound
from content.queueing.scheduling import NewPost, check_post, fill_post
from content.storage.media import inspect_image
from content.storage.models import Channel, Organization, Post, Publication
from content.storage.registry import audit, reachable_channel

UNQUEUED = (PostStatus.DRAFT, PostStatus.PENDING_APPROVAL)


def get_post(session: Session, org: Organization, post_id: int) -> Post:
    post = session.get(Post, post_id)
    if post is None or post.organization_id != org.id:
        raise NotFound("no post has id {id}", id=post_id)
    return post


def _editable_draft(draft: Post | None) -> None:
    if draft is not None and draft.status is not PostStatus.DRAFT:
        raise InvalidInput(
            "post {id} is no longer a draft (it is {status})",
            id=draft.id,
            status=draft.status.value,
        )


def save_draft(
    session: Session,
    org: Organization,
    new: NewPost,
    media_dir: Path,
    actor: str,
    *,
    draft: Post | None = None,
) -> Post:
    """Keep `new` as a draft (a new one, or `draft` updated); channels and time may be missing,
    and nothing is checked against the channels' limits yet."""
    _editable_draft(draft)
    if not visible(new.text):
        raise InvalidInput("the post has no text")
    check_characters(new.text)
    channels = [reachable_channel(session, name, org) for name in dict.fromkeys(new.channels)]
    facts = [inspect_image(path) for path in new.images]
    post = draft if draft is not None else Post(organization_id=org.id, status=PostStatus.DRAFT)
    fill_post(session, org, post, new, facts, media_dir)
    post.planned_channels = [c.id for c in channels]
    post.planned_at = new.due_at
    session.flush()
    audit(session, org, actor, "post.draft", f"post:{post.id}")
    return post


def draft_as_new_post(session: Session, post: Post, media_dir: Path) -> NewPost:
    """What a stored draft holds, as a NewPost again (for editing it further)."""
    names = {
        c.id: c.name
        for c in session.scalars(select(Channel).where(Channel.id.in_(post.planned_channels)))
    }
    return NewPost(
        text=post.text,
        channels=[names[i] for i in post.planned_channels if i in names],
        due_at=post.planned_at,
        images=[media_dir / pm.media.path for pm in post.media],
        link=post.link,
        variants={str(k): str(v) for k, v in post.variants.items()},
        author_id=post.author_id,
        alt_texts=[pm.media.alt_text for pm in post.media],
    )


def list_drafts(session: Session, org: Organization) -> list[Post]:
    """Drafts and posts waiting for approval, newest first."""
    return list(
        session.scalars(
            select(Post)
            .where(Post.organization_id == org.id, Post.status.in_(UNQUEUED))
            .order_by(Post.id.desc())
        )
    )


def discard_draft(session: Session, org: Organization, post_id: int, actor: str) -> Post:
    """Throw a draft away (it is kept as cancelled, for the audit trail)."""
    post = get_post(session, org, post_id)
    _editable_draft(post)
    post.status = transition(post.status, PostStatus.CANCELLED)
    audit(session, org, actor, "post.discard", f"post:{post_id}")
    return post


def needs_approval(org: Organization, role: Role | None) -> bool:
    """Whether a post by someone of `role` waits for a manager: an editor's does, where the
    organisation requires approval."""
    return bool(org.requires_approval and role is Role.EDITOR)


def submit_for_approval(
    session: Session,
    org: Organization,
    new: NewPost,
    media_dir: Path,
    actor: str,
    *,
    draft: Post | None = None,
) -> Post:
    """A post checked as if it were queued, then left waiting for a manager's approval."""
    _editable_draft(draft)
    channels, facts = check_post(session, org, new)
    post = draft if draft is not None else Post(organization_id=org.id, status=PostStatus.DRAFT)
    fill_post(session, org, post, new, facts, media_dir)
    post.status = transition(post.status, PostStatus.PENDING_APPROVAL)
    post.planned_channels = [c.id for c in channels]
    post.planned_at = new.due_at
    post.reviewed_by, post.review_note = None, None
    session.flush()
    audit(session, org, actor, "post.submit", f"post:{post.id}")
    return post


def _pending(session: Session, org: Organization, post_id: int) -> Post:
    post = get_post(session, org, post_id)
    if post.status is not PostStatus.PENDING_APPROVAL:
        raise InvalidInput(
            "post {id} is not waiting for approval (it is {status})",
            id=post_id,
            status=post.status.value,
        )
    return post


def approve_post(
    session: Session,
    org: Organization,
    post_id: int,
    reviewer_id: int,
    now: datetime,
    actor: str,
) -> Post:
    """Queue a post waiting for approval on its planned channels, at its planned time (or now,
    if that has passed while it waited)."""
    post = _pending(session, org, post_id)
    channels = list(session.scalars(select(Channel).where(Channel.id.in_(post.planned_channels))))
    if not channels:
        raise InvalidInput("post {id} has no channels left to go to", id=post_id)
    due_at = max(post.planned_at or now, now)
    post.status = transition(post.status, PostStatus.QUEUED)
    post.reviewed_by, post.review_note = reviewer_id, None
    post.planned_channels, post.planned_at = [], None
    for channel in channels:
        session.add(
            Publication(
                kind=PublicationKind.POST,
                post=post,
                channel_id=channel.id,
                due_at=due_at,
                state=PublicationState.SCHEDULED,
            )
        )
    session.flush()
    audit(
        session,
        org,
        actor,
        "post.approve",
        f"post:{post_id}",
        channels=[c.name for c in channels],
        due_at=due_at.isoformat(),
    )
    return post


def reject_post(
    session: Session, org: Organization, post_id: int, reviewer_id: int, reason: str, actor: str
) -> Post:
    """Return a post to its author's drafts with the reason; its plan is kept for resubmitting."""
    reason = reason.strip()
    if not reason:
        raise InvalidInput("say why the post is rejected, so its author can fix it")
    post = _pending(session, org, post_id)
    post.status = transition(post.status, PostStatus.DRAFT)
    post.reviewed_by, post.review_note = reviewer_id, reason
    audit(session, org, actor, "post.reject", f"post:{post_id}")
    return post
