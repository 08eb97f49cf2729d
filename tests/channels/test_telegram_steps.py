"""Telegram shares through the real python-telegram-bot client against the sandbox: a message of
one channel copied or forwarded into another, albums message by message, and the refusals."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from channels.base import AuthExpired, Outgoing, OutgoingImage, Rejected, ShareOf
from channels.telegram import TelegramBots, TelegramChannel
from content.domain.states import ShareMode
from sandbox.runner import SandboxThread
from sandbox.telegram_state import telegram_state
from tests.support.images import make_image

NEWS = -1001000000001  # a member library's channel (the bot is an administrator)
EVENTS = -1001000000002  # the network head's channel (the bot is an administrator)
CLOSED = -1001000000003  # a channel where the bot is not an administrator


def history(sandbox: SandboxThread, chat_id: int) -> list[dict[str, Any]]:
    return sandbox.call(lambda: telegram_state(sandbox.sandbox).chat_history(chat_id))


@pytest.fixture
async def channels(sandbox: SandboxThread) -> AsyncIterator[dict[str, TelegramChannel]]:
    bots = TelegramBots()
    token = sandbox.sandbox.fixtures.bot_token
    made = {
        "member": TelegramChannel(token, sandbox.base_url, NEWS, bots=bots),
        "head": TelegramChannel(token, sandbox.base_url, "@library_events", bots=bots),
        "closed": TelegramChannel(token, sandbox.base_url, CLOSED, bots=bots),
    }
    yield made
    for channel in made.values():
        await channel.close()


@pytest.mark.parametrize("mode", [ShareMode.COPY, ShareMode.FORWARD])
async def test_a_members_post_is_shared_into_the_heads_channel(
    channels: dict[str, TelegramChannel], sandbox: SandboxThread, mode: ShareMode
) -> None:
    source = await channels["member"].publish(Outgoing("Puppet theatre on Sunday"))
    share = ShareOf(mode, NEWS, tuple(source.extra["message_ids"]))

    published = await channels["head"].publish(Outgoing("", share=share))

    [shown] = history(sandbox, EVENTS)
    assert shown["text"] == "Puppet theatre on Sunday"
    assert published.remote_id == str(shown["message_id"])
    assert published.url == f"https://t.me/library_events/{shown['message_id']}"
    assert published.extra["message_ids"] == [shown["message_id"]]
    origin = shown["forward_origin"]
    if mode is ShareMode.FORWARD:
        assert (origin["chat"]["id"], origin["message_id"]) == (NEWS, int(source.remote_id))
    else:
        assert origin is None
    assert len(history(sandbox, NEWS)) == 1  # the source is untouched


async def test_an_album_is_shared_message_by_message_with_progress_saved(
    channels: dict[str, TelegramChannel], sandbox: SandboxThread, tmp_path: Path
) -> None:
    images = tuple(
        OutgoingImage(make_image(tmp_path / f"p{i}.jpg", (800, 600)), "image/jpeg", 800, 600)
        for i in range(3)
    )
    source = await channels["member"].publish(Outgoing("New books", images))
    saved: list[Mapping[str, Any]] = []

    async def checkpoint(progress: Mapping[str, Any]) -> None:
        saved.append(dict(progress))

    share = ShareOf(ShareMode.COPY, NEWS, tuple(source.extra["message_ids"]))
    published = await channels["head"].publish(Outgoing("", share=share), checkpoint)

    shown = history(sandbox, EVENTS)
    assert [m["caption"] for m in shown] == ["New books", None, None]
    assert published.extra["message_ids"] == [m["message_id"] for m in shown]
    assert saved[0]["message_ids"] == [shown[0]["message_id"]]


async def test_refusals_before_and_from_telegram(
    channels: dict[str, TelegramChannel], sandbox: SandboxThread
) -> None:
    source = await channels["member"].publish(Outgoing("Reading club"))
    head = channels["head"]
    with pytest.raises(Rejected, match="not share a link"):
        await head.publish(Outgoing("", share=ShareOf(ShareMode.LINK, permalink="https://x/")))
    with pytest.raises(Rejected, match="no Telegram message"):
        await head.publish(Outgoing("", share=ShareOf(ShareMode.COPY, NEWS, ())))
    # The source message is gone (deleted by hand): Telegram refuses, nothing is posted.
    gone = ShareOf(ShareMode.FORWARD, NEWS, (int(source.remote_id) + 40,))
    with pytest.raises(Rejected, match="no longer in its channel"):
        await head.publish(Outgoing("", share=gone))
    # The bot lost its rights in the target: the channel must be fixed.
    share = ShareOf(ShareMode.COPY, NEWS, (int(source.remote_id),))
    with pytest.raises(AuthExpired):
        await channels["closed"].publish(Outgoing("", share=share))
    assert history(sandbox, EVENTS) == []
