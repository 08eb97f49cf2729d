"""Keyboards more than one flow shows: choosing a time, and paging through a list."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Literal

from sqlalchemy import select

from bot.turn import Button, Keyboard, Turn
from content.domain.callback_data import CallbackData
from content.domain.naturaltime import parse_natural_time
from content.domain.timeparse import local_to_utc
from content.errors import InvalidInput
from content.queueing.slots import next_free_slot, slots_of
from content.storage.models import Channel

TODAY_EVENING = time(18, 0)
TOMORROW_MORNING = time(10, 0)
# What a time button names: a choice, not a moment.
TimeChoice = Literal["now", "today", "tomorrow", "pick", "slot"]


def _channels(turn: Turn, channel_ids: list[int]) -> list[Channel]:
    return list(turn.session.scalars(select(Channel).where(Channel.id.in_(channel_ids))))


def time_keyboard(
    turn: Turn,
    button: Callable[[TimeChoice], CallbackData],
    channel_ids: list[int] | None = None,
    *,
    offer_now: bool = True,
) -> Keyboard:
    """Now (unless `offer_now` is off, e.g. for an event's start), today 18:00 (while it is
    still ahead), tomorrow 10:00, the channels' next free posting slot (when they have posting
    times), or a typed time.

    The buttons name a choice, not a moment: the moment is worked out when one is pressed, so
    an old keyboard pressed the next day still means what it says.
    """
    first = [Button(turn._("Now"), data=button("now").pack())] if offer_now else []
    if turn.now().astimezone(turn.tz).time() < TODAY_EVENING:
        first.append(Button(turn._("Today 18:00"), data=button("today").pack()))
    first.append(Button(turn._("Tomorrow 10:00"), data=button("tomorrow").pack()))
    second = [Button(turn._("📅 Pick a date and time"), data=button("pick").pack())]
    if channel_ids and slots_of(turn.session, _channels(turn, channel_ids)):
        second.insert(0, Button(turn._("🗓 Next free slot"), data=button("slot").pack()))
    return [first, second]


def time_prompt(turn: Turn) -> str:
    return turn._(
        "When should it go out? Press a button, or type a time, e.g. «tomorrow 10:00», "
        "«friday 18:30» or «2026-12-01 10:00»."
    )


def pick_prompt(turn: Turn) -> str:
    return turn._(
        "Type the date and time in your own words, e.g. «tomorrow 10:00», «next Friday 18:30» "
        "or «2026-12-01 10:00»."
    )


def chosen_time(
    turn: Turn, choice: TimeChoice, channel_ids: list[int] | None = None
) -> datetime | None:
    """The moment a time button stands for (None for "pick"); InvalidInput if it has passed."""
    now = turn.now()
    if choice == "slot":
        names = [c.name for c in _channels(turn, channel_ids or [])]
        return next_free_slot(turn.session, names, now, org=turn.organization)
    today = now.astimezone(turn.tz).date()
    if choice == "now":
        return now
    if choice == "today":
        moment = local_to_utc(datetime.combine(today, TODAY_EVENING), turn.tz)
        if moment <= now:
            raise InvalidInput("today 18:00 has already passed: choose a later time")
        return moment
    if choice == "tomorrow":
        tomorrow = today + timedelta(days=1)
        return local_to_utc(datetime.combine(tomorrow, TOMORROW_MORNING), turn.tz)
    return None


def typed_time(turn: Turn, text: str) -> datetime:
    """A time typed in any of the four languages; InvalidInput if unreadable or past."""
    return parse_natural_time(text, turn.tz, turn.now())


def pager(button: Callable[[int], CallbackData], page: int, pages: int) -> list[Button]:
    """◀ and ▶ to the neighbouring pages (nothing when there is one page)."""
    row = []
    if page > 0:
        row.append(Button("◀", data=button(page - 1).pack()))
    if pages > 1:
        row.append(Button(f"{page + 1}/{pages}", data=button(page).pack()))
    if page < pages - 1:
        row.append(Button("▶", data=button(page + 1).pack()))
    return row
