"""/published and "Share to the network" in the real bot against the sandbox, on a network of a
regional library and two members, SQLite and PostgreSQL: a member's editor shares a post that is
out, the engine forwards it to the head's channel; forged buttons are refused, nothing written."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.app import build_application
from bot.flows.sharing import ShareStart, ShareTo, ShowPublished
from bot.services import BotServices
from channels.download import download_image
from content.queueing.scheduling import NewPost, queue_post
from content.storage.models import AuditEntry, Post, Publication
from content.storage.registry import add_staff
from sandbox.runner import SandboxThread
from scheduler.clock import ManualClock
from tests.bot.harness import BotHarness
from tests.bot.world import press
from tests.support.network import EVENTS, Network, network, publisher, sandbox_tokens

START = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)
DISTRICT_EDITOR, VILLAGE_EDITOR, REGION_MANAGER = 500000021, 500000031, 500000011


@pytest.fixture
def net(database_url: str, tmp_path: Path, sandbox: SandboxThread) -> Iterator[Network]:
    with network(database_url, tmp_path, sandbox_tokens(sandbox)) as made:
        for name, user, role, language in (
            ("District Library", DISTRICT_EDITOR, "editor", "ru"),
            ("Village Library", VILLAGE_EDITOR, "editor", "lt"),
            ("Regional Library", REGION_MANAGER, "manager", "kk"),
        ):
            with made.transaction(name) as (session, org):
                add_staff(session, org, user, f"Staff {user}", role, language, "test")
        yield made


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(START)


@pytest.fixture
async def bot(
    net: Network, sandbox: SandboxThread, clock: ManualClock
) -> AsyncIterator[BotHarness]:
    services = BotServices(net.sessions, clock, net.media_dir, "en", fetch_image=download_image)
    application = build_application(services, sandbox.sandbox.fixtures.bot_token, sandbox.base_url)
    await application.initialize()
    try:
        yield BotHarness(sandbox, application)
    finally:
        await application.shutdown()


async def published_post(net: Network, sandbox: SandboxThread, clock: ManualClock) -> int:
    """A District Library post the real engine has put out on its channel."""
    with net.transaction("District Library") as (session, org):
        new = NewPost("Кукольный театр в воскресенье", ["district-tg"], START)
        post_id = queue_post(session, org, new, net.media_dir, "test").id
    async with publisher(net, sandbox, clock) as engine:
        assert await engine.publish_due() == 1
    return post_id


async def forge(bot: BotHarness, user_id: int, data: str) -> list[dict[str, Any]]:
    """Press a button carrying `data` that the bot never made (a modified client's): the
    message with it is sent as the bot, outside Afisha. Returns the bot's answer."""
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("?", callback_data=data)]])
    await bot.application.bot.send_message(user_id, "·", reply_markup=markup)
    return [await press(bot, user_id, data)]


def written(net: Network) -> tuple[int, ...]:
    return net.counts(Post, Publication, AuditEntry)


async def test_a_members_editor_shares_a_published_post_with_the_network(
    bot: BotHarness, net: Network, sandbox: SandboxThread, clock: ManualClock
) -> None:
    post_id = await published_post(net, sandbox, clock)

    (listed,) = await bot.send(DISTRICT_EDITOR, "/published")
    assert "District Library" in listed["text"]
    assert ShowPublished(post_id).pack() in bot.buttons(listed)
    shown = await press(bot, DISTRICT_EDITOR, ShowPublished(post_id).pack())
    assert "Кукольный театр" in shown["text"]
    asked = await press(bot, DISTRICT_EDITOR, ShareStart(post_id).pack())
    assert "Regional Library" in asked["text"]
    head = net.ids["Regional Library"]
    assert bot.buttons(asked) == [
        ShareTo(post_id, head, "copy").pack(),
        ShareTo(post_id, head, "forward").pack(),
    ]
    done = await press(bot, DISTRICT_EDITOR, ShareTo(post_id, head, "forward").pack())
    assert "region-tg" in done["text"]
    assert "отправлена в Regional Library" in done["text"]  # in the editor's Russian

    async with publisher(net, sandbox, clock) as engine:
        assert await engine.publish_due() == 1
    [forwarded] = bot.history(EVENTS)
    assert forwarded["text"] == "Кукольный театр в воскресенье"
    assert forwarded["forward_origin"]["chat"]["id"] == -1001000000001
    # Shown as shared from now on; a second share is refused, in Russian.
    await bot.send(DISTRICT_EDITOR, "/published")
    again = await press(bot, DISTRICT_EDITOR, ShowPublished(post_id).pack())
    assert "Отправлено в сеть" in again["text"]
    before = written(net)
    (twice,) = await forge(bot, DISTRICT_EDITOR, ShareTo(post_id, head, "copy").pack())
    assert "уже поделились в region-tg" in twice["text"]
    assert written(net) == before


async def test_forged_buttons_reach_no_other_library_and_nothing_outside_the_network(
    bot: BotHarness, net: Network, sandbox: SandboxThread, clock: ManualClock
) -> None:
    post_id = await published_post(net, sandbox, clock)
    await bot.send(VILLAGE_EDITOR, "/published")
    await bot.send(DISTRICT_EDITOR, "/published")
    before = written(net)
    head, village = net.ids["Regional Library"], net.ids["Village Library"]

    # The village library's editor, on the district's post: no such post of theirs (Lithuanian).
    for data in (
        ShowPublished(post_id).pack(),
        ShareStart(post_id).pack(),
        ShareTo(post_id, head, "forward").pack(),
    ):
        (refused,) = await forge(bot, VILLAGE_EDITOR, data)
        assert f"Nėra įrašo su ID {post_id}" in refused["text"]
    # The district's editor, to a sibling library or one that does not exist: not above.
    for target in (village, 999):
        (refused,) = await forge(bot, DISTRICT_EDITOR, ShareTo(post_id, target, "copy").pack())
        assert "не входит в сеть над District Library" in refused["text"]
    assert written(net) == before
    assert bot.history(EVENTS) == []


async def test_the_head_has_no_one_above_it(
    bot: BotHarness, net: Network, sandbox: SandboxThread, clock: ManualClock
) -> None:
    with net.transaction("Regional Library") as (session, org):
        new = NewPost("Жаңа кітаптар", ["region-tg"], START)
        post_id = queue_post(session, org, new, net.media_dir, "test").id
    async with publisher(net, sandbox, clock) as engine:
        await engine.publish_due()
    await bot.send(REGION_MANAGER, "/published")
    shown = await press(bot, REGION_MANAGER, ShowPublished(post_id).pack())
    assert ShareStart(post_id).pack() not in bot.buttons(shown)
    with net.sessions() as session:
        assert session.scalars(select(Post).where(Post.id != post_id)).all() == []
