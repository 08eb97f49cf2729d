"""`afisha run` in polling mode: a second one on the same PostgreSQL database stops before it
asks Telegram anything, with the reason in the installation's language."""

from __future__ import annotations

import asyncio
import socket
import threading
from functools import partial
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import insert

from afisha.bot_service import POLLING_HERE, WEBHOOK_HERE, poller_lock, run_bot
from afisha.cli import cli
from afisha.config import Settings
from afisha.runtime import serve
from afisha.webhook import WebhookSink
from afisha.wiring import open_afisha
from content.errors import ConfigurationError
from content.i18n import translate
from content.storage.db import make_engine, upgrade
from content.storage.models import Organization
from content.storage.secrets import generate_key
from sandbox.runner import SandboxThread
from sandbox.telegram_state import telegram_state
from scheduler.locks import exclusive

WAIT_AT_MOST = 30.0
SECRET = "s3cret_for-the-webhook"


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


def test_afisha_run_exits_2_with_the_reason_while_another_polls(
    database_url: str, sandbox: SandboxThread, tmp_path: Path
) -> None:
    """The command itself: exit status 2 and one line saying why, in the installation's
    language (Lithuanian here), while another `afisha run` holds the bot's polling."""
    if not database_url.startswith("postgresql"):
        pytest.skip("on SQLite the worker's lock keeps a second `afisha run` out already")
    database = make_engine(database_url)
    upgrade(database)
    token = sandbox.sandbox.fixtures.bot_token
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        "AFISHA_DATABASE_URL": database_url,
        "AFISHA_SECRET_KEY": generate_key(),
        "AFISHA_LANGUAGE": "lt",
        "AFISHA_ORGANIZATION": "Regional Library",
        "AFISHA_TELEGRAM_TOKEN": token,
        "AFISHA_TELEGRAM_API_URL": sandbox.base_url,
        "AFISHA_MEDIA_DIR": str(tmp_path / "media"),
        "AFISHA_WEB_PORT": str(port),
    }
    with database.begin() as connection:  # a network: the head, then a member library
        head = connection.execute(
            insert(Organization)
            .values(name="Regional Library", timezone="Europe/Vilnius", language="lt")
            .returning(Organization.id)
        ).scalar_one()
        connection.execute(
            insert(Organization).values(
                name="Village Library", timezone="Europe/Vilnius", language="lt", parent_id=head
            )
        )
    held, release = threading.Event(), threading.Event()

    def first_poller() -> None:  # what the first `afisha run` holds while it polls
        async def hold() -> None:
            async with exclusive(database, poller_lock(token)) as alone:
                assert alone
                held.set()
                await asyncio.to_thread(release.wait, WAIT_AT_MOST)

        asyncio.run(hold())

    thread = threading.Thread(target=first_poller)
    thread.start()
    try:
        assert held.wait(WAIT_AT_MOST)
        result = CliRunner().invoke(cli, ["run"], env=env)
    finally:
        release.set()
        thread.join(WAIT_AT_MOST)
        database.dispose()
    assert result.exit_code == 2, result.output
    assert f"error: {translate('lt', POLLING_HERE)}" in result.stderr
    assert sandbox.call(lambda: telegram_state(sandbox.sandbox).poll_generation) == 0


async def test_webhook_replicas_and_a_poller_keep_out_of_each_others_way(
    database_url: str, sandbox: SandboxThread, tmp_path: Path
) -> None:
    """Polling would switch the replicas' webhook off (PTB deletes it to poll), and a webhook
    would cut a poller off: on one database, whichever comes second stops and says why."""
    if not database_url.startswith("postgresql"):
        pytest.skip("on SQLite the worker's lock keeps a second `afisha run` out already")
    database = make_engine(database_url)
    upgrade(database)
    fixtures = sandbox.sandbox.fixtures
    lock = poller_lock(fixtures.bot_token)

    def installation(language: str, webhook: bool) -> Settings:
        return Settings(
            database_url=database_url,
            secret_key=generate_key(),
            organization="Regional Library",
            language=language,
            telegram_token=fixtures.bot_token,
            telegram_api_url=sandbox.base_url,
            media_dir=str(tmp_path / "media"),
            webhook_url="http://127.0.0.1:9/telegram/webhook" if webhook else None,
            webhook_secret=SECRET if webhook else None,
        )

    poller, replica = open_afisha(installation("ru", False)), open_afisha(installation("lt", True))
    with poller.transaction() as (session, head):
        session.add(Organization(name="Village Library", timezone="Asia/Almaty",
                                 language="kk", parent_id=head.id))  # fmt: skip
    try:
        async with exclusive(database, lock, shared=True) as replicas_run:
            assert replicas_run  # a webhook replica runs: a second replica may join it
            async with exclusive(database, lock, shared=True) as another:
                assert another
            with pytest.raises(ConfigurationError) as refused:
                await serve(poller, services=[partial(run_bot, poller, None)])
            assert str(refused.value) == translate("ru", POLLING_HERE)
        async with exclusive(database, lock) as polling:
            assert polling  # now a poller runs
            sink = WebhookSink(SECRET)
            with pytest.raises(ConfigurationError) as refused:
                await serve(replica, services=[partial(run_bot, replica, sink)])
            assert str(refused.value) == translate("lt", WEBHOOK_HERE)
        state = telegram_state(sandbox.sandbox)
        assert sandbox.call(lambda: (state.poll_generation, state.webhook)) == (0, None)
    finally:
        poller.engine.dispose()
        replica.engine.dispose()
        database.dispose()
