"""Demand before an event: staff's /events says how many followers asked to be reminded of each
of their library's events, in the staff member's language; followers see no counts. Two
libraries of a network, through the real PTB Application and the sandbox."""

from __future__ import annotations

from content.i18n import translate
from content.storage.models import EventSubscription
from tests.bot.harness import BotHarness
from tests.bot.network import (
    ALMATY,
    ALMATY_EDITOR,
    VILNIUS,
    VILNIUS_EDITOR,
    Network,
    bot,
    network,
)

__all__ = ["bot", "network"]  # the fixtures

ASKED = "Asked to be reminded: {count}"


def ask(network: Network, event_id: int, *followers: int) -> None:
    with network.library.sessions.begin() as session:
        for follower in followers:
            session.add(EventSubscription(event_id=event_id, telegram_user_id=follower))


def block_of(text: str, title: str) -> str:
    """The lines /events shows for the event titled `title`."""
    (block,) = [b for b in text.split("\n\n") if title in b]
    return block


async def test_staff_see_the_demand_of_their_own_librarys_events(
    bot: BotHarness, network: Network
) -> None:
    chess = network.event(VILNIUS, "Vilnius chess evening", "vilnius-news")
    network.event(VILNIUS, "Vilnius quiet reading", "vilnius-news")
    poetry = network.event(ALMATY, "Almaty poetry night", "almaty-news")
    ask(network, chess, 700000001, 700000002, 700000003)
    ask(network, poetry, 700000004)

    (lithuanian,) = await bot.send(VILNIUS_EDITOR, "/events")
    text = lithuanian["text"]
    assert translate("lt", ASKED, count=3) in block_of(text, "Vilnius chess evening")
    assert translate("lt", ASKED, count=0) in block_of(text, "Vilnius quiet reading")
    assert "Almaty poetry night" not in text
    assert translate("lt", ASKED, count=3) != ASKED.format(count=3)  # really translated

    (kazakh,) = await bot.send(ALMATY_EDITOR, "/events")
    assert translate("kk", ASKED, count=1) in block_of(kazakh["text"], "Almaty poetry night")
    assert "Vilnius" not in kazakh["text"]

    (follower,) = await bot.send(700000009, "/events")
    assert "🔔 " + translate("en", ASKED, count=3) not in follower["text"]
    assert "Almaty poetry night" in follower["text"]
