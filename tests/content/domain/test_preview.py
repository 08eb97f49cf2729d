"""Previews say exactly what goes out; Telegram's split never loses or truncates text."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from content.domain.preview import (
    TelegramPart,
    TelegramPartKind,
    compose_text,
    preview,
    telegram_parts,
)
from content.domain.rules import (
    TELEGRAM_CAPTION,
    TELEGRAM_MAX_PARTS,
    TELEGRAM_TEXT,
    telegram_length,
    telegram_texts,
)
from content.domain.states import Platform

MESSAGE, PHOTO, ALBUM = TelegramPartKind.MESSAGE, TelegramPartKind.PHOTO, TelegramPartKind.ALBUM

# Text a person could type: any letters, emoji outside the BMP (2 UTF-16 units), newlines; and
# repeated snippets, so lengths around the 1024 and 4096 limits come up often.
letters = st.one_of(
    st.characters(codec="utf-8", exclude_categories=["Cs"]), st.sampled_from("😀 \n")
)
texts = st.one_of(
    st.text(alphabet=letters, max_size=200),
    st.builds(
        lambda snippet, times: snippet * times,
        st.text(alphabet=letters, min_size=1, max_size=4),
        st.integers(200, 2200),
    ),
)


@given(text=texts, image_count=st.integers(0, 10), buttons=st.booleans())
def test_telegram_parts_send_the_whole_text_once_within_limits(
    text: str, image_count: int, buttons: bool
) -> None:
    full = compose_text(text)
    try:
        parts = telegram_parts(full, image_count, buttons=buttons)
    except ValueError:
        too_many = len(telegram_texts(full, image_count)) > TELEGRAM_MAX_PARTS
        needs_text = image_count == 0 or (buttons and image_count > 1)
        assert too_many or (not full and needs_text)
        assert not preview(Platform.TELEGRAM, text, image_count, buttons=int(buttons)).fits
        return
    # The full text goes out exactly once, in order: never truncated, never repeated; a text
    # that fits one part is that part unchanged, a longer one loses only the spaces at its cuts.
    texts = [p.text for p in parts if p.text]
    if full and telegram_length(full) <= (TELEGRAM_CAPTION if image_count else TELEGRAM_TEXT):
        assert texts == [full]
    squeeze = re.compile(r"\s+")
    assert squeeze.sub("", "".join(texts)) == squeeze.sub("", full)
    assert sum(p.photos for p in parts) == image_count
    for part in parts:
        limit = TELEGRAM_TEXT if part.kind is MESSAGE else TELEGRAM_CAPTION
        assert telegram_length(part.text) <= limit
        assert part.kind is not ALBUM or 2 <= part.photos <= 10
        assert part.kind is not PHOTO or part.photos == 1
        assert part.kind is not ALBUM or not part.buttons
    assert sum(p.buttons for p in parts) == int(buttons)
    assert not buttons or parts[-1].buttons  # under the last part
    assert parts[0].kind is (MESSAGE if image_count == 0 else PHOTO if image_count == 1 else ALBUM)
    assert all(p.kind is MESSAGE for p in parts[1:])
    assert all(p.reply == bool(image_count and parts[0].text) for p in parts[1:])
    # The preview describes exactly these parts.
    shown = preview(Platform.TELEGRAM, text, image_count, buttons=int(buttons))
    assert shown.fits
    assert list(shown.telegram_parts) == parts
    assert len(shown.parts) == len(parts)


def test_utf16_length_is_what_telegram_counts() -> None:
    assert telegram_length("😀") == 2
    assert telegram_length("я") == 1
    # 600 emoji are 1200 UTF-16 units: too long for a caption though only 600 characters.
    parts = telegram_parts("😀" * 600, 1)
    assert [(p.kind, p.text) for p in parts] == [
        (PHOTO, "😀" * 512),
        (MESSAGE, "😀" * 88),
    ]


def test_a_long_caption_goes_with_the_photos_and_the_rest_as_a_reply() -> None:
    shown = preview(Platform.TELEGRAM, "x" * 3000, 3)
    assert shown.telegram_parts == (
        TelegramPart(ALBUM, "x" * 1024, 3),
        TelegramPart(MESSAGE, "x" * 1976, reply=True),
    )
    assert [str(p) for p in shown.parts] == [
        "album of 3 photos with a caption on the first (1024 characters)",
        "reply (1976 characters)",
    ]
    assert [str(w) for w in shown.warnings] == [
        "The text is 3000 characters, over Telegram's caption limit of 1024: its first part "
        "goes as the caption and the rest as 1 repl(ies) to the photos."
    ]


def test_a_long_text_goes_as_several_messages_cut_between_paragraphs() -> None:
    paragraph = "A sentence of the announcement. " * 50  # 1600 characters
    text = "\n\n".join([paragraph.strip()] * 4)
    shown = preview(Platform.TELEGRAM, text, 0, buttons=1)
    assert [str(p) for p in shown.parts] == [
        "message (3200 characters)",
        "message (3200 characters) with 1 button(s)",
    ]
    assert [p.text for p in shown.telegram_parts] == ["\n\n".join([paragraph.strip()] * 2)] * 2
    assert "it goes as 2 messages in order" in str(shown.warnings[0])


def test_an_album_with_buttons_puts_text_and_buttons_in_a_message() -> None:
    shown = preview(Platform.TELEGRAM, "Book club", 2, link="https://l.example/e/1", buttons=2)
    text = "Book club\n\nhttps://l.example/e/1"
    assert shown.telegram_parts == (
        TelegramPart(ALBUM, "", 2),
        TelegramPart(MESSAGE, text, buttons=True),
    )
    assert [str(p) for p in shown.parts] == [
        "album of 2 photos without a caption",
        "message (32 characters) with 2 button(s)",
    ]
    assert "Telegram albums cannot carry buttons" in str(shown.warnings[0])
    assert str(shown.warnings[1]) == (
        "Telegram shows a preview of https://l.example/e/1 under the message."
    )


@pytest.mark.parametrize(
    ("images", "expected"),
    [
        (0, "message (9 characters)"),
        (1, "photo with a caption (9 characters)"),
        (4, "album of 4 photos with a caption on the first (9 characters)"),
    ],
)
def test_short_texts_are_one_part(images: int, expected: str) -> None:
    shown = preview(Platform.TELEGRAM, "Book club", images)
    assert [str(p) for p in shown.parts] == [expected]
    assert shown.warnings == ()


def test_refusals_name_the_limit_and_the_excess_and_send_nothing() -> None:
    shown = preview(Platform.TELEGRAM, "x" * 50000, 11, channel="news")
    assert [str(p) for p in shown.problems] == [
        "news: the number of images is 11, over the Telegram limit of 10 by 1",
        "news: the number of messages is 13, over the Telegram limit of 10 by 3",
    ]
    assert shown.parts == ()
    assert not shown.fits
    empty = preview(Platform.TELEGRAM, "  ", 0)
    assert [str(p) for p in empty.problems] == [
        "Telegram: Telegram needs text for a message without images"
    ]


def test_the_link_counts_towards_the_limit_and_is_not_repeated() -> None:
    assert compose_text("See https://a.example", "https://a.example") == "See https://a.example"
    assert compose_text("", "https://a.example") == "https://a.example"
    shown = preview(Platform.TELEGRAM, "x" * 4090, 0, link="https://a.example")
    assert [p.text for p in shown.telegram_parts] == ["x" * 4090, "https://a.example"]


def test_facebook_and_instagram_previews() -> None:
    fb = preview(Platform.FACEBOOK, "Hello", 2, link="https://a.example", buttons=1)
    assert [str(p) for p in fb.parts] == ["feed post with 2 photos (24 characters)"]
    assert [str(w) for w in fb.warnings] == [
        "Facebook shows no preview of https://a.example on a post with photos; it stays a link "
        "in the text.",
        "Facebook has no buttons: the post goes out without them.",
    ]
    assert [str(p) for p in preview(Platform.FACEBOOK, "Hello", 0).parts] == [
        "feed post (5 characters)"
    ]
    ig = preview(Platform.INSTAGRAM, "Hello", 3)
    assert [str(p) for p in ig.parts] == ["carousel of 3 images with a caption (5 characters)"]
    assert [str(p) for p in preview(Platform.INSTAGRAM, "Hello", 1).parts] == [
        "image with a caption (5 characters)"
    ]
    assert [str(p) for p in preview(Platform.INSTAGRAM, "Hello", 0).problems] == [
        "Instagram: Instagram needs at least one image"
    ]
