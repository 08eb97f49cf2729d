""" "Remind me" from people the bot may not write to yet, and from people who blocked it: the
button opens the bot (t.me/<bot>?start=remind-<id>), /start remind-<id> puts them on the list,
and a block is remembered. Through the real PTB Application and the sandbox's Bot API, which
answers 403 as Telegram does."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from content.domain.states import EventStatus
from content.queueing.scheduling import NewEvent, add_event
from content.storage.models import Event, EventSubscription, Follower
from sandbox.runner import SandboxThread
from scheduler.clock import ManualClock
from tests.bot.conftest import Library
from tests.bot.harness import BotHarness
from tests.bot.world import (
    build_engine,
    channel_chat,
    manual_clock,
    organization,
    remind_followers_now,
    set_user_language,
)

NEWCOMER = 500000077  # has never written to the bot
SECOND = 500000078


@pytest.fixture
def clock(library: Library) -> ManualClock:
    return manual_clock(library)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text + "+05:00").astimezone(UTC)


def an_event(library: Library, clock: ManualClock, starts: str = "2026-12-10T18:00") -> int:
    with library.sessions.begin() as session:
        event = add_event(
            session,
            organization(session),
            NewEvent(
                title="Poetry night",
                starts_at=local(starts),
                channels=["news"],
                announce_at=clock.now(),
                reminder_offsets=[120],
                place="Reading room",
            ),
            library.services.media_dir,
            clock.now(),
            "test",
        )
        return event.id


async def announce(library: Library, sandbox: SandboxThread, clock: ManualClock) -> None:
    engine, factory = build_engine(library, sandbox, clock)
    try:
        assert await engine.publish_due() >= 1
    finally:
        await factory.close()


def answer(bot: BotHarness) -> dict[str, object]:
    queries = bot.server.call(lambda: list(bot.state.callback_queries.values()))
    assert queries[-1].answered
    return dict(queries[-1].answer)


def subscriptions(library: Library) -> list[tuple[int, int, str | None]]:
    with library.sessions() as session:
        rows = session.scalars(select(EventSubscription).order_by(EventSubscription.id))
        return [(s.event_id, s.telegram_user_id, s.language) for s in rows]


async def test_a_newcomer_is_sent_to_the_bot_and_start_puts_them_on_the_list(
    bot: BotHarness, library: Library, sandbox: SandboxThread, clock: ManualClock
) -> None:
    event_id = an_event(library, clock)
    await announce(library, sandbox, clock)
    channel = channel_chat(sandbox)
    username = sandbox.sandbox.fixtures.bot_username
    set_user_language(bot, NEWCOMER, "ru")
    set_user_language(bot, SECOND, "lt")

    for person in (NEWCOMER, SECOND):
        assert await bot.press(person, f"remind:{event_id}", chat_id=channel) == []
        given = answer(bot)
        # Telegram would refuse a private message to them: no promise, a link to the bot.
        assert given["url"] == f"https://t.me/{username}?start=remind-{event_id}"
        assert "Готово" not in str(given["text"])
    assert subscriptions(library) == []

    # Their client opens the bot with the parameter: /start remind-<id>.
    (reply,) = await bot.send(NEWCOMER, f"/start remind-{event_id}")
    assert reply["text"] == "Готово! Я напишу вам в личные сообщения перед началом «Poetry night»."
    (reply,) = await bot.send(SECOND, f"/start remind-{event_id}")
    assert "Poetry night" in str(reply["text"])
    assert "Готово" not in str(reply["text"])
    assert subscriptions(library) == [(event_id, NEWCOMER, "ru"), (event_id, SECOND, "lt")]
    (again,) = await bot.send(NEWCOMER, f"/start remind-{event_id}")
    assert "уже" in str(again["text"])  # once on the list
    assert len(subscriptions(library)) == 2

    # Now that they started the bot, the button itself does it (no link).
    other = an_event(library, clock, "2026-12-11T18:00")
    await announce(library, sandbox, clock)
    await bot.press(NEWCOMER, f"remind:{other}", chat_id=channel)
    assert answer(bot)["url"] is None
    assert (other, NEWCOMER, "ru") in subscriptions(library)

    clock.set(local("2026-12-10T16:30"))
    assert await remind_followers_now(library, sandbox, clock) == 2
    assert str(bot.history(NEWCOMER)[-1]["text"]).startswith("⏰ Poetry night")


async def test_a_follower_who_blocks_the_bot_is_marked_and_not_retried(
    bot: BotHarness, library: Library, sandbox: SandboxThread, clock: ManualClock
) -> None:
    event_id = an_event(library, clock)
    later = an_event(library, clock, "2026-12-12T18:00")
    await bot.send(NEWCOMER, f"/start remind-{event_id}")
    await bot.send(NEWCOMER, f"/start remind-{later}")
    await bot.send(SECOND, f"/start remind-{event_id}")
    bot.server.call(lambda: bot.state.block_bot(NEWCOMER))

    clock.set(local("2026-12-10T16:30"))
    before = len(bot.history(NEWCOMER))
    assert await remind_followers_now(library, sandbox, clock) == 1  # SECOND only
    assert len(bot.history(NEWCOMER)) == before
    with library.sessions() as session:
        follower = session.get_one(Follower, NEWCOMER)
        assert follower.blocked_at is not None
        assert session.get_one(Follower, SECOND).blocked_at is None
    assert await remind_followers_now(library, sandbox, clock) == 0  # not retried

    # Pressing the button again sends them to the bot; writing to it lifts the mark.
    channel = channel_chat(sandbox)
    other = an_event(library, clock, "2026-12-11T18:00")
    await announce(library, sandbox, clock)
    await bot.press(NEWCOMER, f"remind:{other}", chat_id=channel)
    assert str(answer(bot)["url"]).endswith(f"?start=remind-{other}")
    await bot.send(NEWCOMER, "/start")
    with library.sessions() as session:
        assert session.get_one(Follower, NEWCOMER).blocked_at is None


@pytest.mark.parametrize(
    "parameter",
    [
        "remind-999999",  # no such event
        "remind-99999999999999999999999",  # past 64 bits
        "remind-١٢",  # Arabic-Indic digits
        "remind-１",  # full-width
        "remind-",
        "remind--1",
    ],
)
async def test_a_start_parameter_for_no_event_is_refused_and_writes_nothing(
    bot: BotHarness, library: Library, clock: ManualClock, parameter: str
) -> None:
    an_event(library, clock)
    set_user_language(bot, NEWCOMER, "lt")
    (reply,) = await bot.send(NEWCOMER, f"/start {parameter}")
    assert "Poetry night" not in str(reply["text"])
    assert str(reply["text"]) != "This event is over or was cancelled."  # in Lithuanian
    assert subscriptions(library) == []


@pytest.mark.parametrize("status", ["cancelled", "past"])
async def test_a_start_parameter_for_a_cancelled_or_past_event_says_so(
    bot: BotHarness, library: Library, clock: ManualClock, status: str
) -> None:
    event_id = an_event(library, clock)
    if status == "cancelled":
        with library.sessions.begin() as session:
            session.get_one(Event, event_id).status = EventStatus.CANCELLED
    else:
        clock.set(local("2026-12-10T18:00") + timedelta(minutes=1))
    (reply,) = await bot.send(NEWCOMER, f"/start remind-{event_id}")
    assert reply["text"] == "This event is over or was cancelled."
    assert subscriptions(library) == []
