"""/event reads times as /new does ("пятница 18:30", "ертең 10:00", "dabar") with /new's time
buttons, each library's in its own zone and language; and an event without a poster does not
tick Instagram, the refusal saying what to do in the person's language."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.flows.events import NO_POSTER, Confirm, EventTime, ToggleChannel
from content.domain.states import Platform, PublicationKind
from content.i18n import translate
from content.storage.models import Event, Organization
from content.storage.registry import add_channel
from sandbox.runner import SandboxThread
from tests.bot.harness import BotHarness
from tests.bot.network import (
    ALMATY,
    ALMATY_EDITOR,
    CITY,
    OUTSIDER,
    VILNIUS,
    VILNIUS_EDITOR,
    Network,
    bot,
    network,
)
from tests.bot.posting import jpeg

__all__ = ["bot", "network"]  # the fixtures, used by name

# START (tests.bot.posting) is Tuesday 2026-12-01 04:00 UTC: 09:00 in Almaty, 06:00 in Vilnius.
PEOPLE = {
    "kk": (ALMATY_EDITOR, ALMATY, "+05:00"),
    "ru": (OUTSIDER, CITY, "+05:00"),
    "lt": (VILNIUS_EDITOR, VILNIUS, "+02:00"),
}


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in message.get("buttons") or [] for b in row]


def data_of(message: dict[str, Any]) -> list[str]:
    return BotHarness.buttons(message)


async def up_to_start(bot: BotHarness, user: int) -> dict[str, Any]:
    """/event and a title; returns the start question."""
    await bot.send(user, "/event")
    (question,) = await bot.send(user, "Поэзия кеші")
    return question


async def up_to_announcement(bot: BotHarness, user: int) -> dict[str, Any]:
    """From the place to the reminders, each skipped; returns the announcement question."""
    for _ in ("place", "about", "image", "link"):
        await bot.send(user, "-")
    (question,) = await bot.send(user, "-")
    return question


def the_event(network: Network, org: str) -> Event:
    with network.library.sessions() as session:
        event = session.scalars(select(Event).where(Event.organization_id == network.orgs[org]))
        found = event.one()
        found.publications  # noqa: B018 - loaded while the session is open
        return found


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(
    ("language", "start", "now_word", "expected"),
    [
        ("kk", "ертең 10:00", "қазір", "2026-12-02T10:00+05:00"),
        ("ru", "в пятницу в 18:30", "сейчас", "2026-12-04T18:30+05:00"),
        ("lt", "penktadienį 18:30", "dabar", "2026-12-04T18:30+02:00"),
    ],
)
async def test_event_times_are_typed_in_the_persons_words_and_read_in_the_librarys_zone(
    bot: BotHarness, network: Network, language: str, start: str, now_word: str, expected: str
) -> None:
    user, org, _offset = PEOPLE[language]
    question = await up_to_start(bot, user)
    # The prompt's examples are in the person's language, and /new's buttons are under it
    # (no "now" for a start).
    assert "friday" not in question["text"]
    assert "tomorrow" not in question["text"]
    assert data_of(question) == ["evt:t:today", "evt:t:tomorrow", "evt:t:pick"]
    assert translate(language, "Tomorrow 10:00") in labels(question)
    await bot.send(user, start)
    announce = await up_to_announcement(bot, user)
    assert "evt:t:now" in data_of(announce)
    assert f"«{now_word}»" in announce["text"] or f"„{now_word}“" in announce["text"]
    (summary,) = await bot.send(user, now_word)
    assert "evt:ok" in data_of(summary)
    await bot.press(user, Confirm("ok").pack())
    event = the_event(network, org)
    assert event.starts_at.astimezone(UTC) == at(expected)
    (announcement,) = [p for p in event.publications if p.kind is PublicationKind.ANNOUNCEMENT]
    assert announcement.due_at.astimezone(UTC) == network.clock.now()


async def test_the_time_buttons_name_each_librarys_own_tomorrow_and_now(
    bot: BotHarness, network: Network
) -> None:
    for user, org, offset in (PEOPLE["kk"], PEOPLE["lt"]):
        await up_to_start(bot, user)
        (place,) = await bot.press(user, EventTime("tomorrow").pack())
        assert not place.get("buttons")  # on to the place
        await up_to_announcement(bot, user)
        (summary,) = await bot.press(user, EventTime("now").pack())
        await bot.press(user, Confirm("ok").pack())
        event = the_event(network, org)
        assert event.starts_at.astimezone(UTC) == at(f"2026-12-02T10:00{offset}")


@pytest.mark.parametrize(
    ("language", "typed", "forms"),
    [
        ("ru", "когда-нибудь в 18:30", ("«сейчас»", "«завтра 10:00»", "«пятница 18:30»")),
        ("kk", "бір күні 18:30", ("«қазір»", "«ертең 10:00»", "«жұма 18:30»")),
    ],
)
async def test_an_unreadable_start_names_every_form_in_the_persons_language(
    bot: BotHarness, network: Network, language: str, typed: str, forms: tuple[str, ...]
) -> None:
    user, _org, _offset = PEOPLE[language]
    await up_to_start(bot, user)
    (refusal,) = await bot.send(user, typed)
    for form in forms:
        assert form in refusal["text"]
    assert "now" not in refusal["text"]
    assert "tomorrow" not in refusal["text"]
    (place,) = await bot.send(user, "ертең 10:00" if language == "kk" else "завтра 10:00")
    assert (
        translate(language, "Where does it take place? Send the place, or - to skip.")
        in (place["text"])
    )


def add_instagram(network: Network, sandbox: SandboxThread, org: str, name: str) -> int:
    account = sandbox.sandbox.fixtures.instagram[0]
    with network.library.sessions.begin() as session:
        channel = add_channel(
            session,
            session.get_one(Organization, network.orgs[org]),
            network.library.cipher,
            name=name,
            platform=Platform.INSTAGRAM,
            external_id=account.id,
            token=account.access_token,
            language=None,
            actor="test",
            linked_page_id=account.page_id,
        )
        return channel.id


async def test_instagram_is_ticked_only_for_an_event_with_a_poster(
    bot: BotHarness, network: Network, sandbox: SandboxThread
) -> None:
    almaty_ig = add_instagram(network, sandbox, ALMATY, "almaty-ig")
    city_ig = add_instagram(network, sandbox, CITY, "city-ig")
    # Almaty (kk), without a poster: its Telegram channel is ticked, Instagram is not.
    await up_to_start(bot, ALMATY_EDITOR)
    await bot.send(ALMATY_EDITOR, "ертең 10:00")
    await up_to_announcement(bot, ALMATY_EDITOR)
    (summary,) = await bot.send(ALMATY_EDITOR, "қазір")
    assert "▫️ almaty-ig" in labels(summary)
    assert "✅ almaty-news" in labels(summary)
    replies = await bot.press(ALMATY_EDITOR, ToggleChannel(almaty_ig).pack())
    refusal = "\n".join(m["text"] for m in replies)
    assert translate("kk", NO_POSTER, channel="almaty-ig") in refusal
    assert "Instagram үшін кемінде бір сурет керек" in refusal
    assert "needs" not in refusal
    # City (ru), with a poster: Instagram is ticked too.
    await up_to_start(bot, OUTSIDER)
    await bot.send(OUTSIDER, "завтра 10:00")
    await bot.send(OUTSIDER, "-")
    await bot.send(OUTSIDER, "-")
    await bot.send_photo(OUTSIDER, jpeg((1080, 1080)))
    await bot.send(OUTSIDER, "-")
    (announce,) = await bot.send(OUTSIDER, "-")
    assert "evt:t:now" in data_of(announce)
    (summary,) = await bot.send(OUTSIDER, "сейчас")
    assert "✅ city-ig" in labels(summary)
    assert "✅ city-news" in labels(summary)
    assert ToggleChannel(city_ig).pack() in data_of(summary)
