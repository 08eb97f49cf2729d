"""How the bot names things to staff: publications, times and numbers, in the reader's language
and the organisation's time zone."""

from __future__ import annotations

from babel.numbers import format_decimal

from content.domain.states import PublicationKind
from content.domain.text import headline
from content.domain.timeparse import format_offset
from content.i18n import N_, translate
from content.storage.models import Publication

SKIP = "-"  # what people send to skip an optional step

_KINDS = {
    PublicationKind.ANNOUNCEMENT: N_("the announcement of “{title}”"),
    PublicationKind.REMINDER: N_("the {offset} reminder of “{title}”"),
    PublicationKind.CANCELLATION: N_("the cancellation notice of “{title}”"),
    PublicationKind.MOVED: N_("the new-date notice of “{title}”"),
}


def number(value: int, language: str) -> str:
    return format_decimal(value, format="#,##0", locale=language)


def describe_publication(publication: Publication, language: str) -> str:
    """`the post “Book fair…”`, `the 1d reminder of “Poetry night”`."""
    if publication.post is not None:
        return translate(
            language, N_("the post “{text}”"), text=headline(publication.post.text, 40)
        )
    event = publication.event
    title = headline(event.title, 40) if event is not None else "?"
    return translate(
        language,
        _KINDS.get(publication.kind, _KINDS[PublicationKind.ANNOUNCEMENT]),
        title=title,
        offset=format_offset(publication.offset_minutes or 0),
    )
