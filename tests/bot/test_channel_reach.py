"""Through the bot, a library's staff reach only the channels of the libraries they work for:
a plan sent to the bot naming a sibling library's or an outside library's channel is refused in
the person's language, naming the channel, and nothing is written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from content.storage.models import AuditEntry, Event, Post, Publication
from tests.bot.harness import BotHarness
from tests.bot.network import VILNIUS_EDITOR, Network, bot, network
from tests.bot.world import send_document

__all__ = ["bot", "network"]  # the fixtures, used by name


def _written(network: Network) -> tuple[int, ...]:
    with network.library.sessions() as session:
        return tuple(
            int(session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Post, Event, Publication, AuditEntry)
        )


@pytest.mark.parametrize("channel", ["almaty-news", "city-news", "region-news"])
async def test_a_plan_naming_a_channel_out_of_reach_is_refused(
    bot: BotHarness, network: Network, channel: str
) -> None:
    plan = (
        "date,time,channels,text,kind\n"
        "2026-12-09,10:00,vilnius-news,Vilnius quiz,post\n"
        f"2026-12-10,10:00,{channel},Someone else's quiz,post\n"
    ).encode()
    await bot.send(VILNIUS_EDITOR, "/start")
    before = _written(network)
    replies = await send_document(bot, VILNIUS_EDITOR, plan, "plan.csv", "text/csv")
    text = "\n".join(r["text"] for r in replies)
    # In Lithuanian, the editor's language; only the library's own channel offered.
    assert f"Nežinomas kanalas '{channel}' (žinomi kanalai: vilnius-news)" in text
    assert _written(network) == before
