"""Sharing up the network: a member library's published post or event announcement shared to
its network head's channels.

A share is a new post of the head with one publication per target channel; each publication
names the member's publication it shares (`shared_from_id`) and how (`share_mode`: Telegram's
copy or forward, Facebook's link share). The engine publishes it like any other: claimed, its
attempt committed before the request, reconciled, counted once (as the head's).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from content.analytics.labels import PLATFORM_NAMES
from content.domain.states import (
    ChannelStatus,
    Platform,
    PostStatus,
    PublicationKind,
    PublicationState,
    ShareMode,
)
from content.errors import InvalidInput, NotFound
from content.queueing.drafts import get_post
from content.storage.models import Channel, Event, Organization, Post, Publication
from content.storage.organizations import ancestors
from content.storage.registry import audit

# What a platform's channel can do with a message of the same platform.
SHARE_MODES = {
    Platform.TELEGRAM: (ShareMode.COPY, ShareMode.FORWARD),
    Platform.FACEBOOK: (ShareMode.LINK,),
}
# A share of these is withdrawn or done: the same source may be shared to that channel again.
_OVER = (PublicationState.CANCELLED, PublicationState.FAILED)


@dataclass(frozen=True)
class ShareChoice:
    """Where and how to share: the head, its channels (empty: every one that can take it), and
    Telegram's mode."""

    target: str
    channels: Sequence[str] = ()
    telegram_mode: ShareMode = ShareMode.COPY


def share_targets(session: Session, org: Organization) -> list[Organization]:
    """The organisations `org` may share to: those above it in the network, nearest first."""
    return ancestors(session, org)


def share_target(session: Session, org: Organization, name: str) -> Organization:
    """The library above `org` named `name`; InvalidInput naming the ones there are."""
    above = share_targets(session, org)
    found = next((o for o in above if o.name == name.strip()), None)
    if found is None:
        if not above:
            raise InvalidInput(
                "{org} belongs to no network: there is no organisation above it to share to",
                org=org.name,
            )
        raise InvalidInput(
            "{target} is not above {org} in the network; share to one of: {names}",
            target=name.strip(),
            org=org.name,
            names=", ".join(o.name for o in above),
        )
    return found


def _sent(publications: Sequence[Publication]) -> list[Publication]:
    return [
        p
        for p in publications
        if p.state is PublicationState.SENT and p.remote_id and p.shared_from_id is None
    ]


def _source_for(channel: Channel, sources: list[Publication]) -> Publication | None:
    """The source publication a channel can share: one of its platform, the first sent."""
    return next((p for p in sources if p.channel.platform is channel.platform), None)


def _platforms(sources: list[Publication]) -> str:
    return ", ".join(sorted({PLATFORM_NAMES[p.channel.platform] for p in sources}))


def _channels(
    session: Session, target: Organization, choice: ShareChoice, sources: list[Publication]
) -> list[tuple[Channel, Publication]]:
    """Each target channel with the source it shares; InvalidInput names what cannot be."""
    owned = list(
        session.scalars(
            select(Channel).where(Channel.organization_id == target.id).order_by(Channel.id)
        )
    )
    names = list(dict.fromkeys(n.strip() for n in choice.channels if n.strip()))
    if names:
        by_name = {c.name: c for c in owned}
        unknown = [n for n in names if n not in by_name]
        if unknown:
            raise InvalidInput(
                "{channel} is not a channel of {org}; its channels are: {known}",
                channel=unknown[0],
                org=target.name,
                known=", ".join(by_name) or "-",
            )
        chosen = [by_name[n] for n in names]
        for channel in chosen:
            if channel.platform not in SHARE_MODES or _source_for(channel, sources) is None:
                raise InvalidInput(
                    "{channel} is on {platform}, and the post was published on "
                    "{platforms}: a Telegram message is shared to Telegram channels, a Facebook "
                    "post to Facebook Pages",
                    channel=channel.name,
                    platform=PLATFORM_NAMES[channel.platform],
                    platforms=_platforms(sources),
                )
    else:
        chosen = [
            c
            for c in owned
            if c.status is ChannelStatus.ACTIVE
            and c.platform in SHARE_MODES
            and _source_for(c, sources) is not None
        ]
        if not chosen:
            raise InvalidInput(
                "{org} has no Telegram channel or Facebook Page to share a post published on "
                "{platforms} to",
                org=target.name,
                platforms=_platforms(sources),
            )
    pairs = []
    for channel in chosen:
        source = _source_for(channel, sources)
        assert source is not None  # checked above
        pairs.append((channel, source))
    return pairs


