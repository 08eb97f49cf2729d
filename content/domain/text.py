"""Texts shortened for lists, titles and quotes: one rule, so every shortened text reads alike."""

from __future__ import annotations

ELLIPSIS = "…"
# Dropped before the ellipsis: "Book fair,…" reads worse than "Book fair…".
_TRAILING = " \t\n,.;:"


def shorten(text: str, width: int) -> str:
    """`text` in at most `width` characters; a longer one is cut at a word where a word ends in
    the second half of the width (else mid-word), and ends with "…"."""
    if len(text) <= width:
        return text
    cut = text[: width - 1]
    space = cut.rfind(" ", width // 2)
    if space > 0:
        cut = cut[:space]
    return cut.rstrip(_TRAILING) + ELLIPSIS


def excerpt(text: str, width: int) -> str:
    """The start of `text` on one line (every run of whitespace folded to a space)."""
    return shorten(" ".join(text.split()), width)


def headline(text: str, width: int) -> str:
    """The first non-blank line of `text`, shortened (a title, or what names a post)."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return shorten(first, width)
