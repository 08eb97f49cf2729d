"""Platform limits name the limit and by how much it is exceeded."""

from __future__ import annotations

from content.domain.rules import fit_problems
from content.domain.states import Platform


def test_instagram_needs_an_image_and_counts_hashtags() -> None:
    problems = [str(p) for p in fit_problems(Platform.INSTAGRAM, "#a " * 31, 0, "ig")]
    assert "ig: Instagram needs at least one image" in problems
    assert "ig: the number of hashtags is 31, over the Instagram limit of 30 by 1" in problems


def test_telegram_text_limit_and_album_size() -> None:
    problems = [str(p) for p in fit_problems(Platform.TELEGRAM, "x" * 5000, 11, "tg")]
    assert problems == [
        "tg: the number of images is 11, over the Telegram limit of 10 by 1",
        "tg: the text length is 5000, over the Telegram limit of 4096 by 904",
    ]


def test_a_long_caption_with_photos_fits_telegram_as_a_follow_up() -> None:
    assert fit_problems(Platform.TELEGRAM, "x" * 3000, 2, "tg") == []


def test_ordinary_posts_fit_everywhere() -> None:
    for platform in Platform:
        assert fit_problems(platform, "Book club on Friday #reading", 1, "c") == []
