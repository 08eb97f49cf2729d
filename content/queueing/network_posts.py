"""Down the network: one post of the network head queued for every member library's channels
at once, as one post per member, in that library's language and at the time typed read in its
zone ("10:00" is 10:00 in each library), each member's approval rule applying.

Every member's post is checked before any is written: one that cannot go (a text too long for
a member's channel, a time already past in its zone) refuses them all, and nothing is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.domain.naturaltime import parse_natural_time
from content.domain.states import ChannelStatus
from content.domain.timeparse import zone
from content.errors import InvalidInput
from content.queueing import slots
from content.queueing.drafts import submit_for_approval
from content.queueing.scheduling import NewPost, check_post, queue_post
from content.storage.models import Channel, Organization, Post, text_in
from content.storage.organizations import descendants
from content.storage.registry import audit


@dataclass(frozen=True)
class NetworkPost:
    """What the head sends down: the text (with versions per language), and the time as typed
    ("now", "next-slot", "2026-12-10 10:00", "tomorrow 10:00" or ISO 8601 with an offset)."""

    text: str
    when: str
    images: list[Path] = field(default_factory=list)
    link: str | None = None
    variants: dict[str, str] = field(default_factory=dict)
    author_id: int | None = None


@dataclass(frozen=True)
class MemberPost:
    """The post made for one member library; `waiting` for its managers' approval."""

    organization: Organization
    post: Post
    waiting: bool


def _due(
    session: Session, when: str, member: Organization, channels: list[str], now: datetime
) -> datetime:
    """The moment `when` names for a member: a local time is read in the member's zone."""
    if slots.means_next_slot(when):
        return slots.next_free_slot(session, channels, now, org=member)
    tz = zone(member.timezone)
    return parse_natural_time(when, tz, now, next_slot=True)


def member_channels(session: Session, member: Organization) -> list[Channel]:
    """A member's channels that take posts now (paused ones are left out)."""
    return list(
        session.scalars(
            select(Channel)
            .where(Channel.organization_id == member.id, Channel.status == ChannelStatus.ACTIVE)
            .order_by(Channel.id)
        )
    )


def plan_member_posts(
    session: Session, head: Organization, network_post: NetworkPost, now: datetime
) -> list[tuple[Organization, NewPost]]:
    """Each member library (with channels) and the post it gets, checked as queue_post checks;
    InvalidInput when there is none, or when any member's post cannot go."""
    members = descendants(session, head)
    if not members:
        raise InvalidInput("{org} has no member libraries to post for", org=head.name)
    plans = []
    for member in members:
        names = [c.name for c in member_channels(session, member)]
        if not names:
            continue
        new = NewPost(
            text=text_in(member.language, network_post.text, network_post.variants),
            channels=names,
            due_at=_due(session, network_post.when, member, names, now),
            images=list(network_post.images),
            link=network_post.link,
            variants=dict(network_post.variants),
            author_id=network_post.author_id,
        )
        check_post(session, member, new)
        plans.append((member, new))
    if not plans:
        raise InvalidInput(
            "no member library of {org} has a channel to post to: add their channels first",
            org=head.name,
        )
    return plans


def queue_for_members(
    session: Session,
    head: Organization,
    network_post: NetworkPost,
    media_dir: Path,
    now: datetime,
    actor: str,
) -> list[MemberPost]:
    """Queue `network_post` for every member library of `head` (those with channels): queued,
    or waiting for approval where the member requires it. InvalidInput writes nothing."""
    plans = plan_member_posts(session, head, network_post, now)
    made = []
    for member, new in plans:
        if member.requires_approval:
            post = submit_for_approval(session, member, new, media_dir, actor)
        else:
            post = queue_post(session, member, new, media_dir, actor)
        made.append(MemberPost(member, post, member.requires_approval))
    audit(
        session,
        head,
        actor,
        "post.for_members",
        None,
        posts={m.organization.name: m.post.id for m in made},
    )
    return made
