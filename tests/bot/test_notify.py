"""The engine's notices reach the right staff with working buttons; the weekly digest reaches
managers. Failures come from the real engine publishing to the sandbox with injected faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.notify import deliver_notices, digest_week, queue_monthly_report, queue_weekly_digest
from channels.base import CredentialStatus
from content.domain.states import ChannelStatus, Platform, PublicationState
from content.queueing.scheduling import NewPost, queue_post
from content.storage.models import Channel, Notice, Publication
from content.storage.notices import NoticeKind
from content.storage.registry import add_channel
from sandbox.runner import SandboxThread
from scheduler.clock import ManualClock
from scheduler.engine import Engine
from scheduler.recovery import mark_missed, reconcile_unconfirmed
from scheduler.tokens import record_check
from tests.bot.conftest import ADMIN, EDITOR, MANAGER, Library
from tests.bot.harness import BotHarness
from tests.bot.world import (
    START,
    build_engine,
    channel_chat,
    manual_clock,
    organization,
    press,
    staff_id,
)

S = PublicationState
STAFF = (ADMIN, MANAGER, EDITOR)


@pytest.fixture
def clock(library: Library) -> ManualClock:
    return manual_clock(library)


@pytest.fixture
async def engine(
    library: Library, sandbox: SandboxThread, clock: ManualClock
) -> AsyncIterator[Engine]:
    engine, factory = build_engine(library, sandbox, clock, retries=1)
    try:
        yield engine
    finally:
        await factory.close()


@pytest.fixture
async def staff_chats(bot: BotHarness) -> None:
    """Staff have talked to the bot before (Telegram lets a bot write only to such people)."""
    for user in STAFF:
        await bot.send(user, "/start")


def queue(library: Library, text: str, channel: str, author: int | None = None) -> int:
    with library.sessions.begin() as session:
        post = queue_post(
            session,
            organization(session),
            NewPost(text, [channel], library.services.clock.now(), author_id=author),
            library.services.media_dir,
            "test",
        )
        return post.publications[0].id


def publication(library: Library, publication_id: int) -> Publication:
    with library.sessions() as session:
        return session.get_one(Publication, publication_id)


def notices(library: Library) -> list[Notice]:
    with library.sessions() as session:
        return list(session.scalars(select(Notice).order_by(Notice.id)))


async def deliver(bot: BotHarness, library: Library) -> dict[int, list[dict[str, object]]]:
    """Deliver notices; returns each staff member's new messages."""
    for user in STAFF:
        bot._new_bot_messages(user)
    await deliver_notices(bot.application.bot, library.services)
    return {user: bot._new_bot_messages(user) for user in STAFF}


@pytest.fixture
def gone(library: Library) -> str:
    """A Telegram channel whose chat no longer exists: Telegram rejects what is sent to it."""
    with library.sessions.begin() as session:
        add_channel(
            session,
            organization(session),
            library.cipher,
            name="gone",
            platform=Platform.TELEGRAM,
            external_id="-1009999999999",
            token=None,
            language="lt",
            actor="test",
        )
    return "gone"


def point_at_real_chat(library: Library, sandbox: SandboxThread, name: str) -> None:
    """An admin fixes the channel's chat id."""
    with library.sessions.begin() as session:
        channel = session.scalars(select(Channel).where(Channel.name == name)).one()
        channel.external_id = str(channel_chat(sandbox))


def fault(sandbox: SandboxThread, method: str, kind: str) -> None:
    sandbox.call(lambda: sandbox.sandbox.faults.force(method, kind))


