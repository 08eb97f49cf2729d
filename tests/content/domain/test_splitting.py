"""Cutting long texts into parts as a person would: paragraphs, sentences, words; tags whole."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from content.domain.splitting import split_text, utf16_length

ATOM = re.compile(r"<[^<>\n]{0,200}>|&#?[0-9A-Za-z]{1,32};")


def test_a_text_that_fits_is_one_part_and_a_blank_one_none() -> None:
    assert split_text("  Book club tonight.  ", 100) == ["Book club tonight."]
    assert split_text(" \n ", 100) == []


def test_cuts_go_at_paragraphs_then_sentences_then_words() -> None:
    text = "First paragraph here.\n\nSecond one. It has two sentences."
    assert split_text(text, 40) == ["First paragraph here.", "Second one. It has two sentences."]
    assert split_text("One sentence. Another sentence here.", 30) == [
        "One sentence.",
        "Another sentence here.",
    ]
    assert split_text("words without any full stop at all", 12) == [
        "words",
        "without any",
        "full stop at",
        "all",
    ]
    assert split_text("«Quoted.» Next", 11) == ["«Quoted.»", "Next"]


def test_a_first_part_may_have_a_limit_of_its_own() -> None:
    assert split_text("aaa bbb ccc ddd", 100, first_limit=4) == ["aaa", "bbb ccc ddd"]


def test_tags_entities_and_marks_are_never_cut() -> None:
    assert split_text("x" * 8 + "&amp;" + "y" * 8, 10) == ["x" * 8, "&amp;" + "y" * 5, "yyy"]
    assert split_text("ab <b>cd</b> ef", 6) == ["ab", "<b>cd", "</b>", "ef"]
    assert split_text("ab <a href='x y'>link</a>", 18) == ["ab", "<a href='x y'>link", "</a>"]
    parts = split_text("e\u0301" * 10, 5)  # é as e + a combining accent
    assert all(not p.startswith("\u0301") for p in parts)
    assert "".join(parts) == "e\u0301" * 10


def test_length_is_counted_in_utf16_units() -> None:
    assert utf16_length("😀") == 2
    assert split_text("😀" * 5, 4) == ["😀😀", "😀😀", "😀"]


texts = st.lists(
    st.sampled_from(
        list("ab .!?\n\t«»") + ["&amp;", "<b>", "</b>", "😀", "e\u0301", "\u200d", "д", "ų"]
    ),
    max_size=300,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(texts, st.integers(min_value=8, max_value=120), st.none() | st.integers(8, 60))
def test_parts_fit_keep_every_character_and_every_tag(
    text: str, limit: int, first_limit: int | None
) -> None:
    parts = split_text(text, limit, first_limit=first_limit)
    for index, part in enumerate(parts):
        room = first_limit if index == 0 and first_limit is not None else limit
        assert part
        assert part == part.strip()
        assert utf16_length(part) <= room
    squeeze = re.compile(r"\s+")
    assert squeeze.sub("", "".join(parts)) == squeeze.sub("", text)
    assert [a for p in parts for a in ATOM.findall(p)] == ATOM.findall(text.strip())


@pytest.mark.parametrize("limit", [0, -1])
def test_a_part_holds_something(limit: int) -> None:
    with pytest.raises(ValueError, match="at least one"):
        split_text("text", limit)
