"""Times typed the way people say them: "завтра в 10", "ертең 10:00", "rytoj 10:00",
"next Friday 18:30" — read with dateparser in the organisation's zone, as aware UTC.

dateparser (1.2) reads most of Russian, Lithuanian and English, but has gaps that matter here, so
a few words are put into English before it reads the text (`_WORDS`):
- Kazakh: it knows "ертең" and the weekday names, but not "бүрсігүні" (the day after tomorrow) or
  "келесі" (next); the relative words and weekdays are all translated, so a phrase mixing them
  ("келесі жұма 18:30") is read in one language.
- Lithuanian: weekdays after "kitą" (next) are in the accusative ("penktadienį"), which it does
  not know, nor "poryt" (the day after tomorrow).
- Russian hours with the part of the day ("в 6 вечера") become "6:00 pm".
- A bare hour after a preposition or a day ("завтра в 10", "tomorrow at 10", "ертең сағат 10")
  is dropped by dateparser, which then keeps the current time of day; it is written "10:00".
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import dateparser

from content.domain.timeparse import parse_when
from content.errors import InvalidInput, LocalMoment

LANGUAGES = ["ru", "kk", "lt", "en"]
# "Now" in the four languages: each language's prompt offers its own word.
NOW_WORDS = frozenset({"now", "сейчас", "қазір", "dabar"})
_ISO_LIKE = re.compile(r"^\s*(now|\d{4}-\d{2}-\d{2}([ T].*)?)\s*$", re.IGNORECASE)

_WORDS = {
    # Kazakh
    "бүгін": "today",
    "ертең": "tomorrow",
    "бүрсігүні": "day after tomorrow",
    "келесі": "next",
    "дүйсенбі": "monday",
    "сейсенбі": "tuesday",
    "сәрсенбі": "wednesday",
    "бейсенбі": "thursday",
    "жұма": "friday",
    "сенбі": "saturday",
    "жексенбі": "sunday",
    # Russian: the part of the day after an hour ("в 6 вечера")
    "утра": "am",
    "вечера": "pm",
    # Lithuanian
    "poryt": "day after tomorrow",
    "kitą": "next",
    "pirmadienį": "monday",
    "antradienį": "tuesday",
    "trečiadienį": "wednesday",
    "ketvirtadienį": "thursday",
    "penktadienį": "friday",
    "šeštadienį": "saturday",
    "sekmadienį": "sunday",
}
_WORD = re.compile(r"\b(" + "|".join(map(re.escape, _WORDS)) + r")\b", re.IGNORECASE)
# Words after which a lone number is an hour: prepositions and days.
_HOUR_AFTER = (
    r"в|во|at|сағат|val\.?|valandą|"
    r"сегодня|завтра|послезавтра|today|tomorrow|šiandien|rytoj|poryt"
)
_BARE_HOUR = re.compile(
    rf"\b({_HOUR_AFTER})\s+([01]?\d|2[0-3])(?![\d:.])(\s*(h|ч|val\.?)(?!\w))?", re.IGNORECASE
)
_PREPOSITION = re.compile(r"\b(в|во|at|сағат|val\.?|valandą)\s+(?=\d{1,2}:\d{2})", re.IGNORECASE)
_A_TIME = re.compile(r"\d")
# A time of day alone ("10:00"): today at that time in the zone. dateparser, asked to prefer
# the future, moves it to tomorrow in some zones and not in others (it weighs it against a
# clock other than RELATIVE_BASE), so it is read here.
_TIME_OF_DAY = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")
# A time of day no clock shows ("25:00", "18:75", "в 25"): dateparser drops it silently and
# keeps the current time of day, so it is refused before it gets there.
_CLOCK = re.compile(r"(?<![\d:])(\d{1,2}):(\d{2})(?![\d:])")
_HOUR_WORD = re.compile(rf"\b({_HOUR_AFTER})\s+(\d{{1,2}})(?![\d:.])", re.IGNORECASE)


def _impossible_time(text: str) -> bool:
    clocks = [(int(h), int(m)) for h, m in _CLOCK.findall(text)]
    hours = [int(m.group(2)) for m in _HOUR_WORD.finditer(text)]
    return any(h > 23 or m > 59 for h, m in clocks) or any(h > 23 for h in hours)


def normalise(text: str) -> str:
    """`text` with the words dateparser misses put into English and bare hours made HH:00."""
    value = " ".join(text.split())
    value = _WORD.sub(lambda m: _WORDS[m.group(1).lower()], value)
    value = _BARE_HOUR.sub(lambda m: f"{m.group(1)} {int(m.group(2))}:00", value)
    return _PREPOSITION.sub("", value)


def _read(text: str, tz: ZoneInfo, local_now: datetime) -> datetime | None:
    """What dateparser makes of `text` (None when nothing), future dates preferred."""
    return dateparser.parse(
        normalise(text),
        languages=LANGUAGES,
        settings={
            "PREFER_DATES_FROM": "future",
            "TIMEZONE": tz.key,
            "RETURN_AS_TIMEZONE_AWARE": True,
            "RELATIVE_BASE": local_now,
            "DATE_ORDER": "DMY",
        },
    )


def unreadable(text: str, *, next_slot: bool = False) -> InvalidInput:
    """The refusal of a time that cannot be read, naming every form that can (with next-slot
    where the channels' next free slot is accepted)."""
    if next_slot:
        return InvalidInput(
            "cannot read the time {text!r}: write now, tomorrow 10:00, friday 18:30, "
            "2026-12-01 10:00 (local time), 2026-12-01T10:00+05:00 or next-slot "
            "(the channels' next free posting time)",
            text=text.strip(),
        )
    return InvalidInput(
        "cannot read the time {text!r}: write now, tomorrow 10:00, friday 18:30, "
        "2026-12-01 10:00 (local time) or 2026-12-01T10:00+05:00",
        text=text.strip(),
    )


def parse_natural_time(
    text: str, tz: ZoneInfo, now: datetime, *, next_slot: bool = False
) -> datetime:
    """The moment `text` names, as aware UTC; InvalidInput if it cannot be read or is past.

    "now" in any of the four languages is `now`; ISO and `YYYY-MM-DD HH:MM` go to
    `parse_when`; anything else to dateparser, with dates in the future preferred ("friday" is
    the coming one). `next_slot` only changes the refusal: it names next-slot too.
    """
    if " ".join(text.split()).lower() in NOW_WORDS:
        return now.astimezone(UTC)
    if _ISO_LIKE.match(text):
        try:
            return parse_when(text, tz, now)
        except InvalidInput as err:
            if err.template.startswith("cannot read the time"):
                raise unreadable(text, next_slot=next_slot) from None
            raise
    local_now = now.astimezone(tz).replace(tzinfo=None)
    if not _A_TIME.search(text):
        if _read(text, tz, local_now) is None:
            raise unreadable(text, next_slot=next_slot)
        # "tomorrow" alone: dateparser would keep the current time of day, which nobody means.
        raise InvalidInput(
            "{text!r} has no time of day: add one, e.g. tomorrow 10:00", text=text.strip()
        )
    time_of_day = _TIME_OF_DAY.match(text)
    if time_of_day:
        hour, minute = int(time_of_day[1]), int(time_of_day[2])
        today = local_now.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return parse_when(today.strftime("%Y-%m-%d %H:%M"), tz, now)
    parsed = None if _impossible_time(text) else _read(text, tz, local_now)
    if parsed is None:
        raise unreadable(text, next_slot=next_slot)
    result = parsed.astimezone(UTC)
    # A minute of slack, as in parse_when: "10:00" typed at 10:00:30 still means now.
    if result < now - timedelta(minutes=1):
        raise InvalidInput(
            "{time} is in the past: choose a later time",
            time=LocalMoment(result.astimezone(tz), now),
        )
    return result
