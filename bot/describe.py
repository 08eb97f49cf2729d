"""How the bot names things to staff: publications, times and numbers, in the reader's language
and the organisation's time zone."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from babel.numbers import format_decimal

from content.domain.states import PublicationKind
from content.domain.templates import when
from content.domain.timeparse import format_offset
from content.i18n import N_, translate
from content.storage.models import Publication

SKIP = "-"  # what people send to skip an optional step

_KINDS = {
    PublicationKind.ANNOUNCEMENT: N_("the announcement of “{title}”"),
    PublicationKind.REMINDER: N_("the {offset} reminder of “{title}”"),
    PublicationKind.CANCELLATION: N_("the cancellation notice of “{title}”"),
}


def short(text: str, width: int = 40) -> str:
    """The first line of `text`, shortened to `width` characters."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return first if len(first) <= width else first[: width - 1].rstrip() + "…"


def local_time(moment: datetime, tz: ZoneInfo, language: str) -> str:
    """`5 декабря, суббота, 18:00`: a moment as the reader reads it, in the library's zone."""
    return when(moment, tz, language)


def number(value: int, language: str) -> str:
    return format_decimal(value, format="#,##0", locale=language)


def describe_publication(publication: Publication, language: str) -> str:
    """`the post “Book fair…”`, `the 1d reminder of “Poetry night”`."""
    if publication.post is not None:
        return translate(language, N_("the post “{text}”"), text=short(publication.post.text))
    event = publication.event
    title = short(event.title) if event is not None else "?"
    return translate(
        language,
        _KINDS.get(publication.kind, _KINDS[PublicationKind.ANNOUNCEMENT]),
        title=title,
        offset=format_offset(publication.offset_minutes or 0),
    )