async def test_a_failed_publication_reaches_its_author_and_retry_publishes_it(
    bot: BotHarness,
    library: Library,
    sandbox: SandboxThread,
    engine: Engine,
    gone: str,
    clock: ManualClock,
    staff_chats: None,
) -> None:
    pub_id = queue(library, "Book fair on Saturday", gone, author=staff_id(library, EDITOR))
    await engine.publish_due()
    assert publication(library, pub_id).state is S.FAILED

    received = await deliver(bot, library)
    assert received[ADMIN] == received[MANAGER] == []  # the author hears, no one else
    (message,) = received[EDITOR]
    assert "„Book fair on Saturday“" in str(message["text"])  # Lithuanian, for Egle
    assert BotHarness.buttons(message) == [
        f"ntc:retry:{pub_id}",
        f"ntc:edit:{pub_id}",
        f"ntc:drop:{pub_id}",
    ]
    assert await deliver(bot, library) == {user: [] for user in STAFF}  # delivered once
    assert notices(library)[0].delivered_at is not None

    edited = await press(bot, EDITOR, f"ntc:retry:{pub_id}")
    assert "gone" in str(edited["text"])
    assert publication(library, pub_id).state is S.SCHEDULED
    point_at_real_chat(library, sandbox, gone)
    fixed, factory = build_engine(library, sandbox, clock)
    try:
        assert await fixed.publish_due() == 1
    finally:
        await factory.close()
    assert bot.history(channel_chat(sandbox))[-1]["text"] == "Book fair on Saturday"


async def test_edit_fixes_the_text_and_sends_it_again(
    bot: BotHarness,
    library: Library,
    sandbox: SandboxThread,
    engine: Engine,
    gone: str,
    clock: ManualClock,
    staff_chats: None,
) -> None:
    pub_id = queue(library, "Book fiar", gone)
    await engine.publish_due()
    received = await deliver(bot, library)
    assert received[MANAGER] == []  # no author: editors and admins hear
    assert len(received[ADMIN]) == len(received[EDITOR]) == 1
    ask = await press(bot, ADMIN, f"ntc:edit:{pub_id}")
    assert "Book fiar" in str(ask["text"])
    (reply,) = await bot.send(ADMIN, "   ")
    assert "/cancel" in str(reply["text"])
    (reply,) = await bot.send(ADMIN, "Book fair")
    assert "gone" in str(reply["text"])
    point_at_real_chat(library, sandbox, gone)
    fixed, factory = build_engine(library, sandbox, clock)
    try:
        assert await fixed.publish_due() == 1
    finally:
        await factory.close()
    assert bot.history(channel_chat(sandbox))[-1]["text"] == "Book fair"


async def test_an_unconfirmed_publication_is_settled_by_a_person(
    bot: BotHarness, library: Library, sandbox: SandboxThread, engine: Engine, staff_chats: None
) -> None:
    pub_id = queue(library, "Did this go out?", "news")
    fault(sandbox, "sendMessage", "drop_after")
    await engine.publish_due()
    assert publication(library, pub_id).state is S.UNCONFIRMED
    await reconcile_unconfirmed(engine)  # Telegram cannot tell: a person is asked
    received = await deliver(bot, library)
    (message,) = received[ADMIN]
    assert BotHarness.buttons(message) == [f"ntc:yes:{pub_id}", f"ntc:no:{pub_id}"]
    assert received[EDITOR]
    assert not received[MANAGER]

    await press(bot, ADMIN, f"ntc:yes:{pub_id}")
    assert publication(library, pub_id).state is S.SENT
    (reply,) = await bot.press(EDITOR, f"ntc:no:{pub_id}")  # too late: already settled
    assert "sent" in str(reply["text"])
    assert publication(library, pub_id).state is S.SENT


async def test_not_posted_sends_it_again(
    bot: BotHarness, library: Library, sandbox: SandboxThread, engine: Engine, staff_chats: None
) -> None:
    pub_id = queue(library, "Second try", "news")
    fault(sandbox, "sendMessage", "drop_before")  # nothing reached the channel
    await engine.publish_due()
    if publication(library, pub_id).state is S.RETRY_WAIT:
        pytest.skip("the client classified the dropped request as not sent")
    await reconcile_unconfirmed(engine)
    await deliver(bot, library)
    await press(bot, EDITOR, f"ntc:no:{pub_id}")
    assert publication(library, pub_id).state is S.SCHEDULED
    assert await engine.publish_due() == 1


