"""Fixtures for the Telegram emulator tests: the real python-telegram-bot `Bot` pointed at the
sandbox, recording every raw answer so each result is checked against the Bot API spec.

Test modules bind them by assignment (`bot = telegram_fixtures.bot`) so pytest finds them.
"""

from __future__ import annotations

import io
import json
import warnings
from collections.abc import AsyncIterator, Callable
from typing import Any, TypeVar

import httpx
import pytest
from PIL import Image
from telegram import Bot
from telegram.request import HTTPXRequest
from telegram.warnings import PTBUserWarning

from sandbox.runner import SandboxThread
from sandbox.telegram_spec import check_result
from sandbox.telegram_state import TelegramState, telegram_state

T = TypeVar("T")


class RecordingRequest(HTTPXRequest):
    """PTB's own transport, keeping every (url, status, body) it saw."""

    def __init__(self, log: list[tuple[str, int, bytes]], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.log = log

    async def do_request(
        self, url: str, method: str, *args: Any, **kwargs: Any
    ) -> tuple[int, bytes]:
        code, payload = await super().do_request(url, method, *args, **kwargs)
        self.log.append((url, code, payload))
        return code, payload


def spec_problems(log: list[tuple[str, int, bytes]]) -> list[str]:
    """Every successful method result in the log checked against the spec's return types."""
    problems = []
    for url, code, payload in log:
        if "/file/bot" in url or not 200 <= code < 300:
            continue
        method = url.rsplit("/", 1)[-1]
        body = json.loads(payload)
        assert body["ok"] is True, (method, body)
        problems += [f"{method}: {p}" for p in check_result(method, body["result"])]
    return problems


class FakeMonotonic:
    """A monotonic clock that only moves when told to."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def jpeg(width: int = 1600, height: int = 900) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (30, 120, 200)).save(buffer, format="JPEG")
    return buffer.getvalue()


def on_loop(sandbox: SandboxThread, fn: Callable[[TelegramState], T]) -> T:
    """Run `fn` on the emulator state from the sandbox's own loop thread."""
    return sandbox.call(lambda: fn(telegram_state(sandbox.sandbox)))


async def raw_call(bot: Bot, method: str, **params: Any) -> Any:
    """Call a method with exactly these parameters, through PTB's generic endpoint."""
    with warnings.catch_warnings():
        # PTB suggests its typed method instead; the point here is to leave parameters out.
        warnings.simplefilter("ignore", PTBUserWarning)
        return await bot.do_api_request(method, api_kwargs=params)


async def admin(sandbox: SandboxThread, verb: str, path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient(base_url=f"{sandbox.base_url}/_sandbox/") as client:
        response = await client.request(verb, path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def raw_log() -> list[tuple[str, int, bytes]]:
    return []


@pytest.fixture
async def bot(sandbox: SandboxThread, raw_log: list[tuple[str, int, bytes]]) -> AsyncIterator[Bot]:
    """An initialised PTB Bot on the sandbox; afterwards every result it got must fit the spec."""
    base = sandbox.base_url
    telegram_bot = Bot(
        sandbox.sandbox.fixtures.bot_token,
        base_url=f"{base}/bot",
        base_file_url=f"{base}/file/bot",
        request=RecordingRequest(raw_log),
        get_updates_request=RecordingRequest(raw_log),
    )
    async with telegram_bot:
        yield telegram_bot
    assert raw_log, "the bot made no calls"
    assert spec_problems(raw_log) == []


@pytest.fixture
def flood_clock(sandbox: SandboxThread) -> FakeMonotonic:
    """Flood control on a clock the test moves."""
    clock = FakeMonotonic()
    on_loop(sandbox, lambda state: setattr(state.flood, "clock", clock))
    return clock
