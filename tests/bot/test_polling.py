"""One poller per bot token: a second one gives way with a clear message, the first goes on."""

from __future__ import annotations

import asyncio

import pytest

from bot.app import ANOTHER_POLLER, build_application, run_polling
from content.errors import ConfigurationError
from content.i18n import translate
from content.storage.models import Organization
from content.storage.registry import add_staff
from sandbox.runner import SandboxThread
from sandbox.telegram_state import telegram_state
from tests.bot.conftest import EDITOR, Library

WAIT_AT_MOST = 30.0
OTHER_EDITOR = 500000022


async def until(condition: object, what: str) -> None:
    """Wait (on the event loop, in short steps) until `condition()` holds."""
    assert callable(condition)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_AT_MOST
    while not condition():
        assert loop.time() < deadline, what
        await asyncio.sleep(0.02)


async def test_a_second_poller_for_one_token_stops_and_says_why(
    library: Library, sandbox: SandboxThread
) -> None:
    with library.sessions.begin() as session:
        village = Organization(name="Village Library", timezone="Europe/Vilnius", language="lt")
        session.add(village)
        session.flush()
        add_staff(session, village, OTHER_EDITOR, "Jonas", "editor", "lt", "test")
    state = telegram_state(sandbox.sandbox)
    token = sandbox.sandbox.fixtures.bot_token
    first = build_application(library.services, token, sandbox.base_url)
    second = build_application(library.services, token, sandbox.base_url)
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    # The first has polled for a while already: a conflict now is a newcomer's.
    polling = asyncio.create_task(run_polling(first, stop_first, settle=0.0))
    try:
        await until(lambda: sandbox.call(lambda: state.poll_generation) > 0, "no first poll")
        with pytest.raises(ConfigurationError) as refused:
            await asyncio.wait_for(run_polling(second, stop_second, language="lt"), WAIT_AT_MOST)
        message = str(refused.value)
        assert message.startswith(translate("lt", ANOTHER_POLLER, detail="").split("(")[0])
        assert "terminated by other getUpdates request" in message
        assert not polling.done()  # the first goes on, and still answers
        for user in (EDITOR, OTHER_EDITOR):
            sandbox.call(lambda user=user: state.inject_message(user, "/help"))

        def answered() -> bool:
            chats = [
                sandbox.call(lambda u=u: state.chat_history(u)) for u in (EDITOR, OTHER_EDITOR)
            ]
            return all(any(m["sender"] == "bot" for m in chat) for chat in chats)

        await until(answered, "the first poller stopped answering")
    finally:
        stop_first.set()
        await asyncio.wait_for(polling, WAIT_AT_MOST)
