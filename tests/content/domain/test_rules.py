"""Platform limits name the limit and by how much it is exceeded; links are web links."""

from __future__ import annotations

import pytest

from content.domain.rules import check_link, fit_problems
from content.domain.states import Platform
from content.errors import InvalidInput


def test_instagram_needs_an_image_and_counts_hashtags() -> None:
    problems = [str(p) for p in fit_problems(Platform.INSTAGRAM, "#a " * 31, 0, "ig")]
    assert "ig: Instagram needs at least one image" in problems
    assert "ig: the number of hashtags is 31, over the Instagram limit of 30 by 1" in problems


def test_telegram_message_count_limit_and_album_size() -> None:
    problems = [str(p) for p in fit_problems(Platform.TELEGRAM, "x" * 50000, 11, "tg")]
    assert problems == [
        "tg: the number of images is 11, over the Telegram limit of 10 by 1",
        "tg: the number of messages is 13, over the Telegram limit of 10 by 3",
    ]


def test_long_texts_and_captions_fit_telegram_as_several_parts() -> None:
    assert fit_problems(Platform.TELEGRAM, "x" * 3000, 2, "tg") == []
    assert fit_problems(Platform.TELEGRAM, "x" * 5000, 0, "tg") == []
    assert fit_problems(Platform.TELEGRAM, "x" * 40960, 0, "tg") == []  # ten full messages


def test_ordinary_posts_fit_everywhere() -> None:
    for platform in Platform:
        assert fit_problems(platform, "Book club on Friday #reading", 1, "c") == []


@pytest.mark.parametrize(
    ("link", "kept"),
    [
        ("https://library.kz/event", "https://library.kz/event"),
        ("http://a.b", "http://a.b"),
        ("", None),
        (None, None),
    ],
)
def test_a_web_link_is_kept(link: str | None, kept: str | None) -> None:
    assert check_link(link) == kept


@pytest.mark.parametrize(
    "link", ["javascript:alert(1)", "library.kz", "ftp://library.kz/f", "https://a b", "data:,x"]
)
def test_anything_but_a_web_link_is_refused(link: str) -> None:
    with pytest.raises(InvalidInput, match="not a web link"):
        check_link(link)
