"""Approvals: an editor's post waits for a manager, goes out only after approval, and comes
back to its author with the reason when rejected."""

from __future__ import annotations

from datetime import UTC, datetime

from content.domain.states import PostStatus
from sandbox.runner import SandboxThread
from tests.bot.conftest import ADMIN, EDITOR, MANAGER, Library
from tests.bot.harness import BotHarness
from tests.bot.posting import (
    channel_id,
    jpeg,
    manual_clock,
    message_with,
    posts,
    press_and_read,
    publications,
    published,
    publisher,
    require_approval,
    set_language,
    texts,
)

NEXT_DAY_10 = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)


async def submit(bot: BotHarness, library: Library, user: int = EDITOR) -> list[dict[str, str]]:
    """`user` prepares a post with a photo for news and fb, tomorrow 10:00, and confirms.

    The approvers have started the bot before (Telegram lets a bot write only to such users).
    """
    for approver in (MANAGER, ADMIN):
        await bot.send(approver, "/start")
    await bot.send(user, "/new Skaitymų vakaras bibliotekoje")
    await bot.send_photo(user, jpeg())
    await bot.press(user, "np:next")
    await bot.press(user, "np:alt")
    for name in ("news", "fb"):
        await bot.press(user, f"np:ch:{channel_id(library, name)}")
    await bot.press(user, "np:chok")
    preview = await bot.press(user, "nt:tomorrow")
    assert "np:ok" in BotHarness.buttons(preview[-1])
    return await bot.press(user, "np:ok")


async def test_an_editors_post_goes_out_only_after_a_manager_approves_it(
    bot: BotHarness, library: Library, sandbox: SandboxThread
) -> None:
    clock = manual_clock(library)
    require_approval(library)
    (waiting,) = await submit(bot, library)
    assert "laukia vadovo patvirtinimo" in waiting["text"]  # Lithuanian: the editor's language
    (post,) = posts(library)
    assert post.status is PostStatus.PENDING_APPROVAL
    assert publications(library) == []

    ask = message_with(bot, MANAGER, f"ap:ok:{post.id}")
    assert "Skaitymų vakaras bibliotekoje" in ask["text"]
    assert BotHarness.buttons(ask) == [f"ap:ok:{post.id}", f"ap:no:{post.id}"]
    assert "Egle" in ask["text"]
    assert "fb, news" in ask["text"]
    photo = [m for m in bot.history(MANAGER) if m.get("photo")]
    assert len(photo) == 1  # the manager sees the picture too
    assert message_with(bot, ADMIN, f"ap:ok:{post.id}")  # every approver is asked

    async with publisher(library, sandbox, clock) as engine:
        clock.set(NEXT_DAY_10)
        assert await engine.publish_due() == 0  # unapproved: nothing to claim
        decided = await press_and_read(bot, MANAGER, f"ap:ok:{post.id}")
        assert BotHarness.buttons(decided) == []
        told = [m for m in bot.history(EDITOR) if "Marat" in (m.get("text") or "")]
        assert told
        assert "10:00" in told[-1]["text"]
        assert await engine.publish_due() == 2
    assert sorted(i.platform for i in published(sandbox)) == ["facebook", "telegram"]
    (post,) = posts(library)
    assert post.status is PostStatus.DONE
    assert post.reviewed_by is not None


async def test_a_rejected_post_returns_to_its_author_with_the_reason(
    bot: BotHarness, library: Library
) -> None:
    manual_clock(library)
    require_approval(library)
    set_language(library, EDITOR, "en")
    set_language(library, MANAGER, "en")
    await submit(bot, library)
    (post,) = posts(library)
    asked = message_with(bot, MANAGER, f"ap:no:{post.id}")["message_id"]
    (question,) = await bot.press(MANAGER, f"ap:no:{post.id}")
    assert "Why is post #1 returned?" in question["text"]
    await bot.send(MANAGER, "Please add the time of the event")
    (decided,) = [m for m in bot.history(MANAGER) if m["message_id"] == asked]
    assert "returned to its author" in decided["text"]
    assert BotHarness.buttons(decided) == []

    (post,) = posts(library)
    assert post.status is PostStatus.DRAFT
    assert post.review_note == "Please add the time of the event"
    note = message_with(bot, EDITOR, f"np:open:{post.id}")
    assert "Marat returned your post #1" in note["text"]
    assert "Please add the time of the event" in note["text"]

    opened = await bot.press(EDITOR, f"np:open:{post.id}")
    assert "Please add the time of the event" in texts(opened)
    await bot.press(EDITOR, "np:edit")
    await bot.send(EDITOR, "Skaitymų vakaras bibliotekoje, 18:00")
    (preview,) = [m for m in await bot.press(EDITOR, "np:next") if m.get("buttons")]
    assert BotHarness.buttons(preview)[0] == "np:ok"
    assert "Send for approval" in str(preview["buttons"])
    await bot.press(EDITOR, "np:ok")
    (post,) = posts(library)  # the same post, waiting again
    assert post.status is PostStatus.PENDING_APPROVAL
    assert post.text == "Skaitymų vakaras bibliotekoje, 18:00"
    assert post.review_note is None


async def test_the_second_manager_hears_it_was_already_decided(
    bot: BotHarness, library: Library
) -> None:
    manual_clock(library)
    require_approval(library)
    set_language(library, ADMIN, "en")
    await submit(bot, library)
    (post,) = posts(library)
    await bot.press(MANAGER, f"ap:ok:{post.id}")
    late = await press_and_read(bot, ADMIN, f"ap:ok:{post.id}")
    assert "already decided by Marat" in late["text"]
    assert len(publications(library)) == 2  # approved once, queued once


async def test_cancel_while_giving_a_reason_leaves_the_post_waiting(
    bot: BotHarness, library: Library
) -> None:
    manual_clock(library)
    require_approval(library)
    await submit(bot, library)
    (post,) = posts(library)
    await bot.press(MANAGER, f"ap:no:{post.id}")
    await bot.send(MANAGER, "/cancel")
    assert posts(library)[0].status is PostStatus.PENDING_APPROVAL
    assert message_with(bot, MANAGER, f"ap:ok:{post.id}")  # still there to decide


async def test_managers_and_organisations_without_approval_queue_directly(
    bot: BotHarness, library: Library
) -> None:
    manual_clock(library)
    await submit(bot, library)  # approval not required: the editor queues
    require_approval(library)
    await submit(bot, library, MANAGER)  # required, but a manager's own post needs none
    assert [p.status for p in posts(library)] == [PostStatus.QUEUED, PostStatus.QUEUED]
    assert len(publications(library)) == 4


async def test_an_editor_cannot_approve(bot: BotHarness, library: Library) -> None:
    manual_clock(library)
    require_approval(library)
    await submit(bot, library)
    (post,) = posts(library)
    target = message_with(bot, MANAGER, f"ap:ok:{post.id}")["message_id"]
    bot.server.call(lambda: bot.state.inject_callback(EDITOR, MANAGER, target, f"ap:ok:{post.id}"))
    await bot._process()
    assert posts(library)[0].status is PostStatus.PENDING_APPROVAL
