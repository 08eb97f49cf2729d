"""`afisha run` in polling mode: a second one on the same PostgreSQL database stops before it
asks Telegram anything, with the reason in the installation's language."""

from __future__ import annotations

import asyncio
from functools import partial
from pathlib import Path

import pytest

from afisha.bot_service import POLLING_HERE, run_bot
from afisha.config import Settings
from afisha.runtime import serve
from afisha.wiring import open_afisha
from content.errors import ConfigurationError
from content.i18n import translate
from content.storage.db import make_engine, upgrade
from content.storage.models import Organization
from content.storage.secrets import generate_key
from sandbox.runner import SandboxThread
from sandbox.telegram_state import telegram_state

WAIT_AT_MOST = 30.0


async def test_a_second_run_on_one_database_refuses_to_poll(
    database_url: str, sandbox: SandboxThread, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("on SQLite the worker's lock keeps a second `afisha run` out already")
    database = make_engine(database_url)
    upgrade(database)
    database.dispose()
    fixtures = sandbox.sandbox.fixtures

    def installation(language: str) -> Settings:
        return Settings(
            database_url=database_url,
            secret_key=generate_key(),
            organization="Regional Library",
            language=language,
            telegram_token=fixtures.bot_token,
            telegram_api_url=sandbox.base_url,
            graph_api_url=f"{sandbox.base_url}/graph",
            media_dir=str(tmp_path / "media"),
        )

    first, second = open_afisha(installation("en")), open_afisha(installation("kk"))
    with first.transaction() as (session, head):
        session.add(Organization(name="Village Library", timezone="Asia/Almaty",
                                 language="kk", parent_id=head.id))  # fmt: skip
    state = telegram_state(sandbox.sandbox)
    stop = asyncio.Event()
    running = asyncio.create_task(serve(first, services=[partial(run_bot, first, None)], stop=stop))
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + WAIT_AT_MOST
        while sandbox.call(lambda: state.poll_generation) == 0:  # the first one polls
            assert loop.time() < deadline
            assert not running.done()
            await asyncio.sleep(0.02)
        polls = sandbox.call(lambda: state.poll_generation)
        with pytest.raises(ConfigurationError) as refused:
            await asyncio.wait_for(
                serve(second, services=[partial(run_bot, second, None)]), WAIT_AT_MOST
            )
        assert str(refused.value) == translate("kk", POLLING_HERE)
        # Refused before asking Telegram: the first one's poll was not cut short.
        assert sandbox.call(lambda: state.poll_generation) == polls
        assert not running.done()
    finally:
        stop.set()
        await asyncio.wait_for(running, WAIT_AT_MOST)
        first.engine.dispose()
        second.engine.dispose()
