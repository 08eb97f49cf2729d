"""Queueing posts and events as publications: validated first, written in one transaction."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.domain.characters import check_characters, visible
from content.domain.reminders import plan_reminders
from content.domain.rules import check_link, fit_problems, misfit
from content.domain.states import (
    EventStatus,
    PostStatus,
    PublicationKind,
    PublicationState,
    move_publication,
    transition,
)
from content.domain.timeparse import zone
from content.errors import InvalidInput, NotFound
from content.storage.media import ImageFacts, inspect_image, store_image
from content.storage.models import Channel, Event, Media, Organization, Post, PostMedia, Publication
from content.storage.registry import UNSENT, audit, reachable_channel

WITHDRAWABLE = tuple(s for s in UNSENT if s not in (PublicationState.SENDING,))


@dataclass(frozen=True)
class NewPost:
    text: str
    channels: list[str]
    due_at: datetime | None  # None only in a draft: a queued post needs its time
    images: list[Path] = field(default_factory=list)
    link: str | None = None
    variants: dict[str, str] = field(default_factory=dict)
    author_id: int | None = None
    # Per image, in order: a description for people who cannot see it (None: none given).
    alt_texts: list[str | None] = field(default_factory=list)


@dataclass(frozen=True)
class NewEvent:
    title: str
    starts_at: datetime
    channels: list[str]
    announce_at: datetime
    reminder_offsets: list[int]
    ends_at: datetime | None = None
    place: str | None = None
    description: str | None = None
    image: Path | None = None
    registration_url: str | None = None
    language: str | None = None


def _channels(session: Session, org: Organization, names: list[str]) -> list[Channel]:
    """The named channels, each `org`'s own or one of its member libraries' (NotFound else)."""
    cleaned = list(dict.fromkeys(n.strip() for n in names if n.strip()))
    if not cleaned:
        raise InvalidInput("choose at least one channel")
    return [reachable_channel(session, name, org) for name in cleaned]


def _media(session: Session, org: Organization, facts: ImageFacts, media_dir: Path) -> Media:
    existing = session.scalar(
        select(Media).where(
            Media.organization_id == org.id, Media.content_hash == facts.content_hash
        )
    )
    if existing is not None:
        return existing
    store_image(facts, media_dir)
    media = Media(
        organization_id=org.id,
        path=facts.relative_path,
        content_hash=facts.content_hash,
        media_type=facts.media_type,
        size=facts.size,
        width=facts.width,
        height=facts.height,
    )
    session.add(media)
    return media


def _refuse_misfits(channels: list[Channel], texts: dict[int, str], image_count: int) -> None:
    problems = [
        p
        for channel in channels
        for p in fit_problems(channel.platform, texts[channel.id], image_count, channel.name)
    ]
    if problems:
        raise misfit(problems)


def check_post(
    session: Session, org: Organization, new: NewPost
) -> tuple[list[Channel], list[ImageFacts]]:
    """Refuse a post that cannot be queued as it is (InvalidInput says why); returns its
    channels and images."""
    text = new.text.strip()
    if not visible(text):
        raise InvalidInput("the post has no text")
    check_characters(new.text)
    if new.due_at is None:
        raise InvalidInput("choose when the post goes out")
    check_link(new.link)
    channels = _channels(session, org, new.channels)
    facts = [inspect_image(path) for path in new.images]
    probe = Post(text=text, variants=dict(new.variants))
    _refuse_misfits(channels, {c.id: probe.text_for(c.language) for c in channels}, len(facts))
    return channels, facts


def fill_post(
    session: Session,
    org: Organization,
    post: Post,
    new: NewPost,
    facts: list[ImageFacts],
    media_dir: Path,
) -> None:
    """Write `new`'s text, variants, link, author and images (with alt texts) into `post`."""
    post.text = new.text.strip()
    post.variants = dict(new.variants)
    post.link = new.link
    post.author_id = post.author_id or new.author_id
    media = [_media(session, org, fact, media_dir) for fact in facts]
    for item, alt in zip(media, new.alt_texts, strict=False):
        if alt:
            item.alt_text = alt
    session.add(post)
    session.flush()
    if [pm.media_id for pm in post.media] == [m.id for m in media]:
        return
    if post.media:
        # The old rows must be gone before new ones take the same (post, position) keys.
        post.media.clear()
        session.flush()
    for position, item in enumerate(media):
        post.media.append(PostMedia(position=position, media=item))


