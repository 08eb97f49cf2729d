"""A share through the real engine and channels: a member library's post published by the
engine, shared up, then the share published to the head's Telegram channel (copy or forward,
the real python-telegram-bot client) and Facebook Page (a link share) against the sandbox,
once, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from content.domain.callback_data import RemindMe
from content.domain.states import PublicationState, ShareMode
from content.queueing.network_posts import NetworkPost, queue_for_members
from content.queueing.scheduling import NewEvent, NewPost, add_event, queue_post
from content.queueing.sharing import ShareChoice, share_event, share_post
from content.storage.models import Attempt, Publication
from sandbox.graph_state import GraphState
from sandbox.runner import SandboxThread
from sandbox.telegram_state import telegram_state
from scheduler.clock import ManualClock
from scheduler.engine import Engine
from tests.support.network import EVENTS, GROUP, NEWS, Network, network, publisher, sandbox_tokens

START = datetime(2026, 12, 4, 6, 0, tzinfo=UTC)


@pytest.fixture
def net(database_url: str, tmp_path: Path, sandbox: SandboxThread) -> Iterator[Network]:
    with network(database_url, tmp_path, sandbox_tokens(sandbox)) as made:
        yield made


@pytest.fixture
async def engine(net: Network, sandbox: SandboxThread) -> AsyncIterator[Engine]:
    async with publisher(net, sandbox, ManualClock(START)) as made:
        yield made


def chat(sandbox: SandboxThread, chat_id: int) -> list[dict[str, Any]]:
    return sandbox.call(lambda: telegram_state(sandbox.sandbox).chat_history(chat_id))


def graph(sandbox: SandboxThread) -> GraphState:
    part = sandbox.sandbox.parts["graph"]
    assert isinstance(part, GraphState)
    return part


def publications(net: Network, post_id: int) -> list[Publication]:
    with net.sessions() as session:
        return list(
            session.scalars(
                select(Publication).where(Publication.post_id == post_id).order_by(Publication.id)
            )
        )


@pytest.mark.parametrize("mode", [ShareMode.COPY, ShareMode.FORWARD])
async def test_a_members_post_is_shared_up_by_the_engine_once(
    net: Network, engine: Engine, sandbox: SandboxThread, mode: ShareMode
) -> None:
    with net.transaction("District Library") as (session, org):
        new = NewPost("Puppet theatre on Sunday", ["district-tg", "district-fb"], START)
        post_id = queue_post(session, org, new, net.media_dir, "test").id
    assert await engine.publish_due() == 2
    [source_message] = chat(sandbox, NEWS)

    with net.transaction("District Library") as (session, org):
        choice = ShareChoice("Regional Library", telegram_mode=mode)
        shared_id = share_post(session, org, post_id, choice, START, "test").id
    assert await engine.publish_due() == 2
    assert await engine.publish_due() == 0  # nothing goes twice

    [shown] = chat(sandbox, EVENTS)
    assert shown["text"] == "Puppet theatre on Sunday"
    if mode is ShareMode.FORWARD:
        origin = shown["forward_origin"]
        assert (origin["chat"]["id"], origin["message_id"]) == (NEWS, source_message["message_id"])
    else:
        assert shown["forward_origin"] is None
    rows = publications(net, shared_id)
    assert {p.state for p in rows} == {PublicationState.SENT}
    telegram, facebook = sorted(rows, key=lambda p: p.channel.platform.value, reverse=True)
    assert telegram.remote_id == str(shown["message_id"])
    assert telegram.remote_url == f"https://t.me/library_events/{shown['message_id']}"
    [source_fb] = [p for p in publications(net, post_id) if p.channel.name == "district-fb"]
    page_post = sandbox.call(lambda: graph(sandbox).posts[str(facebook.remote_id)])
    assert page_post.page_id == "100200300400500"
    assert (page_post.link, page_post.parent_id) == (source_fb.remote_url, source_fb.remote_id)
    with net.sessions() as session:
        ids = [p.id for p in rows]
        attempts = session.scalars(select(Attempt).where(Attempt.publication_id.in_(ids))).all()
        assert sorted(a.outcome or "" for a in attempts) == ["sent", "sent"]
    # The ledger: the member's two posts and the head's two shares, each once.
    targets = sorted(i.target for i in sandbox.sandbox.ledger.items)
    assert targets == sorted([str(NEWS), str(EVENTS), "100200300400501", "100200300400500"])


async def test_a_source_deleted_before_the_share_goes_fails_it_without_a_retry(
    net: Network, engine: Engine, sandbox: SandboxThread
) -> None:
    with net.transaction("District Library") as (session, org):
        new = NewPost("Reading marathon", ["district-tg"], START)
        post_id = queue_post(session, org, new, net.media_dir, "test").id
    await engine.publish_due()
    with net.transaction("District Library") as (session, org):
        shared_id = share_post(
            session, org, post_id, ShareChoice("Regional Library"), START, "test"
        ).id
    state = telegram_state(sandbox.sandbox)
    sandbox.call(lambda: state.delete_message(state.history[NEWS][0]))

    await engine.publish_due()

    [share] = publications(net, shared_id)
    assert share.state is PublicationState.FAILED
    assert "no longer in its channel" in (share.last_error or "")
    assert chat(sandbox, EVENTS) == []


async def test_a_network_post_goes_out_in_each_member_librarys_language(
    net: Network, engine: Engine, sandbox: SandboxThread
) -> None:
    variants = {"ru": "Неделя книги", "lt": "Knygų savaitė"}
    with net.transaction("Regional Library") as (session, head):
        made = queue_for_members(
            session, head, NetworkPost("Book week", "now", variants=variants), net.media_dir,
            START, "test",
        )  # fmt: skip
    assert [m.organization.name for m in made] == ["District Library", "Village Library"]

    assert await engine.publish_due() == 3  # district-tg, district-fb, village-tg
    assert await engine.publish_due() == 0

    assert [m["text"] for m in chat(sandbox, NEWS)] == ["Неделя книги"]
    assert [m["text"] for m in chat(sandbox, GROUP)] == ["Knygų savaitė"]
    assert chat(sandbox, EVENTS) == []  # the head's own channels get nothing
    pages = sandbox.call(lambda: [p.message for p in graph(sandbox).posts.values()])
    assert pages == ["Неделя книги"]


@pytest.mark.parametrize("mode", [ShareMode.COPY, ShareMode.FORWARD])
async def test_a_copied_announcement_keeps_remind_me_a_forward_shows_the_original(
    net: Network, engine: Engine, sandbox: SandboxThread, mode: ShareMode
) -> None:
    with net.transaction("Village Library") as (session, org):
        new = NewEvent("Knygų mugė", START + timedelta(days=3), ["village-tg"], START, [])
        event_id = add_event(session, org, new, net.media_dir, START, "test").id
    await engine.publish_due()
    [announcement] = chat(sandbox, GROUP)
    assert RemindMe(event_id).pack() in str(announcement["buttons"])

    with net.transaction("Village Library") as (session, org):
        choice = ShareChoice("Regional Library", telegram_mode=mode)
        share_event(session, org, event_id, choice, START, "test")
    assert await engine.publish_due() == 1

    [shared] = chat(sandbox, EVENTS)
    assert shared["text"] == announcement["text"]
    buttons = [b.get("callback_data") for row in shared["buttons"] for b in row]
    if mode is ShareMode.COPY:
        # Followers of the head's channel ask for the member's event, in the channel's language.
        assert buttons == [RemindMe(event_id).pack()]
        assert shared["buttons"][0][0]["text"].startswith("🔔")
    else:
        assert buttons == []
        # The village posts in a group, where the bot itself is the message's author.
        origin = shared["forward_origin"]
        assert (origin["type"], origin["sender_user"]["is_bot"]) == ("user", True)
