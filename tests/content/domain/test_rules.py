"""Platform limits name the limit and by how much it is exceeded."""

from __future__ import annotations

from content.domain.rules import fit_problems
from content.domain.states import Platform


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
