"""PooledRequest: python-telegram-bot's Bot over several small HTTP pools, against the sandbox."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from telegram import Bot
from telegram.error import NetworkError

from channels.telegram_pools import PooledRequest
from sandbox.runner import SandboxThread
from sandbox.telegram_state import telegram_state

NEWS = -1001000000001


def pooled(connections: int, per_pool: int) -> PooledRequest:
    return PooledRequest(
        connections,
        per_pool=per_pool,
        connect_timeout=1.0,
        read_timeout=2.0,
        write_timeout=1.0,
        pool_timeout=1.0,
        media_write_timeout=2.0,
    )


@pytest.fixture
async def request_and_bot(sandbox: SandboxThread) -> AsyncIterator[tuple[PooledRequest, Bot]]:
    # Limits off: these tests send more than Telegram's 20 a minute to one channel.
    sandbox.call(lambda: setattr(telegram_state(sandbox.sandbox).flood.limits, "enabled", False))
    request = pooled(connections=8, per_pool=4)
    token = sandbox.sandbox.fixtures.bot_token
    bot = Bot(
        token,
        base_url=f"{sandbox.base_url}/bot",
        request=request,
        get_updates_request=request,
    )
    yield request, bot
    await request.shutdown()


def texts(sandbox: SandboxThread) -> list[str]:
    return sandbox.call(lambda: [item.text for item in sandbox.sandbox.ledger.items])


async def test_a_quiet_bot_keeps_one_pool(
    request_and_bot: tuple[PooledRequest, Bot], sandbox: SandboxThread
) -> None:
    request, bot = request_and_bot
    for i in range(3):
        message = await bot.send_message(NEWS, f"one by one {i}")
        assert message.text == f"one by one {i}"
    assert request.pools == 1
    assert texts(sandbox) == [f"one by one {i}" for i in range(3)]


async def test_concurrent_sends_open_pools_up_to_the_connection_budget(
    request_and_bot: tuple[PooledRequest, Bot], sandbox: SandboxThread
) -> None:
    request, bot = request_and_bot
    sent = await asyncio.gather(*(bot.send_message(NEWS, f"burst {i}") for i in range(30)))
    # 30 at once over 8 connections in pools of 4: two pools, never a third.
    assert request.pools == 2
    assert sorted(m.text for m in sent) == sorted(f"burst {i}" for i in range(30))
    assert sorted(texts(sandbox)) == sorted(f"burst {i}" for i in range(30))


async def test_timeouts_are_those_given(request_and_bot: tuple[PooledRequest, Bot]) -> None:
    request, _ = request_and_bot
    assert request.read_timeout == 2.0


async def test_a_shut_down_request_opens_no_pool_and_sends_nothing(
    request_and_bot: tuple[PooledRequest, Bot], sandbox: SandboxThread
) -> None:
    request, bot = request_and_bot
    await request.shutdown()
    with pytest.raises(NetworkError, match="not initialized"):
        await asyncio.gather(*(bot.send_message(NEWS, f"late {i}") for i in range(10)))
    assert request.pools == 1
    assert texts(sandbox) == []
    await request.initialize()  # PTB's contract: a shut-down request can be initialised again
    assert (await bot.send_message(NEWS, "again")).text == "again"