def queue_post(
    session: Session,
    org: Organization,
    new: NewPost,
    media_dir: Path,
    actor: str,
    *,
    draft: Post | None = None,
) -> Post:
    """Queue a post with one publication per channel; InvalidInput writes nothing.

    `draft`: an existing draft (or a post back from approval) to queue instead of a new post.
    """
    channels, facts = check_post(session, org, new)
    assert new.due_at is not None  # checked above
    post = draft if draft is not None else Post(organization_id=org.id, status=PostStatus.DRAFT)
    fill_post(session, org, post, new, facts, media_dir)
    post.status = transition(post.status, PostStatus.QUEUED)
    # From here on the publications hold where and when.
    post.planned_channels, post.planned_at = [], None
    for channel in channels:
        session.add(
            Publication(
                kind=PublicationKind.POST,
                post=post,
                channel_id=channel.id,
                due_at=new.due_at,
                state=PublicationState.SCHEDULED,
            )
        )
    session.flush()
    audit(
        session,
        org,
        actor,
        "post.queue",
        f"post:{post.id}",
        channels=[c.name for c in channels],
        due_at=new.due_at.isoformat(),
    )
    return post


def add_event(
    session: Session,
    org: Organization,
    new: NewEvent,
    media_dir: Path,
    now: datetime,
    actor: str,
) -> Event:
    """Create an event with its announcement and reminder publications on each channel."""
    title = new.title.strip()
    if not visible(title):
        raise InvalidInput("the event needs a title")
    for text in (new.title, new.place or "", new.description or ""):
        check_characters(text)
    if new.starts_at <= now:
        raise InvalidInput("the event's start is in the past: choose a later time")
    if new.ends_at is not None and new.ends_at <= new.starts_at:
        raise InvalidInput("the event must end after it starts")
    if new.announce_at > new.starts_at:
        raise InvalidInput("the announcement must go out before the event starts")
    check_link(new.registration_url)
    channels = _channels(session, org, new.channels)
    image = inspect_image(new.image) if new.image else None
    summary = "\n".join(filter(None, [title, new.place, new.description]))
    _refuse_misfits(channels, {c.id: summary for c in channels}, 1 if image else 0)

    event = Event(
        organization_id=org.id,
        title=title,
        starts_at=new.starts_at,
        ends_at=new.ends_at,
        place=new.place,
        description=new.description,
        language=new.language or org.language,
        registration_url=new.registration_url,
        reminder_offsets=list(new.reminder_offsets),
        status=EventStatus.SCHEDULED,
    )
    if image is not None:
        event.image = _media(session, org, image, media_dir)
    session.add(event)
    reminders = plan_reminders(
        new.starts_at, new.reminder_offsets, new.announce_at, zone(org.timezone)
    )
    for channel in channels:
        session.add(
            Publication(
                kind=PublicationKind.ANNOUNCEMENT,
                event=event,
                channel_id=channel.id,
                due_at=new.announce_at,
            )
        )
        for reminder in reminders:
            session.add(
                Publication(
                    kind=PublicationKind.REMINDER,
                    event=event,
                    channel_id=channel.id,
                    due_at=reminder.due_at,
                    offset_minutes=reminder.offset_minutes,
                )
            )
    session.flush()
    audit(
        session,
        org,
        actor,
        "event.add",
        f"event:{event.id}",
        channels=[c.name for c in channels],
        starts_at=new.starts_at.isoformat(),
    )
    return event


def _withdraw(publications: list[Publication]) -> int:
    withdrawn = 0
    for publication in publications:
        if publication.state in WITHDRAWABLE:
            move_publication(publication, PublicationState.CANCELLED)
            withdrawn += 1
    return withdrawn


def cancel_post(session: Session, org: Organization, post_id: int, actor: str) -> int:
    """Cancel a post; returns how many unsent publications were withdrawn."""
    post = session.get(Post, post_id)
    if post is None or post.organization_id != org.id:
        raise NotFound("no post has id {id}", id=post_id)
    if post.status in (PostStatus.CANCELLED, PostStatus.DONE):
        raise InvalidInput("post {id} is already {status}", id=post_id, status=post.status.value)
    withdrawn = _withdraw(post.publications)
    post.status = transition(post.status, PostStatus.CANCELLED)
    audit(session, org, actor, "post.cancel", f"post:{post_id}", withdrawn=withdrawn)
    return withdrawn


def cancel_event(session: Session, org: Organization, event_id: int, actor: str) -> int:
    """Cancel an event and withdraw its unsent announcement and reminders."""
    event = session.get(Event, event_id)
    if event is None or event.organization_id != org.id:
        raise NotFound("no event has id {id}", id=event_id)
    if event.status is not EventStatus.SCHEDULED:
        raise InvalidInput("event {id} is already {status}", id=event_id, status=event.status.value)
    withdrawn = _withdraw(event.publications)
    event.status = transition(event.status, EventStatus.CANCELLED)
    audit(session, org, actor, "event.cancel", f"event:{event_id}", withdrawn=withdrawn)
    return withdrawn
