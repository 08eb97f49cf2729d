"""/event, /events, moving and cancelling events, and "Remind me": through the real PTB
Application, with the real engine publishing to the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from content.domain.states import EventStatus, PublicationKind, PublicationState
from content.queueing.scheduling import NewEvent, add_event
from content.storage.models import Event, EventSubscription, Publication
from content.storage.registry import add_staff
from sandbox.runner import SandboxThread
from scheduler.clock import ManualClock
from tests.bot.conftest import ADMIN, EDITOR, MANAGER, STRANGER, Library
from tests.bot.harness import BotHarness
from tests.bot.world import (
    START,
    build_engine,
    callback_answer,
    channel_chat,
    channel_id,
    manual_clock,
    organization,
    press,
    remind_followers_now,
    send_document,
    set_user_language,
    texts,
)
from tests.support.images import make_image

ENGLISH = 500000031
# The answers of the whole conversation, step by step (the image step gets a photo).
ANSWERS = [
    ("title", "Poetry night"),
    ("when", "2026-12-10 18:00"),
    ("place", "Reading room"),
    ("about", "Poems read aloud by their authors."),
    ("image", "-"),
    ("link", "https://library.example/register"),
    ("reminders", "7d,1d,2h"),
    ("announce", "now"),
]
STEPS = [name for name, _ in ANSWERS]


@pytest.fixture
def clock(library: Library) -> ManualClock:
    return manual_clock(library)


@pytest.fixture
def english_editor(library: Library) -> int:
    with library.sessions.begin() as session:
        add_staff(session, organization(session), ENGLISH, "Emma", "editor", "en", "test")
    return ENGLISH


async def answer_until(bot: BotHarness, user: int, step: str) -> list[dict[str, object]]:
    """Start /event and answer every step before `step`; returns the last replies."""
    replies = await bot.send(user, "/event")
    for name, answer in ANSWERS:
        if name == step:
            break
        replies = await bot.send(user, answer)
    return replies


def events(library: Library) -> list[Event]:
    with library.sessions() as session:
        return list(session.scalars(select(Event)))


def publications(library: Library) -> list[Publication]:
    with library.sessions() as session:
        return list(session.scalars(select(Publication).order_by(Publication.due_at)))


def local(text: str) -> datetime:
    """A wall-clock time in Almaty as aware UTC."""
    return datetime.fromisoformat(text + "+05:00").astimezone(UTC)


def quick_event(
    library: Library, clock: ManualClock, starts: str, *, announce_in: float = 0
) -> int:
    with library.sessions.begin() as session:
        event = add_event(
            session,
            organization(session),
            NewEvent(
                title="Poetry night",
                starts_at=local(starts),
                channels=["news"],
                announce_at=clock.now() + timedelta(minutes=announce_in),
                reminder_offsets=[10080, 1440, 120],
                place="Reading room",
            ),
            library.services.media_dir,
            clock.now(),
            "test",
        )
        return event.id


# --- /event ------------------------------------------------------------------------------------


async def test_event_creates_the_announcement_and_its_reminders(
    bot: BotHarness, library: Library, clock: ManualClock, english_editor: int, tmp_path: Path
) -> None:
    replies = await answer_until(bot, ENGLISH, "image")
    assert "poster" in texts(replies)
    poster = make_image(tmp_path / "poster.jpg").read_bytes()
    replies = await bot.send_photo(ENGLISH, poster)
    assert "registration link" in texts(replies)
    for answer in ("https://library.example/register", "7d,1d,2h"):
        replies = await bot.send(ENGLISH, answer)
    (summary,) = await bot.send(ENGLISH, "now")

    text = str(summary["text"])
    assert "Poetry night" in text
    assert "Reading room" in text
    assert "10 December, Thursday, 18:00" in text  # the start, in Almaty time
    assert "7d — 3 December, Thursday, 18:00" in text
    assert "1d — 9 December, Wednesday, 18:00" in text
    assert "2h — 10 December, Thursday, 16:00" in text
    news, fb = channel_id(library, "news"), channel_id(library, "fb")
    assert BotHarness.buttons(summary) == [f"evt:ch:{fb}", f"evt:ch:{news}", "evt:ok", "evt:no"]

    (edited,) = await bot.press(ENGLISH, f"evt:ch:{fb}")  # announce on the Telegram channel only
    assert "Channels: news" in str(edited["text"])
    done = await press(bot, ENGLISH, "evt:ok")
    assert "Scheduled event" in str(done["text"])
    assert "3 reminder(s)" in str(done["text"])

    (event,) = events(library)
    assert event.image_id is not None
    assert event.registration_url == "https://library.example/register"
    series = [(p.kind, p.offset_minutes, p.due_at, p.channel_id) for p in publications(library)]
    assert series == [
        (PublicationKind.ANNOUNCEMENT, None, START, news),
        (PublicationKind.REMINDER, 10080, local("2026-12-03T18:00"), news),
        (PublicationKind.REMINDER, 1440, local("2026-12-09T18:00"), news),
        (PublicationKind.REMINDER, 120, local("2026-12-10T16:00"), news),
    ]


@pytest.mark.parametrize(
    ("user", "expected"),
    [
        (ENGLISH, "What is it called?"),
        (ADMIN, "Как оно называется?"),
        (MANAGER, "Оның атауы қандай?"),
        (EDITOR, "Kaip jis vadinasi?"),
    ],
)
async def test_event_speaks_each_staff_members_language(
    bot: BotHarness, english_editor: int, user: int, expected: str
) -> None:
    (reply,) = await bot.send(user, "/event")
    assert expected in str(reply["text"])


async def test_the_summary_and_dates_read_in_the_staff_language(
    bot: BotHarness, library: Library, clock: ManualClock
) -> None:
    await answer_until(bot, ADMIN, "announce")
    (summary,) = await bot.send(ADMIN, "now")
    assert "10 декабря, четверг, 18:00" in str(summary["text"])
    assert "Напоминания:" in str(summary["text"])


BAD_INPUT = [
    ("title", "photo", "text"),
    ("when", "next thursday-ish 18:00", "cannot read the time"),
    ("when", "next thursday", "has no time of day"),
    ("when", "2026-11-20 18:00", "in the past"),
    ("when", "now", "in the past"),
    ("place", "x" * 301, "301 characters"),
    ("image", "a poster, please", "not an image"),
    ("image", "document", "report.pdf is not an image"),
    ("link", "library dot example", "not a web link"),
    ("reminders", "7x", "cannot read the reminder offset"),
    ("reminders", "1d,99999w", "at most 365 days (365d) before the event"),
    ("announce", "2026-12-11 10:00", "before the event starts"),
    ("announce", "soon", "cannot read the time"),
]


@pytest.mark.parametrize(("step", "answer", "complaint"), BAD_INPUT)
async def test_bad_input_is_explained_and_the_step_asked_again(
    bot: BotHarness,
    library: Library,
    clock: ManualClock,
    english_editor: int,
    tmp_path: Path,
    step: str,
    answer: str,
    complaint: str,
) -> None:
    await answer_until(bot, ENGLISH, step)
    if answer == "photo":
        replies = await bot.send_photo(ENGLISH, make_image(tmp_path / "p.jpg").read_bytes())
    elif answer == "document":
        replies = await send_document(
            bot, ENGLISH, b"%PDF-1.4 not an image", "report.pdf", "application/pdf"
        )
    else:
        replies = await bot.send(ENGLISH, answer)
    (reply,) = replies
    assert complaint in str(reply["text"])
    assert "/cancel" in str(reply["text"])
    # The conversation waits at the same step: the right answer moves it on.
    right = dict(ANSWERS)[step]
    replies = await bot.send(ENGLISH, right)
    following = STEPS.index(step) + 1
    if following < len(STEPS):
        assert replies
        assert "/cancel" not in texts(replies)
    else:
        assert "Please check the event" in texts(replies)


async def test_unknown_command_inside_the_conversation_is_answered(
    bot: BotHarness, clock: ManualClock, english_editor: int
) -> None:
    await answer_until(bot, ENGLISH, "place")
    (reply,) = await bot.send(ENGLISH, "/frobnicate")
    assert "/frobnicate" in str(reply["text"])


@pytest.mark.parametrize("step", [*STEPS, "confirm"])
async def test_cancel_works_at_every_step(
    bot: BotHarness, library: Library, clock: ManualClock, english_editor: int, step: str
) -> None:
    if step == "confirm":
        await answer_until(bot, ENGLISH, "announce")
        await bot.send(ENGLISH, "now")
    else:
        await answer_until(bot, ENGLISH, step)
    (reply,) = await bot.send(ENGLISH, "/cancel")
    assert reply["text"] == "Cancelled. Nothing was saved."
    (reply,) = await bot.send(ENGLISH, "/cancel")
    assert reply["text"] == "There is nothing to cancel."
    assert events(library) == []


async def test_the_cancel_button_of_the_summary_saves_nothing(
    bot: BotHarness, library: Library, clock: ManualClock, english_editor: int
) -> None:
    await answer_until(bot, ENGLISH, "announce")
    await bot.send(ENGLISH, "now")
    (edited,) = await bot.press(ENGLISH, "evt:no")
    assert edited["text"] == "Cancelled. Nothing was saved."
    assert events(library) == []


async def test_scheduling_without_channels_is_refused(
    bot: BotHarness, library: Library, clock: ManualClock, english_editor: int
) -> None:
    await answer_until(bot, ENGLISH, "announce")
    await bot.send(ENGLISH, "now")
    for name in ("news", "fb"):
        await bot.press(ENGLISH, f"evt:ch:{channel_id(library, name)}")
    assert await bot.press(ENGLISH, "evt:ok") == []
    assert callback_answer(bot) == "Choose at least one channel first."
    assert events(library) == []


async def test_strangers_cannot_create_events(bot: BotHarness) -> None:
    (reply,) = await bot.send(STRANGER, "/event")
    assert str(STRANGER) in str(reply["text"])


# --- /events, moving and cancelling --------------------------------------------------------------


async def test_events_lists_upcoming_events_for_everyone(
    bot: BotHarness, library: Library, clock: ManualClock
) -> None:
    (reply,) = await bot.send(STRANGER, "/events")
    assert reply["text"] == "No events are planned yet."
    event_id = quick_event(library, clock, "2026-12-10T18:00")
    (reply,) = await bot.send(STRANGER, "/events")
    assert "Poetry night" in str(reply["text"])
    assert "10 December, Thursday, 18:00" in str(reply["text"])
    assert BotHarness.buttons(reply) == [f"remind:{event_id}"]
    (reply,) = await bot.send(EDITOR, "/events")
    assert "10 gruodžio" in str(reply["text"])  # Lithuanian dates for Egle
    assert BotHarness.buttons(reply) == [
        f"remind:{event_id}",
        f"evt:move:{event_id}",
        f"evt:cancel:{event_id}",
    ]


async def test_moving_an_event_moves_its_reminders(
    bot: BotHarness, library: Library, clock: ManualClock
) -> None:
    event_id = quick_event(library, clock, "2026-12-10T18:00", announce_in=60)
    await bot.send(EDITOR, "/events")
    (ask,) = await bot.press(EDITOR, f"evt:move:{event_id}")
    assert "2026-12-08 18:00" in str(ask["text"])  # the example says how to write the time
    (reply,) = await bot.send(EDITOR, "2026-11-30 10:00")
    assert "/cancel" in str(reply["text"])  # in the past: asked again
    (reply,) = await bot.send(EDITOR, "2026-12-12 19:00")
    assert "12 gruodžio" in str(reply["text"])
    reminders = {p.offset_minutes: p.due_at for p in publications(library) if p.offset_minutes}
    assert reminders == {
        10080: local("2026-12-05T19:00"),
        1440: local("2026-12-11T19:00"),
        120: local("2026-12-12T17:00"),
    }
    (event,) = events(library)
    assert event.starts_at == local("2026-12-12T19:00")


async def test_cancel_with_notice_withdraws_reminders_and_tells_the_channel(
    bot: BotHarness, library: Library, sandbox: SandboxThread, clock: ManualClock
) -> None:
    event_id = quick_event(library, clock, "2026-12-10T18:00")
    engine, factory = build_engine(library, sandbox, clock)
    try:
        assert await engine.publish_due() == 1  # the announcement
        await bot.send(ADMIN, "/events")
        (ask,) = await bot.press(ADMIN, f"evt:cancel:{event_id}")
        assert BotHarness.buttons(ask) == [
            f"evt:cx:{event_id}:1",
            f"evt:cx:{event_id}:0",
            "evt:keep",
        ]
        (done,) = await bot.press(ADMIN, f"evt:cx:{event_id}:1")
        assert "3" in str(done["text"])
        assert "1" in str(done["text"])
        states = {(p.kind, p.state) for p in publications(library)}
        assert states == {
            (PublicationKind.ANNOUNCEMENT, PublicationState.SENT),
            (PublicationKind.REMINDER, PublicationState.CANCELLED),
            (PublicationKind.CANCELLATION, PublicationState.SCHEDULED),
        }
        assert await engine.publish_due() == 1
        last = bot.history(channel_chat(sandbox))[-1]
        assert str(last["text"]).startswith("❌ Отменено: Poetry night")
        assert last["buttons"] == []  # no "Remind me" under a cancellation
    finally:
        await factory.close()
    (event,) = events(library)
    assert event.status is EventStatus.CANCELLED


async def test_cancel_quietly_or_keep(
    bot: BotHarness, library: Library, clock: ManualClock
) -> None:
    event_id = quick_event(library, clock, "2026-12-10T18:00")
    await bot.send(ADMIN, "/events")
    await bot.press(ADMIN, f"evt:cancel:{event_id}")
    (kept,) = await bot.press(ADMIN, "evt:keep")
    assert kept["text"] == "Ничего не изменилось."
    await bot.press(ADMIN, f"evt:cancel:{event_id}")
    await bot.press(ADMIN, f"evt:cx:{event_id}:0")
    kinds = {p.kind for p in publications(library)}
    assert PublicationKind.CANCELLATION not in kinds
    (event,) = events(library)
    assert event.status is EventStatus.CANCELLED


# --- "Remind me" ---------------------------------------------------------------------------------


async def test_remind_me_subscribes_a_follower_who_later_gets_a_private_reminder(
    bot: BotHarness, library: Library, sandbox: SandboxThread, clock: ManualClock
) -> None:
    follower = sandbox.sandbox.fixtures.follower_user_id
    channel = channel_chat(sandbox)
    event_id = quick_event(library, clock, "2026-12-10T18:00")
    engine, factory = build_engine(library, sandbox, clock)
    try:
        assert await engine.publish_due() == 1
    finally:
        await factory.close()
    post = bot.history(channel)[-1]
    assert f"remind:{event_id}" in BotHarness.buttons(post)

    set_user_language(bot, follower, "ru")
    await bot.send(follower, "/start")  # a follower who uses the bot: it may write to them
    assert await bot.press(follower, f"remind:{event_id}", chat_id=channel) == []
    assert callback_answer(bot) == (
        "Готово! Я напишу вам в личные сообщения перед началом «Poetry night»."
    )
    await bot.press(follower, f"remind:{event_id}", chat_id=channel)
    assert "уже" in callback_answer(bot)
    with library.sessions() as session:
        (subscription,) = session.scalars(select(EventSubscription)).all()
        assert (subscription.telegram_user_id, subscription.language) == (follower, "ru")

    assert await remind_followers_now(library, sandbox, clock) == 0  # not yet
    clock.set(local("2026-12-10T16:30"))
    assert await remind_followers_now(library, sandbox, clock) == 1
    reminder = bot.history(follower)[-1]
    assert str(reminder["text"]).startswith("⏰ Poetry night")
    assert "Начало через 2 часа" in str(reminder["text"])  # Babel rounds 90 minutes
    assert await remind_followers_now(library, sandbox, clock) == 0  # once


async def test_remind_me_for_a_cancelled_event_says_so(
    bot: BotHarness, library: Library, clock: ManualClock
) -> None:
    event_id = quick_event(library, clock, "2026-12-10T18:00")
    await bot.send(STRANGER, "/events")
    with library.sessions.begin() as session:
        session.get_one(Event, event_id).status = EventStatus.CANCELLED
    await bot.press(STRANGER, f"remind:{event_id}")
    assert callback_answer(bot) == "This event is over or was cancelled."
