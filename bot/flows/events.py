"""/event: a new event with its announcement and reminders (what is coming up, moving and
cancelling an event, and "Remind me" are in bot.flows.upcoming)."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from bot.access import Permission
from bot.describe import SKIP
from bot.keyboards import TimeChoice, chosen_time, pick_prompt, time_keyboard, typed_time
from bot.router import STALE_BUTTON, Router
from bot.turn import Button, Keyboard, Turn
from content.domain.callback_data import CallbackData
from content.domain.reminders import DEFAULT_OFFSETS, plan_reminders
from content.domain.rules import Problem, fit_problems
from content.domain.states import ChannelStatus, Platform
from content.domain.templates import EventFacts, announcement_text, local_time
from content.domain.timeparse import format_offset, parse_offsets
from content.errors import InvalidInput
from content.i18n import N_, explain
from content.queueing.scheduling import NewEvent, add_event
from content.storage.media import inspect_image, store_image
from content.storage.models import Channel

FLOW = "event"
_URL = re.compile(r"^https?://\S+\.\S+$", re.IGNORECASE)
TRY_AGAIN = N_("Try again, or send /cancel to stop.")
NO_POSTER = N_(
    "So {channel} stays off: Instagram shows a picture with every post. To publish there, "
    "start /event again and send a poster at the poster step; or keep to the other channels."
)
TOO_LONG = N_(
    "So {channel} stays off. To publish there, start /event again with a shorter "
    "description; or keep to the other channels."
)

Step = Callable[[Turn], Awaitable[None]]

routes = Router()


@dataclass(frozen=True)
class Confirm(CallbackData, prefix="evt"):
    """Schedule or cancel the event being confirmed."""

    action: Literal["ok", "no"]


@dataclass(frozen=True)
class ToggleChannel(CallbackData, prefix="evt:ch"):
    channel_id: int


@dataclass(frozen=True)
class EventTime(CallbackData, prefix="evt:t"):
    """A time button (the /new flow's) under the start or the announcement question."""

    choice: TimeChoice


def actor(turn: Turn) -> str:
    return f"staff:{turn.incoming.user_id}"


def example_time(turn: Turn) -> str:
    """A start time a week ahead at 18:00, written the way the bot reads it."""
    day = (turn.now() + timedelta(days=7)).astimezone(turn.tz)
    return day.strftime("%Y-%m-%d") + " 18:00"


def _text(turn: Turn) -> str:
    """The text answer of a step; anything else is refused with a way on."""
    text = (turn.incoming.text or "").strip()
    if not text or turn.incoming.photo_path or turn.incoming.document_path:
        raise InvalidInput("please answer with text here")
    return text


def _optional(text: str) -> str | None:
    return None if text == SKIP else text


def _when(turn: Turn, text: str) -> datetime:
    """A time typed the way /new reads it: "пятница 18:30", "ертең 10:00", "now", ISO."""
    return typed_time(turn, text)


# --- the /event conversation --------------------------------------------------------------------

PROMPTS: dict[str, str] = {
    "title": N_("New event. What is it called? (Send /cancel at any step to stop.)"),
    "when": N_(
        "When does it start? Press a button, or type a time, e.g. «tomorrow 10:00», "
        "«friday 18:30» or «2026-12-01 10:00» (time zone {zone})."
    ),
    "place": N_("Where does it take place? Send the place, or - to skip."),
    "about": N_("Describe the event in a few sentences, or send - to skip."),
    "image": N_("Send a poster (a photo or an image file), or - to skip."),
    "link": N_("Send the registration link (https://…), or - if there is none."),
    "reminders": N_(
        "When should reminders go out before the start? E.g. {default} (the usual), or - for none."
    ),
    "announce": N_(
        "When should the announcement go out? Press a button, or type a time before the "
        "start, e.g. «now», «tomorrow 10:00» or «2026-12-01 10:00»."
    ),
}


def _time_keyboard(turn: Turn, step: str) -> Keyboard | None:
    """The /new flow's time buttons under the start (without Now) and the announcement."""
    if step == "when":
        return time_keyboard(turn, EventTime, offer_now=False)
    if step == "announce":
        return time_keyboard(turn, EventTime, [c.id for c in _default_channels(turn)])
    return None


def ask(turn: Turn, step: str) -> None:
    turn.conversation.goto(step)
    text = turn._(
        PROMPTS[step],
        example=example_time(turn),
        zone=turn.tz.key,
        default=",".join(format_offset(m) for m in DEFAULT_OFFSETS),
    )
    keyboard = _time_keyboard(turn, step)
    if keyboard is None:
        turn.say(text)
    else:
        turn.say(text, keyboard)


def _event_facts(data: dict[str, Any]) -> EventFacts:
    return EventFacts(
        title=str(data["title"]),
        starts_at=datetime.fromisoformat(str(data["starts_at"])),
        place=_str(data.get("place")),
        description=_str(data.get("about")),
        registration_url=_str(data.get("link")),
    )


def _str(value: object) -> str | None:
    return None if value is None else str(value)


def _channels(turn: Turn) -> list[Channel]:
    return turn.channels()


def _default_channels(turn: Turn) -> list[Channel]:
    """The channels ticked at first: the active ones the event can go to (no Instagram
    without a poster, nothing whose limits the text exceeds)."""
    return [
        c for c in _channels(turn) if c.status is ChannelStatus.ACTIVE and not _misfits(turn, c)
    ]


def _misfits(turn: Turn, channel: Channel) -> list[Problem]:
    """The limits of `channel` the event breaks (the ones add_event refuses)."""
    data = turn.conversation.data
    text = "\n".join(filter(None, [data.get("title"), data.get("place"), data.get("about")]))
    return fit_problems(channel.platform, text, 1 if data.get("image") else 0, channel.name)


def summary(turn: Turn) -> tuple[str, Keyboard]:
    """The event and its announcement and reminder series, for confirmation."""
    data = turn.conversation.data
    facts = _event_facts(data)
    announce_at = datetime.fromisoformat(str(data["announce_at"]))
    offsets = [int(m) for m in data.get("offsets", [])]
    tz, language, now = turn.tz, turn.language, turn.now()
    planned = plan_reminders(facts.starts_at, offsets, announce_at, tz)
    lines = [
        turn._("Please check the event:"),
        "",
        f"📅 {facts.title}",
        f"🕒 {local_time(facts.starts_at, tz, language, now)}",
    ]
    if facts.place:
        lines.append(f"📍 {facts.place}")
    if facts.registration_url:
        lines.append(f"🔗 {facts.registration_url}")
    if data.get("image"):
        lines.append("🖼 " + turn._("with a poster"))
    lines += [
        "",
        turn._("Announcement: {when}", when=local_time(announce_at, tz, language, now)),
    ]
    if planned:
        lines.append(turn._("Reminders:"))
        lines += [
            f"  • {format_offset(r.offset_minutes)} — {local_time(r.due_at, tz, language, now)}"
            for r in planned
        ]
    else:
        lines.append(turn._("Reminders: none"))
    skipped = sorted(set(offsets) - {r.offset_minutes for r in planned}, reverse=True)
    if skipped:
        lines.append(
            turn._(
                "Skipped (would come before the announcement): {offsets}",
                offsets=", ".join(format_offset(m) for m in skipped),
            )
        )
    chosen = set(data.get("channels", []))
    channels = _channels(turn)
    names = [c.name for c in channels if c.id in chosen]
    lines += ["", turn._("Channels: {names}", names=", ".join(names) or "—")]
    preview = next((c for c in channels if c.id in chosen), None)
    if preview is not None:
        lines += [
            "",
            turn._("The announcement on {channel} will read:", channel=preview.name),
            announcement_text(facts, turn.tz, preview.language),
        ]
    toggles = [
        Button(("✅ " if c.id in chosen else "▫️ ") + c.name, data=ToggleChannel(c.id).pack())
        for c in channels
    ]
    keyboard: Keyboard = [toggles[i : i + 3] for i in range(0, len(toggles), 3)]
    keyboard.append(
        [
            Button("✔️ " + turn._("Schedule"), data=Confirm("ok").pack()),
            Button("✖️ " + turn._("Cancel"), data=Confirm("no").pack()),
        ]
    )
    return "\n".join(lines), keyboard


def _confirming(turn: Turn) -> bool:
    """Whether a confirmation button belongs to the conversation the person is in."""
    conversation = turn.conversation
    if conversation.flow == FLOW and conversation.step == "confirm":
        return True
    turn.answer(turn._(STALE_BUTTON))
    return False


def step(name: str) -> Callable[[Step], Step]:
    """A conversation step whose bad input is answered with why and a way on; the
    conversation stays where it was."""

    def wrap(handler: Step) -> Step:
        async def guarded(turn: Turn) -> None:
            try:
                await handler(turn)
            except InvalidInput as err:
                turn.say(explain(err, turn.language) + "\n" + turn._(TRY_AGAIN))

        routes.step(FLOW, name, Permission.EDIT)(guarded)
        return guarded

    return wrap


@routes.command(
    "event",
    Permission.EDIT,
    N_("Announce an event with reminders"),
    per_organization=True,
)
async def new_event(turn: Turn) -> None:
    turn.conversation.start(FLOW, "title")
    ask(turn, "title")


@step("title")
async def title(turn: Turn) -> None:
    text = _text(turn)
    if len(text) > 300:
        raise InvalidInput(
            "the title is {length} characters long; keep it within {limit}",
            length=len(text),
            limit=300,
        )
    turn.conversation.data["title"] = text
    ask(turn, "when")


@step("when")
async def when(turn: Turn) -> None:
    _set_start(turn, _when(turn, _text(turn)))


def _set_start(turn: Turn, starts_at: datetime) -> None:
    if starts_at <= turn.now():
        raise InvalidInput("the event's start is in the past: choose a later time")
    turn.conversation.data["starts_at"] = starts_at.isoformat()
    ask(turn, "place")


@step("place")
async def place(turn: Turn) -> None:
    text = _text(turn)
    if len(text) > 300:
        raise InvalidInput(
            "the place is {length} characters long; keep it within {limit}",
            length=len(text),
            limit=300,
        )
    turn.conversation.data["place"] = _optional(text)
    ask(turn, "about")


@step("about")
async def about(turn: Turn) -> None:
    turn.conversation.data["about"] = _optional(_text(turn))
    ask(turn, "image")


@step("image")
async def image(turn: Turn) -> None:
    incoming = turn.incoming
    path = incoming.photo_path or incoming.document_path
    if path is None:
        if (incoming.text or "").strip() != SKIP:
            raise InvalidInput("that is not an image: send a photo or an image file, or -")
        turn.conversation.data["image"] = None
        ask(turn, "link")
        return
    try:
        facts = inspect_image(path)
    except InvalidInput as err:
        # Name the file as the person knows it, not by our temporary path.
        shown = incoming.document_name or Path(path).name
        raise InvalidInput(err.template, **{**err.params, "path": shown}) from None
    store_image(facts, turn.services.media_dir)
    turn.conversation.data["image"] = facts.relative_path
    ask(turn, "link")


@step("link")
async def link(turn: Turn) -> None:
    text = _text(turn)
    if text != SKIP and not _URL.match(text):
        raise InvalidInput(
            "{link} is not a web link: send one starting with https://, or -", link=text
        )
    turn.conversation.data["link"] = _optional(text)
    ask(turn, "reminders")


@step("reminders")
async def reminders(turn: Turn) -> None:
    text = _text(turn)
    turn.conversation.data["offsets"] = [] if text == SKIP else parse_offsets(text)
    ask(turn, "announce")


@step("announce")
async def announce(turn: Turn) -> None:
    _set_announcement(turn, _when(turn, _text(turn)))


def _set_announcement(turn: Turn, announce_at: datetime) -> None:
    data = turn.conversation.data
    if announce_at >= datetime.fromisoformat(str(data["starts_at"])):
        raise InvalidInput("the announcement must go out before the event starts")
    data["announce_at"] = announce_at.isoformat()
    if "channels" not in data:
        data["channels"] = [c.id for c in _default_channels(turn)]
    turn.conversation.goto("confirm")
    turn.say(*summary(turn))


@routes.button(EventTime, Permission.EDIT)
async def time_pressed(turn: Turn, pressed: EventTime) -> None:
    """A time button under the start or the announcement question: the moment it names, as if
    typed (refused the same way); "pick" asks for a typed time."""
    conversation = turn.conversation
    if conversation.flow != FLOW or conversation.step not in ("when", "announce"):
        turn.answer(turn._(STALE_BUTTON))
        return
    try:
        moment = chosen_time(turn, pressed.choice, [c.id for c in _default_channels(turn)])
        if moment is None:
            turn.say(pick_prompt(turn))
        elif conversation.step == "when":
            _set_start(turn, moment)
        else:
            _set_announcement(turn, moment)
    except InvalidInput as err:
        keyboard = _time_keyboard(turn, conversation.step) or []
        turn.say(explain(err, turn.language) + "\n" + turn._(TRY_AGAIN), keyboard)


@step("confirm")
async def confirm(turn: Turn) -> None:
    turn.say(turn._("Press Schedule to create the event, or Cancel."))


@routes.button(ToggleChannel, Permission.EDIT)
async def channel_pressed(turn: Turn, pressed: ToggleChannel) -> None:
    turn.check_conversation_channel(pressed.channel_id)
    if not _confirming(turn):
        return
    data = turn.conversation.data
    chosen = list(data.get("channels", []))
    if pressed.channel_id in chosen:
        data["channels"] = [c for c in chosen if c != pressed.channel_id]
    else:
        channel = next((c for c in _channels(turn) if c.id == pressed.channel_id), None)
        if channel is None or _refused(turn, channel):
            return
        data["channels"] = [*chosen, pressed.channel_id]
    turn.edit(*summary(turn))


def _refused(turn: Turn, channel: Channel) -> bool:
    """Whether `channel` cannot take the event as it is; if so, the person is told why and
    what to do (the same limits add_event checks)."""
    problems = _misfits(turn, channel)
    if not problems:
        return False
    lines = [turn._(p.template, **p.params) for p in problems]
    if not turn.conversation.data.get("image") and channel.platform is Platform.INSTAGRAM:
        lines.append(turn._(NO_POSTER, channel=channel.name))
    else:
        lines.append(turn._(TOO_LONG, channel=channel.name))
    turn.answer(turn._("{channel} cannot take this post", channel=channel.name))
    turn.say("\n".join(lines))
    return True


@routes.button(Confirm, Permission.EDIT)
async def confirm_pressed(turn: Turn, pressed: Confirm) -> None:
    if not _confirming(turn):
        return
    if pressed.action == "no":
        turn.conversation.end()
        turn.edit(turn._("Cancelled. Nothing was saved."))
    else:
        await _schedule(turn)


async def _schedule(turn: Turn) -> None:
    data = turn.conversation.data
    by_id = {c.id: c.name for c in _channels(turn)}
    names = [by_id[i] for i in data.get("channels", []) if i in by_id]
    if not names:
        turn.answer(turn._("Choose at least one channel first."))
        return
    facts = _event_facts(data)
    announce_at = datetime.fromisoformat(str(data["announce_at"]))
    image = data.get("image")
    event = add_event(
        turn.session,
        turn.organization,
        NewEvent(
            title=facts.title,
            starts_at=facts.starts_at,
            channels=names,
            announce_at=max(announce_at, turn.now()),
            reminder_offsets=[int(m) for m in data.get("offsets", [])],
            place=facts.place,
            description=facts.description,
            image=turn.services.media_dir / str(image) if image else None,
            registration_url=facts.registration_url,
        ),
        turn.services.media_dir,
        turn.now(),
        actor(turn),
    )
    reminders = sum(1 for p in event.publications if p.offset_minutes) // len(names)
    turn.conversation.end()
    turn.queue_changed = True
    turn.answer(turn._("Scheduled"))
    turn.edit(
        turn._(
            "Scheduled event #{id} “{title}”: the announcement goes out {when} on {channels}, "
            "with {count} reminder(s).",
            id=event.id,
            title=facts.title,
            when=local_time(announce_at, turn.tz, turn.language, turn.now()),
            channels=", ".join(names),
            count=reminders,
        )
    )
