"""What a post becomes on each platform, worked out before anything is sent (no I/O).

`preview` tells a person exactly which parts will go out, what does not fit (`problems`) and what
will look different from what they may expect (`warnings`). For Telegram the same decision is
made by `telegram_parts`, which the Telegram channel itself sends from, so the preview and the
sending cannot disagree.

Telegram lengths: the Bot API applies its limits (4096 for a message, 1024 for a caption) to the
text *after* entities are parsed, counted in UTF-16 code units. Afisha sends plain text escaped
into HTML and no tags of its own, so the parsed text is exactly the plain text: we count the plain
text in UTF-16 code units (`content.domain.rules.telegram_length`), never the escaped HTML.

Long Telegram texts are never truncated: they are cut as a person would (`content.domain.splitting`:
at paragraphs, then sentences, then words) and go out in order as one publication. With photos,
the first part is their caption and the rest follow as replies to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum

from content.domain.rules import (
    ALBUM_MAX,
    TELEGRAM_CAPTION,
    TELEGRAM_MAX_PARTS,
    TELEGRAM_TEXT,
    Problem,
    fit_problems,
    telegram_length,
    telegram_texts,
)
from content.domain.states import Platform
from content.i18n import N_


@dataclass(frozen=True)
class Note:
    """A sentence for a person; `template` is the translatable message, `params` fill it."""

    template: str
    params: Mapping[str, object] = field(default_factory=dict)

    def __str__(self) -> str:
        return self.template.format(**self.params)


# --- Telegram ------------------------------------------------------------------------------------


class TelegramPartKind(StrEnum):
    MESSAGE = "message"  # sendMessage
    PHOTO = "photo"  # sendPhoto
    ALBUM = "album"  # sendMediaGroup of 2-10 photos, caption on the first


@dataclass(frozen=True)
class TelegramPart:
    """One request of a Telegram publication, in sending order.

    `text` is plain (the channel escapes it): a message's text, or a caption ("" for none).
    `buttons` says whether this part carries the inline keyboard; albums never do. `reply`: sent
    as a reply to the first part (the rest of a caption too long for its photos).
    """

    kind: TelegramPartKind
    text: str = ""
    photos: int = 0
    buttons: bool = False
    reply: bool = False


def compose_text(text: str, link: str | None = None) -> str:
    """The text as it is sent: the post's text, then the link as its own paragraph.

    The link is not repeated when the text already contains it.
    """
    body = text.strip()
    if not link or link in body:
        return body
    return f"{body}\n\n{link}" if body else link


def telegram_parts(text: str, image_count: int, *, buttons: bool = False) -> list[TelegramPart]:
    """The requests that publish `text` (already composed) with `image_count` photos.

    - no photos: one message, or several in order for a text over 4096;
    - photos and a text that fits a caption: a photo or album with the text as its caption;
    - a longer text: the photo(s) with its first part as their caption, the rest as replies;
    - an album with buttons: the album without a caption, then the text with the buttons,
      because Telegram albums cannot carry an inline keyboard.

    The buttons go under the last part.

    Raises:
        ValueError: the content cannot go out on Telegram (see `preview` for the reasons).
    """
    if not 0 <= image_count <= ALBUM_MAX:
        raise ValueError(f"Telegram sends 0 to {ALBUM_MAX} photos, not {image_count}")
    texts = telegram_texts(text, image_count)
    if len(texts) > TELEGRAM_MAX_PARTS:
        raise ValueError("the text needs more Telegram messages than one publication may have")
    media = TelegramPartKind.PHOTO if image_count == 1 else TelegramPartKind.ALBUM
    if image_count == 0:
        parts = [TelegramPart(TelegramPartKind.MESSAGE, t) for t in texts or [text]]
    elif len(texts) <= 1 and (media is TelegramPartKind.PHOTO or not buttons):
        parts = [TelegramPart(media, text, image_count)]
    elif len(texts) <= 1:
        parts = [TelegramPart(media, "", image_count), TelegramPart(TelegramPartKind.MESSAGE, text)]
    else:
        parts = [TelegramPart(media, texts[0], image_count)]
        parts += [TelegramPart(TelegramPartKind.MESSAGE, t, reply=True) for t in texts[1:]]
    if buttons:
        parts[-1] = replace(parts[-1], buttons=True)
    if any(p.kind is TelegramPartKind.MESSAGE and not p.text.strip() for p in parts):
        raise ValueError("a Telegram message needs text")
    return parts


def _telegram(
    text: str, image_count: int, link: str | None, buttons: int, channel: str
) -> tuple[list[TelegramPart], list[Problem], list[Note]]:
    problems = fit_problems(Platform.TELEGRAM, text, image_count, channel)
    if not text.strip() and (image_count == 0 or (buttons and image_count > 1)):
        why = (
            N_("a message without images") if image_count == 0 else N_("the buttons under an album")
        )
        problems.append(
            Problem("{channel}: Telegram needs text for {what}", {"channel": channel, "what": why})
        )
    if problems:
        return [], problems, []
    parts = telegram_parts(text, image_count, buttons=buttons > 0)
    warnings: list[Note] = []
    length = telegram_length(text)
    if image_count and length > TELEGRAM_CAPTION:
        warnings.append(
            Note(
                "The text is {length} characters, over Telegram's caption limit of {limit}: its "
                "first part goes as the caption and the rest as {count} repl(ies) to the photos.",
                {"length": length, "limit": TELEGRAM_CAPTION, "count": len(parts) - 1},
            )
        )
    elif length > TELEGRAM_TEXT:
        warnings.append(
            Note(
                "The text is {length} characters, over Telegram's limit of {limit} for a message: "
                "it goes as {count} messages in order, cut between paragraphs or sentences.",
                {"length": length, "limit": TELEGRAM_TEXT, "count": len(parts)},
            )
        )
    elif image_count > 1 and buttons:
        warnings.append(
            Note(
                "Telegram albums cannot carry buttons: the text and the buttons follow the album "
                "as a separate message."
            )
        )
    if link and any(p.kind is TelegramPartKind.MESSAGE for p in parts):
        warnings.append(
            Note("Telegram shows a preview of {link} under the message.", {"link": link})
        )
    return parts, [], warnings


_TELEGRAM_PARTS = {
    # (kind, with text, with buttons) → the description; whole sentences, so they translate.
    ("message", True, False): N_("message ({length} characters)"),
    ("message", True, True): N_("message ({length} characters) with {buttons} button(s)"),
    ("reply", True, False): N_("reply ({length} characters)"),
    ("reply", True, True): N_("reply ({length} characters) with {buttons} button(s)"),
    ("photo", True, False): N_("photo with a caption ({length} characters)"),
    ("photo", True, True): N_("photo with a caption ({length} characters) and {buttons} button(s)"),
    ("photo", False, False): N_("photo"),
    ("photo", False, True): N_("photo with {buttons} button(s)"),
    ("album", True, False): N_(
        "album of {count} photos with a caption on the first ({length} characters)"
    ),
    ("album", False, False): N_("album of {count} photos without a caption"),
}


def describe_telegram_part(part: TelegramPart, button_count: int = 0) -> Note:
    """A person's description of one Telegram part."""
    params: dict[str, object] = {
        "count": part.photos,
        "length": telegram_length(part.text),
        "buttons": button_count,
    }
    kind = {TelegramPartKind.MESSAGE: "message", TelegramPartKind.PHOTO: "photo"}.get(
        part.kind, "album"
    )
    if part.reply:
        kind = "reply"
    with_text = bool(part.text) or kind in ("message", "reply")
    # Albums never carry buttons (telegram_parts moves them to a message of their own).
    template = _TELEGRAM_PARTS[(kind, with_text, bool(part.buttons) and kind != "album")]
    return Note(template, params)


