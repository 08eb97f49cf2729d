"""How posts, times and previews read in a staff member's chat (any language, the
organisation's zone)."""

from __future__ import annotations

from collections.abc import Iterable

from content.domain.preview import compose_text, preview
from content.domain.states import PostStatus, PublicationState
from content.domain.text import shorten
from content.i18n import N_, translate
from content.storage.models import Channel

# Labels, not the raw values: a raw value ("sent") is also a parameter of other messages, which
# `translate` would then translate as well.
STATUS = {
    PostStatus.DRAFT: N_("a draft"),
    PostStatus.PENDING_APPROVAL: N_("waiting for approval"),
    PostStatus.QUEUED: N_("in the queue"),
    PostStatus.DONE: N_("published"),
    PostStatus.CANCELLED: N_("withdrawn"),
}
STATE = {
    PublicationState.SCHEDULED: N_("waiting for its time"),
    PublicationState.SENDING: N_("being sent"),
    PublicationState.SENT: N_("sent out"),
    PublicationState.RETRY_WAIT: N_("waiting to retry"),
    PublicationState.FAILED: N_("could not be sent"),
    PublicationState.UNCONFIRMED: N_("not confirmed: check the channel"),
    PublicationState.PAUSED: N_("paused until the channel works again"),
    PublicationState.MISSED: N_("missed its time"),
    PublicationState.CANCELLED: N_("withdrawn"),
}


def channel_names(channels: Iterable[Channel]) -> str:
    return ", ".join(c.name for c in channels)


def channel_label(channel: Channel) -> str:
    return f"{channel.name} · {channel.platform.value.capitalize()}"


def preview_lines(
    language: str, channel: Channel, text: str, image_count: int, link: str | None = None
) -> tuple[list[str], bool]:
    """A channel's preview as lines in `language`, and whether the post fits the channel."""
    result = preview(channel.platform, text, image_count, link=link, channel=channel.name)
    lines = [f"📣 {channel_label(channel)}"]
    lines += [f"   • {translate(language, n.template, **n.params)}" for n in result.parts]
    lines += [f"   ⚠️ {translate(language, n.template, **n.params)}" for n in result.warnings]
    lines += [f"   ⛔ {translate(language, p.template, **p.params)}" for p in result.problems]
    return lines, result.fits


def quoted(text: str, limit: int = 1500) -> str:
    """A post's text shown inside a longer message (long texts are shortened)."""
    return shorten(compose_text(text), limit)
