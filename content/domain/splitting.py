"""Cutting a text too long for one message into parts, as a person does by hand.

A cut goes at the last paragraph break that fits, else after the last sentence that fits, else at
the last space, and only for a word longer than a whole part inside the word; never inside
something that looks like an HTML tag or entity (`<b>`, `&amp;`), nor between a character and the
combining mark or joiner that belongs to it. The whitespace at a cut is dropped, nothing else.
Lengths are counted as `measure` says (Telegram: UTF-16 code units).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

# Kept whole: a tag, or an entity such as &amp; &#8212; &#x2014;.
_ATOM = re.compile(r"<[^<>\n]{0,200}>|&#?[0-9A-Za-z]{1,32};")
# Where a cut may go, best first; group 1 is the whitespace the cut drops.
_PARAGRAPH = re.compile(r"(\n[ \t]*\n\s*)")
_SENTENCE = re.compile(r"[.!?…。][\"'»”)\]]*(\s+)")
_SPACE = re.compile(r"(\s+)")
_JOINERS = "\u200d\u200c\ufe0e\ufe0f"


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, as Telegram counts (an emoji outside the BMP counts 2)."""
    return len(text.encode("utf-16-le")) // 2


def split_text(
    text: str,
    limit: int,
    *,
    first_limit: int | None = None,
    measure: Callable[[str], int] = utf16_length,
) -> list[str]:
    """`text` (stripped) in parts of at most `limit`, the first at most `first_limit`.

    Returns [] for a blank text, [text] when it fits.
    """
    if limit < 1 or (first_limit is not None and first_limit < 1):
        raise ValueError("a part holds at least one character")
    parts: list[str] = []
    rest = text.strip()
    while rest:
        room = first_limit if first_limit is not None and not parts else limit
        if measure(rest) <= room:
            parts.append(rest)
            break
        head, rest = _cut(rest, room, measure)
        parts.append(head)
    return parts


def _cut(text: str, room: int, measure: Callable[[str], int]) -> tuple[str, str]:
    """The longest head of `text` that fits `room` and ends where a person would cut."""
    end = _fitting(text, room, measure)
    atoms = [m.span() for m in _ATOM.finditer(text, 0, end + 200)]

    def inside_atom(position: int) -> bool:
        return any(start < position < stop for start, stop in atoms)

    for boundary in (_PARAGRAPH, _SENTENCE, _SPACE):
        # The whitespace of a cut may begin right after the head that fits: search one further.
        for match in reversed(list(boundary.finditer(text, 0, end + 1))):
            start = match.start(1)
            if 0 < start <= end and not inside_atom(start):
                return text[:start].rstrip(), text[start:].lstrip()
    # One word longer than a part: cut inside it, but not inside a tag, an entity or a
    # character's marks.
    cut = _back_to_whole(text, end, atoms, marks=True) or _back_to_whole(
        text, end, atoms, marks=False
    )
    cut = cut or end  # not even a tag fits whole: cut where the room ends
    return text[:cut].rstrip(), text[cut:].lstrip()


def _back_to_whole(text: str, cut: int, atoms: list[tuple[int, int]], *, marks: bool) -> int:
    """`cut`, moved back out of any tag or entity (and off marks and joiners if `marks`);
    0 if there is no such place."""
    while cut > 0:
        atom = next((start for start, stop in atoms if start < cut < stop), None)
        if atom is not None:
            cut = atom
        elif marks and _belongs_to_previous(text, cut):
            cut -= 1
        else:
            break
    return cut


def _fitting(text: str, room: int, measure: Callable[[str], int]) -> int:
    """How many characters from the start of `text` fit in `room` (at least one)."""
    low, high = 1, min(len(text), room)
    while low < high:  # the measure only grows with the length: find the last that fits
        middle = (low + high + 1) // 2
        if measure(text[:middle]) <= room:
            low = middle
        else:
            high = middle - 1
    return low


def _belongs_to_previous(text: str, position: int) -> bool:
    """True if the character at `position` must stay with the one before it."""
    char, before = text[position], text[position - 1]
    return bool(
        unicodedata.combining(char)
        or char in _JOINERS
        or before == "\u200d"
        or 0xDC00 <= ord(char) <= 0xDFFF
    )
