"""One shortening rule: within the width, cut at a word, marked with an ellipsis."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from content.domain.text import ELLIPSIS, excerpt, headline, shorten


def test_a_short_text_is_left_as_it_is() -> None:
    assert shorten("Book fair", 9) == "Book fair"


def test_a_long_text_is_cut_at_a_word() -> None:
    assert shorten("Book fair on Saturday, in the hall", 20) == "Book fair on…"


def test_punctuation_before_the_cut_is_dropped() -> None:
    assert shorten("Book fair, Saturday and Sunday", 16) == "Book fair…"


def test_a_text_without_spaces_late_enough_is_cut_mid_word() -> None:
    assert shorten("Antidisestablishmentarianism", 10) == "Antidises…"
    assert shorten("A Supercalifragilistic word", 12) == "A Supercali…"


def test_excerpt_folds_whitespace_and_headline_takes_the_first_line() -> None:
    assert excerpt("Book\n\nfair  today", 40) == "Book fair today"
    assert headline("\n  Poetry night  \nwith tea and cake", 40) == "Poetry night"
    assert headline("", 40) == ""


@given(st.text(), st.integers(min_value=2, max_value=200))
def test_never_longer_than_the_width(text: str, width: int) -> None:
    for shortened in (shorten(text, width), excerpt(text, width), headline(text, width)):
        assert len(shortened) <= width


@given(st.text(), st.integers(min_value=2, max_value=200))
def test_a_shortened_text_is_a_prefix_and_says_so(text: str, width: int) -> None:
    shortened = shorten(text, width)
    if shortened == text:
        assert len(text) <= width
    else:
        assert shortened.endswith(ELLIPSIS)
        assert text.startswith(shortened[: -len(ELLIPSIS)])
