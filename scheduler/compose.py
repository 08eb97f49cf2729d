"""What a publication sends: its post's text and images, or its event's generated text."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from channels.base import Button, Outgoing, OutgoingImage, ShareOf
from content.domain.callback_data import RemindMe
from content.domain.states import Platform, PublicationKind, ShareMode
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


def share_outgoing(publication: Publication) -> Outgoing:
    """What a share sends: its source as the platform knows it (ValueError if it cannot be)."""
    source, mode = publication.shared_from, publication.share_mode
    if source is None or mode is None or not source.remote_id:
        raise ValueError(f"publication {publication.id} shares nothing that was published")
    if mode is ShareMode.LINK:
        if not source.remote_url:
            raise ValueError(f"the shared publication {source.id} has no permalink")
        share = ShareOf(mode, permalink=source.remote_url, post_id=source.remote_id)
        return Outgoing(text="", share=share)
    progress = source.progress or {}
    ids = progress.get("message_ids") or [source.remote_id]
    chat_id = progress.get("chat_id") or source.channel.external_id
    share = ShareOf(mode, chat_id, tuple(int(i) for i in ids))
    event = source.event
    buttons: tuple[Button, ...] = ()
    if mode is ShareMode.COPY and event is not None and source.kind is PublicationKind.ANNOUNCEMENT:
        # A copied announcement keeps its "Remind me" (a forward shows the original's instead).
        buttons = tuple(_event_buttons(event, publication.channel.language))
    return Outgoing(text="", buttons=buttons, share=share)


def _event_buttons(event: Event, language: str) -> list[Button]:
    """ "Remind me" (and "Register", if the event has a link) under a Telegram event post."""
    buttons = [
        Button(text=f"🔔 {word(language, 'remind_me')}", callback_data=RemindMe(event.id).pack())
    ]
    if event.registration_url:
        buttons.append(Button(text=word(language, "register"), url=event.registration_url))
    return buttons


def compose(publication: Publication, tz: ZoneInfo, media: MediaLocation) -> Outgoing:
    """The Outgoing for `publication` (its post or event, and channel, must be loaded)."""
    if publication.share_mode is not None:
        return share_outgoing(publication)
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
        buttons += _event_buttons(event, language)
    # A cancellation notice needs no poster, except on Instagram, which cannot post text alone.
    wants_image = not is_cancellation or channel.platform is Platform.INSTAGRAM
    images = (media.image(event.image),) if event.image and wants_image else ()
    return Outgoing(
        text=text,
        images=images,
        buttons=tuple(buttons),
        pad_to_fit=True,
    )