async def test_missed_publications_can_be_published_rescheduled_or_dropped(
    bot: BotHarness, library: Library, clock: ManualClock, engine: Engine, staff_chats: None
) -> None:
    now_id, later_id, drop_id = (queue(library, f"Post {i}", "news") for i in range(3))
    clock.advance(hours=2)  # Afisha was down
    with library.sessions.begin() as session:
        assert mark_missed(session, clock.now(), timedelta(minutes=15)) == 3
    received = await deliver(bot, library)
    assert len(received[EDITOR]) == 3
    assert BotHarness.buttons(received[EDITOR][0]) == [
        f"ntc:now:{now_id}",
        f"ntc:later:{now_id}",
        f"ntc:drop:{now_id}",
    ]

    await press(bot, EDITOR, f"ntc:now:{now_id}")
    await press(bot, EDITOR, f"ntc:drop:{drop_id}")
    ask = await press(bot, EDITOR, f"ntc:later:{later_id}")
    assert "2026-12-08 18:00" in str(ask["text"])
    (reply,) = await bot.send(EDITOR, "yesterday")
    assert "/cancel" in str(reply["text"])
    (reply,) = await bot.send(EDITOR, "2026-11-30 10:00")
    assert "/cancel" in str(reply["text"])  # in the past
    (reply,) = await bot.send(EDITOR, "2026-12-02 10:00")
    assert "2 gruodžio" in str(reply["text"])
    assert [publication(library, i).state for i in (now_id, later_id, drop_id)] == [
        S.SCHEDULED,
        S.SCHEDULED,
        S.CANCELLED,
    ]
    assert publication(library, later_id).due_at == START.replace(day=2, hour=5)
    assert await engine.publish_due() == 1


async def test_cancel_leaves_a_reschedule_unchanged(
    bot: BotHarness, library: Library, clock: ManualClock, staff_chats: None
) -> None:
    pub_id = queue(library, "Post", "news")
    clock.advance(hours=2)
    with library.sessions.begin() as session:
        mark_missed(session, clock.now(), timedelta(minutes=15))
    await deliver(bot, library)
    await press(bot, EDITOR, f"ntc:later:{pub_id}")
    (reply,) = await bot.send(EDITOR, "/cancel")
    assert publication(library, pub_id).state is S.MISSED


async def test_expired_access_reaches_admins_and_resume_sends_what_waited(
    bot: BotHarness, library: Library, sandbox: SandboxThread, engine: Engine, staff_chats: None
) -> None:
    token = sandbox.sandbox.fixtures.pages[0].access_token
    sandbox.call(lambda: sandbox.sandbox.fixtures.revoked_tokens.add(token))
    pub_id = queue(library, "For the Page", "fb")
    await engine.publish_due()
    assert publication(library, pub_id).state is S.PAUSED

    received = await deliver(bot, library)
    assert received[EDITOR] == received[MANAGER] == []
    (message,) = received[ADMIN]
    assert "fb" in str(message["text"])
    (data,) = BotHarness.buttons(message)
    assert data.startswith("chan:resume:")

    sandbox.call(lambda: sandbox.sandbox.fixtures.revoked_tokens.discard(token))
    done = await press(bot, ADMIN, data)
    assert "fb" in str(done["text"])
    with library.sessions() as session:
        fb = session.scalars(select(Channel).where(Channel.name == "fb")).one()
        assert fb.status is ChannelStatus.ACTIVE
    assert publication(library, pub_id).state is S.SCHEDULED
    assert await engine.publish_due() == 1
    assert publication(library, pub_id).state is S.SENT


async def test_an_editor_cannot_resume_a_channel(
    bot: BotHarness, library: Library, sandbox: SandboxThread, engine: Engine, staff_chats: None
) -> None:
    token = sandbox.sandbox.fixtures.pages[0].access_token
    sandbox.call(lambda: sandbox.sandbox.fixtures.revoked_tokens.add(token))
    queue(library, "For the Page", "fb")
    await engine.publish_due()
    received = await deliver(bot, library)
    (data,) = BotHarness.buttons(received[ADMIN][0])
    with pytest.raises(AssertionError):  # the button is not in the editor's chat at all
        await bot.press(EDITOR, data)