def _already_shared(session: Session, pairs: list[tuple[Channel, Publication]]) -> None:
    for channel, source in pairs:
        earlier = session.scalar(
            select(Publication.id).where(
                Publication.shared_from_id == source.id,
                Publication.channel_id == channel.id,
                Publication.state.not_in(_OVER),
            )
        )
        if earlier is not None:
            raise InvalidInput(
                "this was already shared to {channel}: it goes there once",
                channel=channel.name,
            )


def _share(
    session: Session,
    org: Organization,
    sources: list[Publication],
    text: str,
    variants: dict[str, str],
    subject: str,
    choice: ShareChoice,
    now: datetime,
    actor: str,
) -> Post:
    if choice.telegram_mode not in SHARE_MODES[Platform.TELEGRAM]:
        raise InvalidInput("a Telegram message is shared by copying or forwarding it")
    target = share_target(session, org, choice.target)
    pairs = _channels(session, target, choice, sources)
    _already_shared(session, pairs)
    shared = Post(
        organization_id=target.id,
        text=text,
        variants=variants,
        status=PostStatus.QUEUED,
    )
    session.add(shared)
    modes = []
    for channel, source in pairs:
        telegram = channel.platform is Platform.TELEGRAM
        modes.append(str(choice.telegram_mode if telegram else ShareMode.LINK))
        session.add(
            Publication(
                kind=PublicationKind.POST,
                post=shared,
                channel_id=channel.id,
                due_at=now,
                state=PublicationState.SCHEDULED,
                shared_from_id=source.id,
                share_mode=choice.telegram_mode if telegram else ShareMode.LINK,
            )
        )
    session.flush()
    audit(
        session,
        target,
        actor,
        "post.share",
        f"post:{shared.id}",
        source=subject,
        source_organization=org.name,
        channels=[c.name for c, _ in pairs],
        modes=modes,
    )
    return shared


def share_post(
    session: Session,
    org: Organization,
    post_id: int,
    choice: ShareChoice,
    now: datetime,
    actor: str,
) -> Post:
    """Share `org`'s published post `post_id` to a library above it; returns the head's new
    post. InvalidInput (nothing written): not `org`'s post, not published yet, a target
    outside the network, a channel of another platform than the post's, shared there already.
    """
    post = get_post(session, org, post_id)
    sources = _sent(post.publications)
    if not sources:
        raise InvalidInput(
            "post {id} is not published yet: it can be shared once it is out", id=post_id
        )
    return _share(
        session, org, sources, post.text, dict(post.variants), f"post:{post.id}", choice, now, actor
    )


def share_event(
    session: Session,
    org: Organization,
    event_id: int,
    choice: ShareChoice,
    now: datetime,
    actor: str,
) -> Post:
    """Share `org`'s published announcement of event `event_id` up, as share_post does."""
    event = session.get(Event, event_id)
    if event is None or event.organization_id != org.id:
        raise NotFound("no event has id {id}", id=event_id)
    announced = [p for p in event.publications if p.kind is PublicationKind.ANNOUNCEMENT]
    sources = _sent(announced)
    if not sources:
        raise InvalidInput(
            "event {id} is not announced yet: it can be shared once its announcement is out",
            id=event_id,
        )
    return _share(session, org, sources, event.title, {}, f"event:{event.id}", choice, now, actor)


def shared_post_ids(session: Session, post_ids: Sequence[int]) -> set[int]:
    """Of `post_ids`, the posts with a publication shared up and not withdrawn."""
    if not post_ids:
        return set()
    shared = select(Publication.shared_from_id).where(
        Publication.shared_from_id.is_not(None), Publication.state.not_in(_OVER)
    )
    rows = session.scalars(
        select(Publication.post_id).where(
            Publication.post_id.in_(post_ids), Publication.id.in_(shared)
        )
    )
    return {row for row in rows if row is not None}


def published_posts(session: Session, org: Organization, limit: int = 8) -> list[Post]:
    """`org`'s posts with a publication out (not shares of others), the latest sent first."""
    latest = (
        select(Publication.post_id, func.max(Publication.sent_at).label("sent_at"))
        .where(
            Publication.state == PublicationState.SENT,
            Publication.shared_from_id.is_(None),
            Publication.post_id.is_not(None),
        )
        .group_by(Publication.post_id)
        .subquery()
    )
    return list(
        session.scalars(
            select(Post)
            .join(latest, latest.c.post_id == Post.id)
            .where(Post.organization_id == org.id)
            .order_by(latest.c.sent_at.desc(), Post.id.desc())
            .limit(limit)
        )
    )
