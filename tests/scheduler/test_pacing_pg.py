"""Pacing shared by the workers on one PostgreSQL database (scheduler.pacing_pg)."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine as SqlEngine
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from afisha.channel_factory import ChannelFactory
from afisha.config import Settings
from content.domain.states import Platform, PostStatus, PublicationKind, PublicationState
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import Attempt, Channel, Organization, Post, Publication
from content.storage.registry import add_channel
from content.storage.secrets import CredentialCipher, generate_key
from sandbox.runner import SandboxThread
from sandbox.telegram_state import telegram_state
from scheduler.clock import ManualClock, SystemClock
from scheduler.compose import MediaLocation
from scheduler.engine import Engine, EngineSettings
from scheduler.limits import Pacer, rates_for
from scheduler.pacing_pg import SharedPacer, make_pacer

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@dataclass
class Network:
    database: SqlEngine
    sessions: sessionmaker[Session]
    cipher: CredentialCipher
    channel_ids: list[int]


@pytest.fixture
def network(database_url: str, sandbox: SandboxThread) -> Iterator[Network]:
    """Two libraries, each with Telegram channels on the one bot (the sandbox's chats)."""
    database = make_engine(database_url)
    upgrade(database)
    sessions = session_factory(database)
    cipher = CredentialCipher(generate_key())
    chats = [c for c in sandbox.sandbox.fixtures.chats if c.bot_is_admin]
    with sessions.begin() as session:
        head = Organization(name="Regional Library", timezone="Europe/Vilnius", language="lt")
        member = Organization(name="Village Library", timezone="Asia/Almaty", language="kk")
        session.add_all([head, member])
        session.flush()
        member.parent_id = head.id
        ids = []
        for index, chat in enumerate(chats):
            channel = add_channel(
                session,
                head if index % 2 == 0 else member,
                cipher,
                name=f"tg{index}",
                platform=Platform.TELEGRAM,
                external_id=str(chat.id),
                token=None,
                language=None,
                actor="test",
            )
            ids.append(channel.id)
    yield Network(database, sessions, cipher, ids)
    database.dispose()


def queue_now(network: Network, per_channel: int) -> None:
    now = datetime.now(UTC)
    with network.sessions.begin() as session:
        channels = session.scalars(select(Channel).where(Channel.id.in_(network.channel_ids)))
        rows = []
        for channel in channels:
            for i in range(per_channel):
                post = Post(
                    organization_id=channel.organization_id,
                    text=f"{channel.name} post {i}",
                    variants={},
                    status=PostStatus.QUEUED,
                )
                session.add(post)
                session.flush()
                rows.append(
                    {
                        "kind": PublicationKind.POST,
                        "post_id": post.id,
                        "channel_id": channel.id,
                        "due_at": now,
                        "state": PublicationState.SCHEDULED,
                        "attempts": 0,
                        "collect_stage": 0,
                    }
                )
        session.execute(insert(Publication), rows)


def test_three_workers_keep_telegrams_limits_together(
    network: Network, sandbox: SandboxThread, database_url: str, tmp_path: Path
) -> None:
    """Each worker alone would send 30 a second on the bot and 20 a minute to each chat: three
    together would send three times that, and Telegram would answer 429."""
    if not database_url.startswith("postgresql"):
        pytest.skip("several workers share a database only on PostgreSQL")
    per_chat = 20  # Telegram's limit per chat and minute (sandbox and pacing alike)
    queue_now(network, per_chat + 4)
    settings = Settings(
        telegram_token=sandbox.sandbox.fixtures.bot_token,
        telegram_api_url=sandbox.base_url,
        media_dir=str(tmp_path / "media"),
    )
    attempts: Counter[str] = Counter()

    def work(name: str) -> None:
        clock = SystemClock()
        factory = ChannelFactory(settings, network.cipher, network.sessions)
        engine = Engine(
            network.sessions,
            factory,
            clock,
            EngineSettings(
                worker=name, media=MediaLocation(tmp_path / "media"), batch_size=8, concurrency=8
            ),
            make_pacer(network.database, clock),
            factory.rates,
        )
        assert isinstance(engine.pacer, SharedPacer)

        async def run() -> None:
            try:
                attempts[name] += await engine.publish_due(lookahead=1.0, for_seconds=4.0)
            finally:
                await factory.close()

        asyncio.run(run())

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in (1, 2, 3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert sandbox.call(lambda: telegram_state(sandbox.sandbox).flood.refused) == 0
    texts = Counter(item.text for item in sandbox.sandbox.ledger.items)
    chats = len(network.channel_ids)
    assert len(texts) == per_chat * chats  # each chat's minute, full
    assert set(texts.values()) == {1}  # each post once
    with network.sessions() as session:
        states = Counter(session.scalars(select(Publication.state)))
        limited = session.scalar(
            select(func.count()).select_from(Attempt).where(Attempt.outcome == "rate_limited")
        )
    sent, waiting = PublicationState.SENT, PublicationState.SCHEDULED
    assert states == {sent: per_chat * chats, waiting: 4 * chats}  # the rest: the next minute
    assert limited == 0
    assert sum(1 for count in attempts.values() if count) >= 2  # the work was shared


def test_a_window_booked_by_one_worker_is_full_for_another(database_url: str) -> None:
    """Two pacers on one database with one clock: a chat's 20 a minute, and a pause asked for
    by the platform, hold for both; a send answered late counts from its answer. The chats are
    two libraries' (the regional one's, a village library's) on the network's one bot."""
    database = make_engine(database_url)
    upgrade(database)
    clock = ManualClock(START)
    try:
        first, second = make_pacer(database, clock), make_pacer(database, clock)
        if not database_url.startswith("postgresql"):
            assert type(first) is Pacer  # SQLite runs one worker: it paces alone
            return
        chat = rates_for("telegram", "-1001000000001", "bot-token")  # the regional library's
        village_chat = rates_for("telegram", "-1001000000002", "bot-token")
        booked = first.book_batch([chat] * 25)
        assert sum(stamp is not None for stamp in booked) == 20
        clock.advance(seconds=2)
        assert second.book_batch([chat]) == [None]  # the chat's minute is full
        assert second.book_batch([village_chat]) != [None]  # the same bot, another chat: room
        clock.advance(seconds=2)
        stamps = [stamp for stamp in booked if stamp is not None]
        for stamp in stamps:  # answered 4 s after booking
            first.done(chat, stamp)
        first.flush()
        clock.advance(seconds=57)  # 61 s after the bookings, 57 after the answers
        assert second.book_batch([chat]) == [None]
        clock.advance(seconds=5)
        assert second.book_batch([chat]) != [None]
        second.block(village_chat, 30)  # a 429 seen by the second: the first waits too
        clock.advance(seconds=1)
        assert first.book_batch([village_chat]) == [None]
        first.refresh(village_chat)
        assert first.blocked_until(village_chat) is not None
        first.close()
        second.close()
        # The pacers' commits skip waiting for the disk; the pool's connections do not.
        with database.connect() as a, database.connect() as b, database.connect() as c:
            shown = {x.scalar(text("SHOW synchronous_commit")) for x in (a, b, c)}
        assert shown == {"on"}
    finally:
        database.dispose()
