"""Texts of event announcements, reminders, moves and cancellations in the reader's language."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

from babel.dates import format_datetime, format_timedelta

from content.domain.languages import LANGUAGES


@dataclass(frozen=True)
class EventFacts:
    title: str
    starts_at: datetime
    place: str | None
    description: str | None
    registration_url: str | None


_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "reminder": "Reminder",
        "place": "Place",
        "register": "Registration",
        "cancelled": "Cancelled",
        "cancel_note": "We are sorry for the change of plans.",
        "remind_me": "Remind me",
        "follower": "Starts {relative}",
        "moved": "New date",
        "moved_note": "The event has moved; we look forward to seeing you.",
        "follower_moved": "has moved",
        "follower_cancelled": "is cancelled",
    },
    "ru": {
        "reminder": "Напоминание",
        "place": "Место",
        "register": "Регистрация",
        "cancelled": "Отменено",
        "cancel_note": "Приносим извинения за изменение планов.",
        "remind_me": "Напомнить мне",
        "follower": "Начало {relative}",
        "moved": "Новая дата",
        "moved_note": "Мероприятие перенесено; ждём вас.",
        "follower_moved": "перенесено",
        "follower_cancelled": "отменено",
    },
    "kk": {
        "reminder": "Еске салу",
        "place": "Орны",
        "register": "Тіркелу",
        "cancelled": "Болмайды",
        "cancel_note": "Жоспардың өзгергені үшін кешірім сұраймыз.",
        "remind_me": "Маған еске сал",
        "follower": "Басталуы: {relative}",
        "moved": "Жаңа күні",
        "moved_note": "Іс-шара басқа уақытқа ауыстырылды; сізді күтеміз.",
        "follower_moved": "басқа уақытқа ауыстырылды",
        "follower_cancelled": "болмайды",
    },
    "lt": {
        "reminder": "Priminimas",
        "place": "Vieta",
        "register": "Registracija",
        "cancelled": "Atšaukta",
        "cancel_note": "Atsiprašome dėl pasikeitusių planų.",
        "remind_me": "Priminti man",
        "follower": "Prasideda {relative}",
        "moved": "Nauja data",
        "moved_note": "Renginys perkeltas; laukiame jūsų.",
        "follower_moved": "perkeltas",
        "follower_cancelled": "atšauktas",
    },
}
assert set(_WORDS) == set(LANGUAGES)


def word(language: str, key: str) -> str:
    return _WORDS.get(language, _WORDS["en"])[key]


def local_time(moment: datetime, tz: tzinfo, language: str, now: datetime | None = None) -> str:
    """A moment as people read it, in the organisation's zone `tz` and the reader's language:
    `5 декабря, суббота, 18:00`, with the year (`5 декабря 2027, ...`) when it is not the
    year of `now`. Staff's messages give `now`; a post's own text does not (it is read when
    it goes out, about its coming days)."""
    same_year = now is None or moment.astimezone(tz).year == now.astimezone(tz).year
    pattern = "d MMMM, EEEE, HH:mm" if same_year else "d MMMM y, EEEE, HH:mm"
    return format_datetime(moment, pattern, tzinfo=tz, locale=language)


def relative(offset_minutes: int, language: str) -> str:
    """`in 2 hours`, `через 7 дней`, `2 сағаттан кейін`, `po 2 valandų`."""
    return format_timedelta(timedelta(minutes=offset_minutes), locale=language, add_direction=True)


def _lines(event: EventFacts, tz: ZoneInfo, language: str) -> list[str]:
    lines = [f"🕒 {local_time(event.starts_at, tz, language)}"]
    if event.place:
        lines.append(f"📍 {word(language, 'place')}: {event.place}")
    return lines


def announcement_text(event: EventFacts, tz: ZoneInfo, language: str) -> str:
    parts = [f"📅 {event.title}", *_lines(event, tz, language)]
    if event.description:
        parts += ["", event.description]
    if event.registration_url:
        parts += ["", f"{word(language, 'register')}: {event.registration_url}"]
    return "\n".join(parts)


def reminder_text(event: EventFacts, offset_minutes: int, tz: ZoneInfo, language: str) -> str:
    head = f"⏰ {word(language, 'reminder')}: {event.title} — {relative(offset_minutes, language)}"
    parts = [head, *_lines(event, tz, language)]
    if event.registration_url:
        parts.append(f"{word(language, 'register')}: {event.registration_url}")
    return "\n".join(parts)


def cancellation_text(event: EventFacts, tz: ZoneInfo, language: str) -> str:
    return "\n".join(
        [
            f"❌ {word(language, 'cancelled')}: {event.title}",
            f"🕒 {local_time(event.starts_at, tz, language)}",
            word(language, "cancel_note"),
        ]
    )


def moved_text(event: EventFacts, tz: ZoneInfo, language: str) -> str:
    """The notice of an announced event's new date (and place), for the channels."""
    parts = [f"🔁 {word(language, 'moved')}: {event.title}", *_lines(event, tz, language)]
    parts += ["", word(language, "moved_note")]
    return "\n".join(parts)


def follower_news_text(event: EventFacts, news: str, tz: ZoneInfo, language: str) -> str:
    """A private message to a follower who asked to be reminded: the event moved, or is off."""
    if news == "cancelled":
        head = f"❌ {event.title}: {word(language, 'follower_cancelled')}"
        return "\n".join([head, *_lines(event, tz, language), word(language, "cancel_note")])
    head = f"🔁 {event.title}: {word(language, 'follower_moved')}"
    return "\n".join([head, *_lines(event, tz, language)])


def follower_reminder_text(event: EventFacts, now: datetime, tz: ZoneInfo, language: str) -> str:
    minutes = max(1, int((event.starts_at - now).total_seconds() // 60))
    follower = word(language, "follower").format(relative=relative(minutes, language))
    return "\n".join([f"⏰ {event.title}", follower, *_lines(event, tz, language)])
