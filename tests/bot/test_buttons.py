"""Button data that is not one of ours (an old version's, a garbled or a forged one) gets the one
stale-button reply in the person's language, and changes nothing."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any, get_args

import pytest
from sqlalchemy import select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.flows import build_router
from bot.router import STALE_BUTTON
from content.domain.callback_data import field_types
from content.i18n import translate
from content.queueing.scheduling import NewPost, queue_post
from content.storage.models import Organization
from tests.bot.conftest import MANAGER, Library
from tests.bot.harness import BotHarness
from tests.bot.posting import START, manual_clock, posts, publications
from tests.bot.world import callback_answer

PAST_64_BITS = str(2**64 + 5)


async def press_forged(bot: BotHarness, user_id: int, data: str) -> list[dict[str, Any]]:
    """Press a button carrying `data` that the bot never made (as a button of an older version,
    or a modified client, would): the message with it is sent as the bot, outside Afisha."""
    await bot.send(user_id, "/start")  # the chat exists once they have written
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("?", callback_data=data)]])
    await bot.application.bot.send_message(user_id, "·", reply_markup=markup)
    return await bot.press(user_id, data)


def queued(library: Library) -> int:
    with library.sessions.begin() as session:
        org = session.scalars(select(Organization)).one()
        new = NewPost("A reading on Friday", ["news"], START + timedelta(days=2))
        return queue_post(session, org, new, library.services.media_dir, "test").id


def snapshot(library: Library) -> list[tuple[object, ...]]:
    return [(p.id, p.status, p.text) for p in posts(library)] + [
        (p.id, p.state, p.due_at) for p in publications(library)
    ]


@pytest.mark.parametrize(
    "data",
    [
        f"q:view:{PAST_64_BITS}:0",  # an id past 64 bits
        f"ap:ok:{PAST_64_BITS}",
        f"np:open:{PAST_64_BITS}",
        f"ntc:retry:{PAST_64_BITS}",
        f"remind:{PAST_64_BITS}",
        "q:page:\uff11",  # a full-width 1
        "q:view:{id}:\u0660",  # an Arabic-Indic 0
        "q:now:{fullwidth}",  # the post's id in full-width digits
        "ap:ok:{arabic}",  # ... and in Arabic-Indic ones
        "q:page",  # a value missing
        "q:view:{id}:0:0",  # one too many
        "q:fly:{id}",  # no such action
        "zz:1",  # no such button
        "lang:xx",  # no such language
        "evt:cx:{id}:2",  # neither with nor without a notice
    ],
)
async def test_data_that_is_not_one_of_our_buttons_gets_the_stale_reply(
    bot: BotHarness, library: Library, caplog: pytest.LogCaptureFixture, data: str
) -> None:
    manual_clock(library)
    post_id = queued(library)
    fullwidth = "".join(chr(0xFF10 + int(d)) for d in str(post_id))
    arabic = "".join(chr(0x0660 + int(d)) for d in str(post_id))
    data = data.format(id=post_id, fullwidth=fullwidth, arabic=arabic)
    before = snapshot(library)
    with caplog.at_level(logging.INFO):
        replies = await press_forged(bot, MANAGER, data)
    assert callback_answer(bot) == translate("kk", STALE_BUTTON)  # Marat speaks Kazakh
    assert translate("kk", STALE_BUTTON) != STALE_BUTTON
    assert replies == []  # no "something went wrong", no edit, nothing shown
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
    assert snapshot(library) == before


async def test_a_stranger_hears_who_to_ask_not_that_the_button_is_stale(
    bot: BotHarness, library: Library
) -> None:
    manual_clock(library)
    replies = await press_forged(bot, 500000077, f"q:view:{PAST_64_BITS}:0")
    assert len(replies) == 1
    assert "500000077" in replies[0]["text"]


def test_every_payload_the_bot_makes_fits_telegram_with_the_largest_values() -> None:
    """Each payload packs within 64 bytes with ids at the 64-bit limit and its longest choices,
    and reads back the same."""
    routes = build_router().buttons.values()
    assert len(routes) > 20
    for route in routes:
        values = [
            2**63 - 1
            if kind is int
            else True
            if kind is bool
            else "en"
            if kind is str  # the payloads with text carry language codes
            else max(get_args(kind), key=len)
            for kind in field_types(route.payload).values()
        ]
        sample = route.payload(*values)
        data = sample.pack()
        assert len(data.encode()) <= 64, data
        assert route.payload.unpack(data) == sample
