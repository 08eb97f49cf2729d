"""Platform limits and whether a post fits a channel: plain functions of plain values."""

from __future__ import annotations

import re
from dataclasses import dataclass

from content.domain.splitting import split_text, utf16_length
from content.domain.states import Platform
from content.errors import InvalidInput, Phrases
from content.i18n import N_

TELEGRAM_TEXT = 4096
TELEGRAM_CAPTION = 1024
FACEBOOK_TEXT = 63206
INSTAGRAM_CAPTION = 2200
INSTAGRAM_HASHTAGS = 30
INSTAGRAM_MENTIONS = 20
ALBUM_MAX = 10


# A longer Telegram text goes as several messages; beyond this many it is refused as a typo or
# a pasted document, not an announcement.
TELEGRAM_MAX_PARTS = 10

# Length as Telegram counts it: UTF-16 code units (an emoji outside the BMP counts 2).
telegram_length = utf16_length


def telegram_texts(text: str, image_count: int) -> list[str]:
    """`text` cut as Telegram takes it: with photos, a caption of at most 1024 first (all of
    it, if it fits), then messages of at most 4096 each."""
    if image_count and telegram_length(text) <= TELEGRAM_CAPTION:
        return [text] if text.strip() else []
    return split_text(text, TELEGRAM_TEXT, first_limit=TELEGRAM_CAPTION if image_count else None)


_HASHTAG = re.compile(r"(?<!\w)#\w+")
_MENTION = re.compile(r"(?<![\w@])@[\w.]+")


@dataclass(frozen=True)
class Problem:
    """Why a post does not fit a channel; `template` is the translatable message."""

    template: str
    params: dict[str, object]

    def __str__(self) -> str:
        return self.template.format(**self.params)


def fit_problems(platform: Platform, text: str, image_count: int, channel: str) -> list[Problem]:
    """Every limit of `platform` that a post with `text` and `image_count` images exceeds."""
    problems: list[Problem] = []

    def over(limit_name: str, limit: int, actual: int) -> None:
        problems.append(
            Problem(
                "{channel}: {what} is {actual}, over the {platform} limit of {limit} by {excess}",
                {
                    "channel": channel,
                    "what": limit_name,
                    "actual": actual,
                    "platform": platform.value.capitalize(),
                    "limit": limit,
                    "excess": actual - limit,
                },
            )
        )

    if image_count > ALBUM_MAX:
        over(N_("the number of images"), ALBUM_MAX, image_count)
    if platform is Platform.TELEGRAM:
        if (parts := len(telegram_texts(text, image_count))) > TELEGRAM_MAX_PARTS:
            over(N_("the number of messages"), TELEGRAM_MAX_PARTS, parts)
    elif platform is Platform.FACEBOOK and len(text) > FACEBOOK_TEXT:
        over(N_("the text length"), FACEBOOK_TEXT, len(text))
    elif platform is Platform.INSTAGRAM:
        if image_count == 0:
            problems.append(
                Problem("{channel}: Instagram needs at least one image", {"channel": channel})
            )
        if len(text) > INSTAGRAM_CAPTION:
            over(N_("the caption length"), INSTAGRAM_CAPTION, len(text))
        if (tags := len(_HASHTAG.findall(text))) > INSTAGRAM_HASHTAGS:
            over(N_("the number of hashtags"), INSTAGRAM_HASHTAGS, tags)
        if (mentions := len(_MENTION.findall(text))) > INSTAGRAM_MENTIONS:
            over(N_("the number of @mentions"), INSTAGRAM_MENTIONS, mentions)
    return problems


def misfit(problems: list[Problem]) -> InvalidInput:
    """The refusal of a post or event that does not fit its channels, in the reader's language,
    with the ways out."""
    return InvalidInput(
        "{problems}. Add an image or shorten the text, or leave that channel out.",
        problems=Phrases(tuple((p.template, p.params) for p in problems)),
    )


WEB_LINK = re.compile(r"^https?://\S+$")


def check_link(text: str | None) -> str | None:
    """A post's or event's link: an http(s) address or nothing (InvalidInput otherwise), the
    same rule for the bot, the command line and plans."""
    if text and not WEB_LINK.match(text):
        raise InvalidInput("{link!r} is not a web link: start it with https://", link=text)
    return text or None
