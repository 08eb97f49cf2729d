"""Characters a text may not be made of: NUL (which no platform and not PostgreSQL accepts)
and text that shows nothing (only spaces and invisible format characters such as zero-width
spaces and joiners), refused like empty text everywhere text comes in."""

from __future__ import annotations

import unicodedata

from content.errors import InvalidInput

NUL = "\x00"


def visible(text: str) -> bool:
    """Whether `text` shows anything: some character that is neither whitespace nor an
    invisible format character (Unicode category Cf: U+200B, U+200D, U+2060, ...)."""
    return any(not ch.isspace() and unicodedata.category(ch) != "Cf" for ch in text)


def check_characters(text: str) -> None:
    """Refuse a NUL character (InvalidInput); every other character is kept as it is."""
    if NUL in text:
        raise InvalidInput(
            "the text holds a NUL character (\\x00), which no platform accepts: remove it"
        )