async def test_expiring_tokens_reach_admins_once(
    bot: BotHarness, library: Library, clock: ManualClock, staff_chats: None
) -> None:
    soon = clock.now() + timedelta(days=3)
    with library.sessions.begin() as session:
        fb = session.scalars(select(Channel).where(Channel.name == "fb")).one()
        assert record_check(session, fb, CredentialStatus(True, "ok", soon), clock.now())
        assert not record_check(session, fb, CredentialStatus(True, "ok", soon), clock.now())
    received = await deliver(bot, library)
    (message,) = received[ADMIN]
    assert "4 декабря" in str(message["text"])  # Aigerim reads Russian
    assert received[EDITOR] == received[MANAGER] == []


async def test_a_notice_waits_while_telegram_cannot_be_reached(
    bot: BotHarness, library: Library, sandbox: SandboxThread, clock: ManualClock, staff_chats: None
) -> None:
    with library.sessions.begin() as session:
        fb = session.scalars(select(Channel).where(Channel.name == "fb")).one()
        record_check(session, fb, CredentialStatus(False, "token revoked"), clock.now())
    fault(sandbox, "sendMessage", "5xx")
    assert await deliver_notices(bot.application.bot, library.services) == 0
    assert notices(library)[0].delivered_at is None
    assert await deliver_notices(bot.application.bot, library.services) == 1


async def test_the_weekly_digest_reaches_managers_on_monday_morning(
    bot: BotHarness, library: Library, clock: ManualClock, staff_chats: None
) -> None:
    queue(library, "Book fair", "news")
    clock.set(START.replace(day=7, hour=3))  # Monday 08:00 in Almaty
    assert not queue_weekly_digest(library.services)
    clock.advance(hours=1)
    assert queue_weekly_digest(library.services)
    assert not queue_weekly_digest(library.services)  # once a week
    received = await deliver(bot, library)
    (digest,) = received[MANAGER]
    (for_admin,) = received[ADMIN]  # managers and administrators read the digest
    assert received[EDITOR] == []
    assert "Апталық" in str(digest["text"])  # Marat reads Kazakh
    assert "Сводка за неделю" in str(for_admin["text"])  # Aigerim reads Russian
    clock.advance(days=7)
    assert queue_weekly_digest(library.services)


def test_digest_week_starts_on_monday_at_nine() -> None:
    from zoneinfo import ZoneInfo

    tz = ZoneInfo("Asia/Almaty")
    assert digest_week(START.replace(day=7, hour=3, minute=59), tz) is None
    assert digest_week(START.replace(day=7, hour=4), tz) == "2026-W50"
    assert digest_week(START.replace(day=13, hour=18), tz) == "2026-W50"  # Sunday 23:00
    assert digest_week(START.replace(day=13, hour=19), tz) is None  # Monday 00:00 next week
    assert NoticeKind.WEEKLY_DIGEST.value == "weekly_digest"


async def test_the_monthly_report_reaches_managers_once_as_a_pdf(
    library: Library, bot: BotHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    await bot.send(MANAGER, "/start")  # a bot may only write to people who started it
    clock = ManualClock(datetime(2026, 12, 1, 3, 0, tzinfo=UTC))  # 08:00 in Almaty: too early
    monkeypatch.setattr(library.services, "clock", clock)
    assert queue_monthly_report(library.services) == 0
    clock.advance(hours=2)
    assert queue_monthly_report(library.services) == 1
    assert queue_monthly_report(library.services) == 0  # once a month
    assert await deliver_notices(bot.application.bot, library.services) == 1
    message = [m for m in bot.history(MANAGER) if m["sender"] == "bot"][-1]
    assert message["document"]["file_name"] == "afisha-report-2026-11-kk.pdf"
    assert message["caption"].startswith("📊")
