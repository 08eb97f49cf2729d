"""What /new shows: its prompts, keyboards (the buttons' payloads are declared here, their
handlers in bot.flows.new_post.handlers), the preview, and which step comes next."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.drafting import NOW, chosen_channels, due_at
from bot.formatting import channel_label, preview_lines, quoted
from bot.keyboards import TimeChoice, time_keyboard, time_prompt
from bot.turn import Button, Keyboard, Turn
from content.domain.callback_data import CallbackData
from content.domain.languages import LANGUAGES
from content.domain.preview import compose_text
from content.domain.rules import ALBUM_MAX
from content.domain.templates import local_time
from content.queueing.drafts import needs_approval
from content.storage.models import Channel

StepName = Literal[
    "next",  # on from the content
    "nophotos",  # remove the photos
    "edit",  # back to the text and photos
    "alt",  # skip describing this photo
    "altall",  # ... and the rest
    "chok",  # the channels are chosen
    "chan",  # choose them again
    "time",  # choose the time again
    "langs",  # the language versions
    "back",  # back to the preview
    "ok",  # queue it, or send it for approval
    "save",  # keep it as a draft
    "quit",
]


@dataclass(frozen=True)
class Step(CallbackData, prefix="np"):
    """The flow's buttons that name a step to take (see handlers.ACTIONS)."""

    action: StepName


@dataclass(frozen=True)
class ToggleChannel(CallbackData, prefix="np:ch"):
    channel_id: int


@dataclass(frozen=True)
class LanguageVersion(CallbackData, prefix="np:lang"):
    """Write (or rewrite) the text for channels in one language."""

    code: str

    def __post_init__(self) -> None:
        if self.code not in LANGUAGES:
            raise ValueError(f"no language {self.code!r}")


@dataclass(frozen=True)
class RemoveVersion(LanguageVersion, prefix="np:novar"):
    pass


@dataclass(frozen=True)
class Time(CallbackData, prefix="nt"):
    choice: TimeChoice


def content_keyboard(turn: Turn) -> Keyboard:
    rows = [[Button(turn._("Next ➡️"), data=Step("next").pack())]]
    if turn.conversation.data["images"]:
        rows.append([Button(turn._("🗑 Remove the photos"), data=Step("nophotos").pack())])
    rows.append(
        [
            Button(turn._("💾 Save as draft"), data=Step("save").pack()),
            Button(turn._("✖ Cancel"), data=Step("quit").pack()),
        ]
    )
    return rows


def show_content(turn: Turn) -> None:
    data = turn.conversation.data
    text = data.get("text")
    lines = [
        turn._("📝 Text: {length} characters", length=len(text))
        if text
        else turn._("📝 No text yet: send it as a message."),
        turn._("🖼 Photos: {count} of up to {limit}", count=len(data["images"]), limit=ALBUM_MAX),
        "",
        turn._("Send more photos or a new text, or press Next."),
    ]
    turn.say("\n".join(lines), content_keyboard(turn))


def advance(turn: Turn) -> None:
    """On to the first thing the post still lacks, or to its preview."""
    data = turn.conversation.data
    if data["alt_done"] < len(data["images"]):
        ask_alt(turn)
    elif not data["channels_done"]:
        show_channels(turn)
    elif due_at(turn) is None:
        if data["when"] is not None:
            turn.say(turn._("The chosen time has passed: choose another."))
            data["when"] = None
        ask_time(turn)
    else:
        show_preview(turn)


def alt_keyboard(turn: Turn) -> Keyboard:
    return [
        [
            Button(turn._("Skip"), data=Step("alt").pack()),
            Button(turn._("Skip all"), data=Step("altall").pack()),
        ],
        [Button(turn._("✖ Cancel"), data=Step("quit").pack())],
    ]


def ask_alt(turn: Turn) -> None:
    data = turn.conversation.data
    turn.conversation.goto("alt")
    index = data["alt_done"]
    turn.say(
        turn._(
            "Photo {number} of {count}: describe it in a sentence for people who cannot see it "
            "(screen readers read it out), or press Skip.",
            number=index + 1,
            count=len(data["images"]),
        ),
        alt_keyboard(turn),
        photo=turn.services.media_dir / data["images"][index]["path"],
    )


