"""The limit checks and the preview: any text, any number of images, links and buttons."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from content.domain.preview import TelegramPartKind, compose_text, preview
from content.domain.rules import (
    ALBUM_MAX,
    FACEBOOK_TEXT,
    INSTAGRAM_CAPTION,
    TELEGRAM_CAPTION,
    TELEGRAM_TEXT,
    fit_problems,
    telegram_length,
)
from content.domain.states import Platform
from tests.fuzz import batch, budget, ran

# Texts near each limit, made of what trips counting: astral emoji (2 UTF-16 units), combining
# marks, joiners, direction marks, hashtags, mentions, HTML and entity look-alikes.
PIECES = st.sampled_from(
    [
        "a",
        " ",
        "\n",
        "\n\n",
        "📚",
        "e\u0301",
        "\u200d",
        "\u200f",
        "\u202e",
        "#tag",
        "@user",
        "<b>",
        "&amp;",
        "*",
        "_",
        "`",
        "||",
        ".",
        "https://library.example/e/1",
    ]
)


def _near(limit: int) -> st.SearchStrategy[str]:
    return st.builds(
        lambda base, tail: "a" * base + "".join(tail),
        st.integers(max(0, limit - 40), limit + 5),
        st.lists(PIECES, max_size=8),
    )


TEXTS = st.one_of(
    st.text(),
    st.lists(PIECES, max_size=40).map("".join),
    _near(TELEGRAM_CAPTION),
    _near(INSTAGRAM_CAPTION),
    _near(TELEGRAM_TEXT),
    _near(FACEBOOK_TEXT),
)
PLATFORMS = st.sampled_from(list(Platform))
IMAGES = st.integers(0, ALBUM_MAX + 3)
LINKS = st.one_of(st.none(), st.just("https://library.example/e/1"), st.text(max_size=30))


@budget(3_000, 20)
@given(cases=batch(st.tuples(PLATFORMS, TEXTS, IMAGES, st.text(max_size=20))))
def test_fit_problems(cases: list[tuple[Platform, str, int, str]]) -> None:
    for platform, text, images, channel in cases:
        ran("rules.fit_problems")
        _fit_problems(platform, text, images, channel)


def _fit_problems(platform: Platform, text: str, images: int, channel: str) -> None:
    problems = fit_problems(platform, text, images, channel)
    for problem in problems:
        assert str(problem)
    if images > ALBUM_MAX:
        assert problems


@budget(3_000, 20)
@given(cases=batch(st.tuples(PLATFORMS, TEXTS, IMAGES, LINKS, st.integers(0, 4))))
def test_preview(cases: list[tuple[Platform, str, int, str | None, int]]) -> None:
    for platform, text, images, link, buttons in cases:
        ran("preview.preview")
        _preview(platform, text, images, link, buttons)


def _preview(platform: Platform, text: str, images: int, link: str | None, buttons: int) -> None:
    shown = preview(platform, text, images, link=link, buttons=buttons)
    for note in (*shown.parts, *shown.problems, *shown.warnings):
        assert str(note)
    if not shown.fits:
        assert shown.parts == ()
        return
    assert shown.parts
    if platform is not Platform.TELEGRAM:
        return
    # What goes out is the whole composed text, once (split at white space, if at all), and
    # each part within Telegram's limits.
    parts = shown.telegram_parts
    sent = "".join(p.text for p in parts)
    assert "".join(sent.split()) == "".join(compose_text(text, link).split())
    assert sum(p.photos for p in parts) == images
    for part in parts:
        limit = TELEGRAM_TEXT if part.kind is TelegramPartKind.MESSAGE else TELEGRAM_CAPTION
        assert telegram_length(part.text) <= limit
        assert not (part.kind is TelegramPartKind.ALBUM and part.buttons)
