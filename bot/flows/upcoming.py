"""/events (what is coming up, for everyone), moving and cancelling an event, and the "Remind
me" button under event posts."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from bot.access import Permission
from bot.flows.events import TRY_AGAIN, _text, _when, actor, example_time
from bot.router import Router
from bot.turn import Button, Keyboard, Turn
from content.domain.callback_data import CallbackData, RemindMe, remind_start
from content.domain.states import EventStatus
from content.domain.templates import local_time
from content.domain.text import headline
from content.errors import InvalidInput
from content.i18n import N_, explain
from content.queueing.event_changes import cancel_event_with_notice, move_event_with_notice
from content.queueing.followers import Request, reachable, request_reminder
from content.storage import store
from content.storage.models import Event

MOVE_FLOW = "event_move"
LISTED = 10  # events shown by /events

routes = Router()


@dataclass(frozen=True)
class MoveEvent(CallbackData, prefix="evt:move"):
    event_id: int


@dataclass(frozen=True)
class CancelEvent(CallbackData, prefix="evt:cancel"):
    """Asks first: with a notice where it was announced, without, or not at all."""

    event_id: int


@dataclass(frozen=True)
class CancelConfirmed(CallbackData, prefix="evt:cx"):
    event_id: int
    notify: bool


@dataclass(frozen=True)
class KeepEvent(CallbackData, prefix="evt:keep"):
    pass


@routes.command("events", Permission.PUBLIC, N_("Upcoming events"))
async def events(turn: Turn) -> None:
    query = select(Event).where(Event.status == EventStatus.SCHEDULED, Event.starts_at > turn.now())
    if turn.memberships:  # staff see the library they work in; followers every library's
        query = query.where(Event.organization_id == turn.organization.id)
    upcoming = list(turn.session.scalars(query.order_by(Event.starts_at, Event.id).limit(LISTED)))
    if not upcoming:
        turn.say(turn._("No events are planned yet."))
        return
    staff = turn.may(Permission.EDIT)
    asked = store.reminder_requests(turn.session, [e.id for e in upcoming]) if staff else {}
    lines = [turn._("Upcoming events:")]
    keyboard: Keyboard = []
    for event in upcoming:
        lines += [
            "",
            f"📅 {event.title}",
            f"🕒 {local_time(event.starts_at, turn.tz, turn.language, turn.now())}",
        ]
        if event.place:
            lines.append(f"📍 {event.place}")
        if staff:  # the demand, for staff only: followers see no one else's requests
            lines.append(
                "🔔 " + turn._("Asked to be reminded: {count}", count=asked.get(event.id, 0))
            )
        row = [Button(f"🔔 {headline(event.title, 24)}", data=RemindMe(event.id).pack())]
        if staff:
            row += [
                Button("🕒 " + turn._("Move"), data=MoveEvent(event.id).pack()),
                Button("❌ " + turn._("Cancel"), data=CancelEvent(event.id).pack()),
            ]
        keyboard.append(row)
    lines += ["", turn._("Press 🔔 to get a private reminder before an event.")]
    turn.say("\n".join(lines), keyboard)


def _scheduled_event(turn: Turn, event_id: int) -> Event | None:
    event = turn.session.get(Event, event_id)
    if event is None or event.status is not EventStatus.SCHEDULED:
        turn.answer(turn._("This event is no longer scheduled."))
        return None
    return event


@routes.button(KeepEvent, Permission.EDIT)
async def keep_pressed(turn: Turn, _pressed: KeepEvent) -> None:
    turn.edit(turn._("Nothing was changed."))


@routes.button(MoveEvent, Permission.EDIT)
async def move_pressed(turn: Turn, pressed: MoveEvent) -> None:
    event = _scheduled_event(turn, pressed.event_id)
    if event is None:
        return
    starts = local_time(event.starts_at, turn.tz, turn.language, turn.now())
    turn.conversation.start(MOVE_FLOW, "when", event_id=event.id)
    turn.say(
        turn._(
            "“{title}” starts {when}. When does it start now? Send the local date and "
            "time, e.g. {example}; its announcement and reminders move with it.",
            title=event.title,
            when=starts,
            example=example_time(turn),
        )
    )


@routes.button(CancelEvent, Permission.EDIT)
async def cancel_pressed(turn: Turn, pressed: CancelEvent) -> None:
    event = _scheduled_event(turn, pressed.event_id)
    if event is None:
        return
    starts = local_time(event.starts_at, turn.tz, turn.language, turn.now())
    notice, silent = CancelConfirmed(event.id, True), CancelConfirmed(event.id, False)
    turn.say(
        turn._(
            "Cancel “{title}” ({when})? Its unsent announcement and reminders are "
            "withdrawn. Where it was announced, I can post a cancellation notice.",
            title=event.title,
            when=starts,
        ),
        [
            [Button(turn._("Cancel and post a notice"), data=notice.pack())],
            [Button(turn._("Cancel without a notice"), data=silent.pack())],
            [Button(turn._("Keep the event"), data=KeepEvent().pack())],
        ],
    )


@routes.button(CancelConfirmed, Permission.EDIT)
async def cancel_confirmed(turn: Turn, pressed: CancelConfirmed) -> None:
    event = _scheduled_event(turn, pressed.event_id)
    if event is None:
        return
    done = cancel_event_with_notice(
        turn.session,
        turn.organization,
        event.id,
        notify=pressed.notify,
        now=turn.now(),
        actor=actor(turn),
    )
    turn.queue_changed = True
    turn.edit(
        turn._(
            "Cancelled “{title}”: {withdrawn} unsent publication(s) withdrawn, "
            "cancellation notice on {notices} channel(s), {followers} follower(s) who asked "
            "for a reminder will be told.",
            title=event.title,
            withdrawn=done.withdrawn,
            notices=done.notices,
            followers=done.followers,
        )
    )


@routes.step(MOVE_FLOW, "when", Permission.EDIT)
async def move_to(turn: Turn) -> None:
    try:
        starts_at = _when(turn, _text(turn))
        # Whoever read the old date hears the new one: the channels that announced it, and
        # the followers who asked to be reminded (and are reminded again before the new start).
        moved = move_event_with_notice(
            turn.session,
            turn.organization,
            int(turn.conversation.data["event_id"]),
            starts_at,
            notify=True,
            now=turn.now(),
            actor=actor(turn),
        )
    except InvalidInput as err:
        turn.say(explain(err, turn.language) + "\n" + turn._(TRY_AGAIN))
        return
    turn.conversation.end()
    turn.queue_changed = True
    turn.say(
        turn._(
            "Moved to {when}: {moved} publication(s) got a new time, {added} reminder(s) "
            "added, {withdrawn} withdrawn. New-date notice on {notices} channel(s); "
            "{followers} follower(s) who asked for a reminder will be told.",
            when=local_time(starts_at, turn.tz, turn.language, turn.now()),
            moved=moved.rescheduled.moved,
            added=moved.rescheduled.added,
            withdrawn=moved.rescheduled.withdrawn,
            notices=moved.notices,
            followers=moved.followers,
        )
    )


# --- "Remind me" -----------------------------------------------------------------------


@routes.button(RemindMe, Permission.PUBLIC)
async def remind(turn: Turn, pressed: RemindMe) -> None:
    user_id = turn.incoming.user_id
    if not reachable(turn.session, user_id):
        # Telegram lets the bot write only to people who started it: open the chat first, and
        # /start remind-<id> puts them on the list (bot.flows.basics).
        turn.answer(
            turn._("Open the chat with me and press Start: then I can send you the reminder."),
            start=remind_start(pressed.event_id),
        )
        return
    result, event = request_reminder(
        turn.session, pressed.event_id, user_id, turn.language, turn.now()
    )
    turn.answer(reminder_reply(turn, result, event))


def reminder_reply(turn: Turn, result: Request, event: Event | None) -> str:
    """What a follower hears after asking to be reminded of `event`."""
    if result is Request.GONE or event is None:
        return turn._("This event is over or was cancelled.")
    if result is Request.ALREADY:
        return turn._("You are on the list already: I will remind you before it starts.")
    return turn._(
        "Done! I will send you a private reminder before “{title}” starts.",
        title=headline(event.title, 60),
    )