def show_channels(turn: Turn, *, edit: bool = False) -> None:
    turn.conversation.goto("channels")
    chosen = set(turn.conversation.data["channels"])
    rows = [
        [
            Button(
                ("✅ " if c.id in chosen else "▫️ ") + channel_label(c),
                data=ToggleChannel(c.id).pack(),
            )
        ]
        for c in turn.channels()
    ]
    rows.append(
        [
            Button(turn._("Next ➡️"), data=Step("chok").pack()),
            Button(turn._("✖ Cancel"), data=Step("quit").pack()),
        ]
    )
    text = turn._("Where should it go? Tap the channels to choose them, then press Next.")
    if edit:
        turn.edit(text, rows)
    else:
        turn.say(text, rows)


def text_for(turn: Turn, channel: Channel) -> str:
    data = turn.conversation.data
    return compose_text(data["variants"].get(channel.language) or data["text"] or "")


def post_time_keyboard(turn: Turn) -> Keyboard:
    channels = turn.conversation.data.get("channels")
    return [
        *time_keyboard(turn, Time, channels),
        [Button(turn._("✖ Cancel"), data=Step("quit").pack())],
    ]


def ask_time(turn: Turn) -> None:
    turn.conversation.goto("time")
    turn.say(time_prompt(turn), post_time_keyboard(turn))


def show_languages(turn: Turn) -> None:
    variants = turn.conversation.data["variants"]
    rows = [
        [
            Button(("✅ " if code in variants else "") + name, data=LanguageVersion(code).pack())
            for code, name in LANGUAGES.items()
        ],
        [Button(turn._("◀ Back to the preview"), data=Step("back").pack())],
    ]
    turn.say(
        turn._(
            "Which language version? Channels in that language get it instead of the main text."
        ),
        rows,
    )


def waits_for_approval(turn: Turn) -> bool:
    return needs_approval(turn.organization, turn.standing.role if turn.standing else None)


def show_preview(turn: Turn) -> None:
    turn.conversation.goto("preview")
    data = turn.conversation.data
    images = data["images"]
    due = due_at(turn)
    lines = [turn._("👀 Preview"), "", quoted(data["text"] or ""), ""]
    if images:
        described = sum(1 for i in images if i.get("alt"))
        lines.append(
            turn._(
                "🖼 Photos: {count} (described: {described})",
                count=len(images),
                described=described,
            )
        )
    if data["when"] == NOW:
        lines.append("🕒 " + turn._("now, as soon as you confirm"))
    elif due is not None:
        lines.append("🕒 " + local_time(due, turn.tz, turn.language, turn.now()))
    if data["variants"]:
        versions = ", ".join(LANGUAGES[c] for c in data["variants"] if c in LANGUAGES)
        lines.append("🌐 " + turn._("Language versions: {languages}", languages=versions))
    fits = True
    for channel in chosen_channels(turn):
        channel_lines, channel_fits = preview_lines(
            turn.language, channel, text_for(turn, channel), len(images)
        )
        lines += ["", *channel_lines]
        fits = fits and channel_fits
    lines.append("")
    if not fits:
        lines.append(
            turn._("⛔ The post does not fit every channel: change the text or the channels.")
        )
    rows: Keyboard = []
    if fits:
        label = (
            turn._("📨 Send for approval") if waits_for_approval(turn) else turn._("✅ Queue it")
        )
        rows.append([Button(label, data=Step("ok").pack())])
    rows += [
        [
            Button(turn._("✏️ Text and photos"), data=Step("edit").pack()),
            Button(turn._("📣 Channels"), data=Step("chan").pack()),
        ],
        [
            Button(turn._("🕒 Time"), data=Step("time").pack()),
            Button(turn._("🌐 Language versions"), data=Step("langs").pack()),
        ],
        [
            Button(turn._("💾 Save as draft"), data=Step("save").pack()),
            Button(turn._("✖ Cancel"), data=Step("quit").pack()),
        ],
    ]
    if images:
        turn.say(
            turn._("Photo 1 of {count}", count=len(images)),
            photo=turn.services.media_dir / images[0]["path"],
        )
    turn.say("\n".join(lines), rows)
