"""Partner usernames: Instagram's rule, checked without the network; anything else refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content.errors import InvalidInput
from content.storage.partners import USERNAME, check_username


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("district_library", "district_library"),
        ("@Village.Reading_Room", "village.reading_room"),
        ("  a1  ", "a1"),
        ("x" * 30, "x" * 30),
    ],
)
def test_usernames_are_kept_as_instagram_keeps_them(raw: str, kept: str) -> None:
    assert check_username(raw) == kept


@pytest.mark.parametrize(
    "raw",
    ["", "@", ".lib", "lib.", "li..b", "x" * 31, "lib rary", "bibliotēka", "lib/../x", "\u212aey"],
)
def test_what_instagram_would_not_take_is_refused(raw: str) -> None:
    with pytest.raises(InvalidInput, match="is not an Instagram username"):
        check_username(raw)


@given(st.text(max_size=40))
def test_any_text_is_a_username_or_a_clear_refusal(raw: str) -> None:
    try:
        kept = check_username(raw)
    except InvalidInput:
        return
    assert USERNAME.match(kept)
    assert 1 <= len(kept) <= 30
    assert kept == kept.lower()
