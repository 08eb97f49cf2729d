"""What a publication sends: its post's text and images, or its event's generated text."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from channels.base import Button, Outgoing, OutgoingImage
from content.domain.callback_data import RemindMe
from content.domain.states import Platform, PublicationKind
from content.domain.templates import (
    EventFacts,
    announcement_text,
    cancellation_text,
    moved_text,
    reminder_text,
    word,
)
from content.storage.models import Event, Media, Publication


@dataclass(frozen=True)
class MediaLocation:
    """Where stored images live, and where (if anywhere) the public can fetch them."""

    media_dir: Path
    public_url: str | None = None

    def image(self, media: Media) -> OutgoingImage:
        public = f"{self.public_url.rstrip('/')}/{media.path}" if self.public_url else None
        return OutgoingImage(
            path=(self.media_dir / media.path).resolve(),
            media_type=media.media_type,
            width=media.width,
            height=media.height,
            alt_text=media.alt_text,
            public_url=public,
        )


def _facts(event: Event) -> EventFacts:
    return EventFacts(
        title=event.title,
        starts_at=event.starts_at,
        place=event.place,
        description=event.description,
        registration_url=event.registration_url,
    )


def _event_text(publication: Publication, event: Event, tz: ZoneInfo, language: str) -> str:
    facts = _facts(event)
    if publication.kind is PublicationKind.ANNOUNCEMENT:
        return announcement_text(facts, tz, language)
    if publication.kind is PublicationKind.REMINDER:
        return reminder_text(facts, publication.offset_minutes or 0, tz, language)
    if publication.kind is PublicationKind.MOVED:
        return moved_text(facts, tz, language)
    return cancellation_text(facts, tz, language)


def post_outgoing(text: str, images: tuple[OutgoingImage, ...], link: str | None) -> Outgoing:
    """What a post sends: its text in the channel's language, its images and link."""
    return Outgoing(text=text, images=images, link=link, pad_to_fit=True)


def compose(publication: Publication, tz: ZoneInfo, media: MediaLocation) -> Outgoing:
    """The Outgoing for `publication` (its post or event, and channel, must be loaded)."""
    channel = publication.channel
    language = channel.language
    if publication.post is not None:
        post = publication.post
        images = tuple(media.image(item.media) for item in post.media)
        return post_outgoing(post.text_for(language), images, post.link)
    event = publication.event
    if event is None:
        raise ValueError(f"publication {publication.id} has neither a post nor an event")
    text = _event_text(publication, event, tz, language)
    buttons: list[Button] = []
    is_cancellation = publication.kind is PublicationKind.CANCELLATION
    if channel.platform is Platform.TELEGRAM and not is_cancellation:
        buttons.append(
            Button(
                text=f"🔔 {word(language, 'remind_me')}",
                callback_data=RemindMe(event.id).pack(),
            )
        )
        if event.registration_url:
            buttons.append(Button(text=word(language, "register"), url=event.registration_url))
    # A cancellation notice needs no poster, except on Instagram, which cannot post text alone.
    wants_image = not is_cancellation or channel.platform is Platform.INSTAGRAM
    images = (media.image(event.image),) if event.image and wants_image else ()
    return Outgoing(
        text=text,
        images=images,
        buttons=tuple(buttons),
        pad_to_fit=True,
    )
