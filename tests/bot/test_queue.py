"""/queue: a page at a time, and each post viewed, moved, cancelled or sent out now — with the
real engine sending what is due against the sandbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from content.domain.states import PostStatus, PublicationState
from content.queueing.scheduling import NewPost, queue_post
from content.storage.models import Organization
from sandbox.runner import SandboxThread
from tests.bot.conftest import ADMIN, EDITOR, Library
from tests.bot.harness import BotHarness
from tests.bot.posting import (
    START,
    manual_clock,
    posts,
    press_and_read,
    publications,
    published,
    publisher,
    set_language,
    texts,
)

LATER = START + timedelta(days=2)


def queue(library: Library, text: str, due: datetime, channels: tuple[str, ...] = ("news",)) -> int:
    with library.sessions.begin() as session:
        org = session.scalars(select(Organization)).one()
        new = NewPost(text, list(channels), due)
        return queue_post(session, org, new, library.services.media_dir, "test").id


async def test_the_queue_is_paged_soonest_first(bot: BotHarness, library: Library) -> None:
    manual_clock(library)
    set_language(library, ADMIN, "en")
    ids = [queue(library, f"Post number {n}", LATER + timedelta(hours=7 - n)) for n in range(7)]
    (first,) = await bot.send(ADMIN, "/queue")
    assert "Posts in the queue: 7 (page 1 of 2)" in first["text"]
    soonest = list(reversed(ids))
    assert BotHarness.buttons(first) == [
        *[f"q:view:{i}:0" for i in soonest[:5]],
        "q:page:0",
        "q:page:1",
    ]
    second = await press_and_read(bot, ADMIN, "q:page:1")
    assert "page 2 of 2" in second["text"]
    assert "Post number 0" in second["text"]
    assert BotHarness.buttons(second) == [
        *[f"q:view:{i}:1" for i in soonest[5:]],
        "q:page:0",
        "q:page:1",
    ]
    back = await press_and_read(bot, ADMIN, "q:page:0")
    assert "page 1 of 2" in back["text"]


async def test_an_empty_queue_says_how_to_fill_it(bot: BotHarness, library: Library) -> None:
    (reply,) = await bot.send(EDITOR, "/queue")
    assert "/new" in reply["text"]
    (reply,) = await bot.send(EDITOR, "/drafts")
    assert "/new" in reply["text"]


async def test_a_post_is_viewed_and_rescheduled_then_sent_at_the_new_time(
    bot: BotHarness, library: Library, sandbox: SandboxThread
) -> None:
    clock = manual_clock(library)
    post_id = queue(library, "Move me", LATER, ("news", "fb"))
    await bot.send(ADMIN, "/queue")
    view = await press_and_read(bot, ADMIN, f"q:view:{post_id}:0")
    assert "Move me" in view["text"]
    assert "news" in view["text"]
    assert "fb" in view["text"]
    assert BotHarness.buttons(view) == [
        f"q:move:{post_id}",
        f"q:now:{post_id}",
        f"q:del:{post_id}",
        "q:page:0",
    ]
    (ask,) = await bot.press(ADMIN, f"q:move:{post_id}")
    assert "qt:tomorrow" in BotHarness.buttons(ask)
    (past,) = await bot.send(ADMIN, "вчера в 10")
    assert "qt:now" in BotHarness.buttons(past)  # refused, asked again
    (moved,) = await bot.send(ADMIN, "завтра в 12:00")
    assert "2 декабря, среда, 12:00" in moved["text"]
    new_time = datetime(2026, 12, 2, 7, 0, tzinfo=UTC)
    assert {p.due_at for p in publications(library)} == {new_time}
    async with publisher(library, sandbox, clock) as engine:
        clock.set(new_time - timedelta(minutes=1))
        assert await engine.publish_due() == 0
        clock.set(new_time)
        assert await engine.publish_due() == 2
    assert sorted(i.platform for i in published(sandbox)) == ["facebook", "telegram"]


async def test_cancel_during_reschedule_keeps_the_old_time(
    bot: BotHarness, library: Library
) -> None:
    manual_clock(library)
    post_id = queue(library, "Stay", LATER)
    await bot.send(ADMIN, "/queue")
    await bot.press(ADMIN, f"q:view:{post_id}:0")
    await bot.press(ADMIN, f"q:move:{post_id}")
    (cancelled,) = await bot.send(ADMIN, "/cancel")
    assert cancelled["text"]
    assert {p.due_at for p in publications(library)} == {LATER}


async def test_rescheduling_with_a_button(bot: BotHarness, library: Library) -> None:
    manual_clock(library)
    post_id = queue(library, "Tomorrow instead", LATER)
    await bot.send(EDITOR, "/queue")
    await bot.press(EDITOR, f"q:view:{post_id}:0")
    await bot.press(EDITOR, f"q:move:{post_id}")
    await bot.press(EDITOR, "qt:tomorrow")
    assert {p.due_at for p in publications(library)} == {datetime(2026, 12, 2, 5, 0, tzinfo=UTC)}


async def test_publish_now_sends_at_the_engines_next_look(
    bot: BotHarness, library: Library, sandbox: SandboxThread
) -> None:
    clock = manual_clock(library)
    set_language(library, ADMIN, "en")
    post_id = queue(library, "Right away", LATER)
    async with publisher(library, sandbox, clock) as engine:
        assert await engine.publish_due() == 0
        await bot.send(ADMIN, "/queue")
        await bot.press(ADMIN, f"q:view:{post_id}:0")
        done = await press_and_read(bot, ADMIN, f"q:now:{post_id}")
        assert "goes out now" in done["text"]
        assert await engine.publish_due() == 1
    (item,) = published(sandbox)
    assert item.text == "Right away"
    assert posts(library)[0].status is PostStatus.DONE


async def test_a_cancelled_post_never_goes_out(
    bot: BotHarness, library: Library, sandbox: SandboxThread
) -> None:
    clock = manual_clock(library)
    set_language(library, EDITOR, "en")
    post_id = queue(library, "Not after all", LATER)
    await bot.send(EDITOR, "/queue")
    await bot.press(EDITOR, f"q:view:{post_id}:0")
    ask = await press_and_read(bot, EDITOR, f"q:del:{post_id}")
    assert BotHarness.buttons(ask) == [f"q:delok:{post_id}", f"q:view:{post_id}:0"]
    done = await press_and_read(bot, EDITOR, f"q:delok:{post_id}")
    assert "cancelled" in done["text"]
    assert [p.state for p in publications(library)] == [PublicationState.CANCELLED]
    async with publisher(library, sandbox, clock) as engine:
        clock.set(LATER)
        assert await engine.publish_due() == 0
    assert published(sandbox) == []
    (empty,) = await bot.send(EDITOR, "/queue")
    assert "empty" in empty["text"]


async def test_buttons_of_a_post_that_went_out_change_nothing(
    bot: BotHarness, library: Library
) -> None:
    manual_clock(library)
    set_language(library, ADMIN, "en")
    post_id = queue(library, "Gone", LATER)
    await bot.send(ADMIN, "/queue")
    await bot.press(ADMIN, f"q:view:{post_id}:0")
    with library.sessions.begin() as session:
        from content.queueing.scheduling import cancel_post

        cancel_post(session, session.scalars(select(Organization)).one(), post_id, "cli")
    replies = await bot.press(ADMIN, f"q:now:{post_id}")
    assert "no longer waiting in the queue" in texts(replies)
    assert [p.state for p in publications(library)] == [PublicationState.CANCELLED]


async def test_rescheduling_keeps_an_unfinished_new_post_as_a_draft(
    bot: BotHarness, library: Library
) -> None:
    manual_clock(library)
    set_language(library, ADMIN, "en")
    post_id = queue(library, "Queued", LATER)
    await bot.send(ADMIN, "/queue")
    await bot.press(ADMIN, f"q:view:{post_id}:0")
    await bot.send(ADMIN, "/new Half written")
    replies = await bot.press(ADMIN, f"q:move:{post_id}")
    assert "kept as draft #2" in texts(replies)
    assert [(p.text, p.status) for p in posts(library)] == [
        ("Queued", PostStatus.QUEUED),
        ("Half written", PostStatus.DRAFT),
    ]