# --- every platform ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preview:
    """What publishing a post on a platform will do, before it is done.

    `parts` is empty when there are `problems`: nothing is sent then. For Telegram,
    `telegram_parts` holds the exact requests the channel will make.
    """

    platform: Platform
    parts: tuple[Note, ...]
    problems: tuple[Problem, ...] = ()
    warnings: tuple[Note, ...] = ()
    telegram_parts: tuple[TelegramPart, ...] = ()

    @property
    def fits(self) -> bool:
        return not self.problems


def preview(
    platform: Platform,
    text: str,
    image_count: int,
    *,
    link: str | None = None,
    buttons: int = 0,
    channel: str | None = None,
) -> Preview:
    """What publishing `text` (plus `link`) with `image_count` images and `buttons` will do.

    `channel` names the channel in problems; it defaults to the platform's name.
    """
    channel = channel or platform.value.capitalize()
    full = compose_text(text, link)
    if platform is Platform.TELEGRAM:
        tg_parts, problems, warnings = _telegram(full, image_count, link, buttons, channel)
        return Preview(
            platform,
            tuple(describe_telegram_part(p, buttons) for p in tg_parts),
            tuple(problems),
            tuple(warnings),
            tuple(tg_parts),
        )
    problems = fit_problems(platform, full, image_count, channel)
    if problems:
        return Preview(platform, (), tuple(problems))
    params: dict[str, object] = {"count": image_count, "length": len(full)}
    warnings = []
    if platform is Platform.FACEBOOK:
        if image_count == 0:
            part = Note("feed post ({length} characters)", params)
        else:
            part = Note("feed post with {count} photos ({length} characters)", params)
        if link and image_count == 0:
            warnings.append(
                Note("Facebook shows a preview of {link} under the post.", {"link": link})
            )
        elif link:
            warnings.append(
                Note(
                    "Facebook shows no preview of {link} on a post with photos; it stays a link "
                    "in the text.",
                    {"link": link},
                )
            )
    else:
        if image_count == 1:
            part = Note("image with a caption ({length} characters)", params)
        else:
            part = Note("carousel of {count} images with a caption ({length} characters)", params)
        if link:
            warnings.append(
                Note(
                    "Instagram does not make links in captions clickable: {link} appears as "
                    "plain text.",
                    {"link": link},
                )
            )
    if buttons:
        warnings.append(
            Note(
                "{platform} has no buttons: the post goes out without them.",
                {"platform": platform.value.capitalize(), "buttons": buttons},
            )
        )
    return Preview(platform, (part,), (), tuple(warnings))
