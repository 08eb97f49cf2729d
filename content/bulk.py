"""Queueing many text posts at once (an import, a campaign): checked one by one, written in bulk.

`queue_post` flushes each post through the ORM unit of work, about a millisecond a post; 20,000
posts then take many seconds. Here every post is checked as `queue_post` checks it (text, time,
channels, the platforms' limits) before anything is written, and the rows go in with two bulk
inserts in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from content.errors import InvalidInput
from content.models import Channel, Organization, Post, Publication
from content.registry import audit, get_channel
from content.rules import fit_problems
from content.states import PostStatus, PublicationKind, PublicationState, transition


@dataclass(frozen=True)
class BulkPost:
    """One text post of a bulk queueing: no images (those go through `queue_post`)."""

    text: str
    channels: Sequence[str]
    due_at: datetime
    link: str | None = None
    variants: dict[str, str] | None = None
    author_id: int | None = None


def queue_many(
    session: Session, org: Organization, posts: Sequence[BulkPost], actor: str
) -> list[int]:
    """Queue every post with one publication per channel; returns the posts' ids in order.

    Raises:
        InvalidInput: naming the first post that cannot be queued; nothing is written.
        NotFound: a channel name is unknown; nothing is written.
    """
    channels = {c.name: c for c in session.scalars(select(Channel))}
    post_rows: list[dict[str, object]] = []
    targets: list[list[Channel]] = []
    queued = transition(PostStatus.DRAFT, PostStatus.QUEUED)
    for number, new in enumerate(posts, start=1):
        text = new.text.strip()
        if not text:
            raise InvalidInput("post {number} has no text", number=number)
        if new.due_at.tzinfo is None:
            raise InvalidInput("post {number}: its time has no time zone", number=number)
        names = list(dict.fromkeys(n.strip() for n in new.channels if n.strip()))
        if not names:
            raise InvalidInput("post {number}: choose at least one channel", number=number)
        chosen = [channels.get(name) or get_channel(session, name) for name in names]
        variants = dict(new.variants or {})
        problems = [
            problem
            for channel in chosen
            for problem in fit_problems(
                channel.platform, str(variants.get(channel.language) or text), 0, channel.name
            )
        ]
        if problems:
            raise InvalidInput(
                "post {number}: {problems}",
                number=number,
                problems="; ".join(str(p) for p in problems),
            )
        targets.append(chosen)
        post_rows.append(
            {
                "organization_id": org.id,
                "author_id": new.author_id,
                "text": text,
                "variants": variants,
                "link": new.link,
                "status": queued,
            }
        )
    if not post_rows:
        return []
    post_ids = list(
        session.scalars(insert(Post).returning(Post.id, sort_by_parameter_order=True), post_rows)
    )
    session.execute(
        insert(Publication),
        [
            {
                "kind": PublicationKind.POST,
                "post_id": post_id,
                "channel_id": channel.id,
                "due_at": new.due_at,
                "state": PublicationState.SCHEDULED,
                "attempts": 0,
                "collect_stage": 0,
            }
            for post_id, new, chosen in zip(post_ids, posts, targets, strict=True)
            for channel in chosen
        ],
    )
    audit(
        session, org, actor, "post.queue_many", None, posts=len(post_ids),
        channels=sorted({c.name for chosen in targets for c in chosen}),
        first_due=min(p.due_at for p in posts).isoformat(),
        last_due=max(p.due_at for p in posts).isoformat(),
    )  # fmt: skip
    return post_ids
