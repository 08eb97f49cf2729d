"""Two bot replicas (two Applications, as two webhook processes behind one URL) on one
PostgreSQL database, handling one person's updates at the same moment."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from telegram import Update

from bot.app import build_application
from bot.flows import build_router
from bot.router import Router
from bot.services import BotServices
from bot.turn import Turn
from channels.download import download_image
from content.domain.states import Platform
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import BotConversation, ChosenOrganization, Organization
from content.storage.registry import add_channel, add_staff, ensure_organization
from content.storage.secrets import CredentialCipher, generate_key
from sandbox.runner import SandboxThread
from sandbox.telegram_state import telegram_state
from scheduler.clock import SystemClock

EDITOR, OTHER_EDITOR = 500000021, 500000022
WAIT_AT_MOST = 30.0


@dataclass
class Network:
    database: Engine
    sessions: sessionmaker[Session]
    application_name: str
    media_dir: Path

    def lock_waiters(self) -> int:
        """This test's connections waiting for a lock held by another transaction."""
        with self.database.connect() as connection:
            return int(
                connection.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity "
                        "WHERE application_name = :name AND wait_event_type = 'Lock'"
                    ),
                    {"name": self.application_name},
                )
                or 0
            )


@pytest.fixture
def network(database_url: str, sandbox: SandboxThread, tmp_path: Path) -> Iterator[Network]:
    if not database_url.startswith("postgresql"):
        pytest.skip("several bot replicas share a database only on PostgreSQL")
    database = make_engine(database_url)
    upgrade(database)
    sessions = session_factory(database)
    cipher = CredentialCipher(generate_key())
    chats = sandbox.sandbox.fixtures.chats
    with sessions.begin() as session:
        head = ensure_organization(session, "Regional Library", "Asia/Almaty", "ru")
        member = Organization(
            name="Village Library", timezone="Europe/Vilnius", language="lt", parent_id=head.id
        )
        session.add(member)
        session.flush()
        add_staff(session, head, EDITOR, "Egle", "editor", "en", "test")
        add_staff(session, member, OTHER_EDITOR, "Jonas", "editor", "lt", "test")
        # A head's editor reaches the member library too: she has chosen to work in the head.
        session.add(ChosenOrganization(telegram_user_id=EDITOR, organization_id=head.id))
        for org, chat, name in ((head, chats[0], "news"), (member, chats[1], "village")):
            add_channel(
                session,
                org,
                cipher,
                name=name,
                platform=Platform.TELEGRAM,
                external_id=str(chat.id),
                token=None,
                language=None,
                actor="test",
            )
    name = str(make_url(database_url).query["application_name"])
    yield Network(database, sessions, name, tmp_path / "media")
    database.dispose()


def replica(
    network: Network, sandbox: SandboxThread, update: dict[str, Any], router: Router
) -> None:
    """One replica (its own database pool, services and Application) handles one update."""
    database = make_engine(network.database.url.render_as_string(hide_password=False))
    services = BotServices(
        session_factory(database),
        SystemClock(),
        network.media_dir,
        "en",
        fetch_image=download_image,
    )

    async def handle() -> None:
        application = build_application(
            services, sandbox.sandbox.fixtures.bot_token, sandbox.base_url, router=router
        )
        await application.initialize()
        try:
            await application.process_update(Update.de_json(update, application.bot))
        finally:
            await application.shutdown()

    try:
        asyncio.run(handle())
    finally:
        database.dispose()


def pausing_router(paused: threading.Event, resume: Callable[[], None]) -> Router:
    """A router that, once the update is routed and before its transaction commits, says so
    and waits for `resume` to return."""
    router = build_router()
    route = router.route

    async def route_then_wait(turn: Turn) -> None:
        await route(turn)
        paused.set()
        await asyncio.to_thread(resume)

    router.route = route_then_wait  # type: ignore[method-assign]
    return router


def race(
    network: Network, sandbox: SandboxThread, first: dict[str, Any], second: dict[str, Any]
) -> None:
    """Replica A handles `first` and stops before committing; replica B is given `second`
    meanwhile; A goes on once B has finished or waits for A's transaction."""
    paused, b_done = threading.Event(), threading.Event()

    def resume() -> None:
        waited = 0.0
        while not b_done.wait(0.02) and network.lock_waiters() == 0:
            waited += 0.02
            assert waited < WAIT_AT_MOST, "replica B neither finished nor waited"

    a = threading.Thread(
        target=replica, args=(network, sandbox, first, pausing_router(paused, resume))
    )
    a.start()
    assert paused.wait(WAIT_AT_MOST)

    def run_b() -> None:
        try:
            replica(network, sandbox, second, build_router())
        finally:
            b_done.set()

    b = threading.Thread(target=run_b)
    b.start()
    for thread in (a, b):
        thread.join(WAIT_AT_MOST * 2)
        assert not thread.is_alive()


def bot_messages(sandbox: SandboxThread, chat_id: int) -> list[str]:
    history = sandbox.call(lambda: telegram_state(sandbox.sandbox).chat_history(chat_id))
    return [str(m.get("text") or "") for m in history if m.get("sender") == "bot"]


def inject(sandbox: SandboxThread, user_id: int, words: str) -> dict[str, Any]:
    update = sandbox.call(lambda: telegram_state(sandbox.sandbox).inject_message(user_id, words))
    assert update is not None
    return update


def test_a_step_handled_by_another_replica_at_once_is_not_lost(
    network: Network, sandbox: SandboxThread
) -> None:
    """/new on replica A, the post's text on replica B while A's transaction is open: B takes
    its turn after A, so the text lands in the conversation /new began."""
    start = inject(sandbox, EDITOR, "/new")
    words = inject(sandbox, EDITOR, "Book fair on Saturday")
    race(network, sandbox, start, words)
    with network.sessions() as session:
        row = session.get(BotConversation, EDITOR)
        assert row is not None
        assert (row.flow, row.data.get("text")) == ("new", "Book fair on Saturday")
        assert session.get(BotConversation, OTHER_EDITOR) is None  # the other library's editor
    replies = bot_messages(sandbox, EDITOR)
    assert len(replies) == 2
    assert not any("Something went wrong" in reply for reply in replies)


def test_one_update_given_to_two_replicas_is_handled_once(
    network: Network, sandbox: SandboxThread
) -> None:
    """Telegram retrying a webhook delivery can hand one update to both replicas."""
    update = inject(sandbox, OTHER_EDITOR, "/new")
    race(network, sandbox, update, update)
    replies = bot_messages(sandbox, OTHER_EDITOR)
    assert len(replies) == 1  # the prompt for the post's text, once; no error from the second
    with network.sessions() as session:
        row = session.get(BotConversation, OTHER_EDITOR)
        assert row is not None
        assert (row.flow, row.step) == ("new", "content")
