"""/new through the real PTB Application against the sandbox: from text and photos to a
publication the engine sends at the chosen time, in four languages, across a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.app import build_application
from content.domain.states import PostStatus, PublicationState
from content.queueing.slots import add_slot
from content.storage.models import Media, Organization
from sandbox.runner import SandboxThread
from tests.bot.conftest import ADMIN, EDITOR, MANAGER, Library
from tests.bot.harness import BotHarness
from tests.bot.posting import (
    add_instagram,
    channel_id,
    jpeg,
    last_with_buttons,
    manual_clock,
    message_with,
    posts,
    press_and_read,
    publications,
    published,
    publisher,
    send_document,
    send_forwarded,
    set_language,
    texts,
)

NEXT_DAY_10 = datetime(2026, 12, 2, 5, 0, tzinfo=UTC)  # Wednesday 10:00 in Almaty


def buttons_of(bot: BotHarness, user: int) -> list[str]:
    """The buttons under the bot's newest message that has any (edits included)."""
    return BotHarness.buttons(last_with_buttons(bot.history(user)))


async def start_with_photo(bot: BotHarness, user: int, text: str, image: bytes) -> None:
    await bot.send(user, "/new")
    await bot.send(user, text)
    await bot.send_photo(user, image)


async def choose_channels(bot: BotHarness, library: Library, user: int, *names: str) -> None:
    for name in names:
        await bot.press(user, f"np:ch:{channel_id(library, name)}")
    await bot.press(user, "np:chok")


async def through_new(
    bot: BotHarness, library: Library, user: int, text: str, when: str, *names: str
) -> list[dict[str, Any]]:
    """A post with one photo for `names` at the typed time `when`; returns the replies to
    pressing the confirming button."""
    await start_with_photo(bot, user, text, jpeg())
    await bot.press(user, "np:next")
    await bot.press(user, "np:alt")  # no description for this photo
    await choose_channels(bot, library, user, *names)
    preview = await bot.send(user, when)
    assert "np:ok" in BotHarness.buttons(preview[-1]), texts(preview)
    return await bot.press(user, "np:ok")


async def test_a_post_with_a_photo_for_two_channels_is_queued_in_russian_and_sent_on_time(
    bot: BotHarness, library: Library, sandbox: SandboxThread
) -> None:
    clock = manual_clock(library)
    (prompt,) = await bot.send(ADMIN, "/new")
    assert "Отправьте текст публикации" in prompt["text"]
    await bot.send(ADMIN, "Книжная ярмарка в субботу!")
    (status,) = await bot.send_photo(ADMIN, jpeg())
    assert "Фото: 1 из 10" in status["text"]
    (alt_prompt,) = await bot.press(ADMIN, "np:next")
    assert alt_prompt["photo"] is not None  # the photo being described is shown
    (channels,) = await bot.send(ADMIN, "Афиша ярмарки: стенды с книгами")
    assert "Куда" in channels["text"]
    await choose_channels(bot, library, ADMIN, "news", "fb")
    photo, preview = await bot.send(ADMIN, "завтра в 10")
    assert photo["photo"] is not None
    assert "2 декабря, среда, 10:00" in preview["text"]
    assert "news · Telegram" in preview["text"]
    assert "fb · Facebook" in preview["text"]
    assert "публикация в ленте с 1 фото" in preview["text"]  # what Facebook will show
    (queued,) = await bot.press(ADMIN, "np:ok")
    assert "в очереди" in queued["text"]
    assert "2 декабря, среда, 10:00" in queued["text"]

    (listing,) = await bot.send(ADMIN, "/queue")
    assert "Книжная ярмарка в субботу!" in listing["text"]
    (post,) = posts(library)
    assert BotHarness.buttons(listing) == [f"q:view:{post.id}:0"]
    assert post.status is PostStatus.QUEUED
    assert post.author_id is not None
    with library.sessions() as session:
        (media,) = session.scalars(select(Media)).all()
        assert media.alt_text == "Афиша ярмарки: стенды с книгами"

    async with publisher(library, sandbox, clock) as engine:
        assert await engine.publish_due() == 0
        clock.set(NEXT_DAY_10)
        assert await engine.publish_due() == 2
    sent = sorted((i.platform, i.text, i.media_count) for i in published(sandbox))
    assert sent == [
        ("facebook", "Книжная ярмарка в субботу!", 1),
        ("telegram", "Книжная ярмарка в субботу!", 1),
    ]
    assert {p.state for p in publications(library)} == {PublicationState.SENT}


@pytest.mark.parametrize(
    ("user", "language", "when", "due", "queued_phrase"),
    [
        (MANAGER, "kk", "ертең 10:00", NEXT_DAY_10, "кезекте"),
        (EDITOR, "lt", "rytoj 10:00", NEXT_DAY_10, "eilėje"),
        # Friday 4 December 18:30 in Almaty.
        (ADMIN, "en", "next Friday 18:30", datetime(2026, 12, 4, 13, 30, tzinfo=UTC), "queued"),
    ],
)
async def test_the_same_flow_works_in_kazakh_lithuanian_and_english(
    bot: BotHarness,
    library: Library,
    sandbox: SandboxThread,
    user: int,
    language: str,
    when: str,
    due: datetime,
    queued_phrase: str,
) -> None:
    clock = manual_clock(library)
    set_language(library, user, language)
    (queued,) = await through_new(bot, library, user, f"Post in {language}", when, "news", "fb")
    assert queued_phrase in queued["text"]
    assert {p.due_at for p in publications(library)} == {due}
    async with publisher(library, sandbox, clock) as engine:
        clock.set(due - timedelta(minutes=1))
        assert await engine.publish_due() == 0
        clock.set(due)
        assert await engine.publish_due() == 2
    assert sorted(i.platform for i in published(sandbox)) == [
        "facebook",
        "telegram",
    ]


async def test_an_album_with_descriptions_and_a_language_version(
    bot: BotHarness, library: Library, sandbox: SandboxThread
) -> None:
    clock = manual_clock(library)
    set_language(library, ADMIN, "en")
    await bot.send(ADMIN, "/new")
    # An album arrives as one message per photo, the caption on the first.
    for shade, caption in enumerate(["Reading week", None, None]):
        await bot.send_photo(ADMIN, jpeg(colour=(shade * 60, 90, 160)), caption)
    (alt_prompt,) = await bot.press(ADMIN, "np:next")
    assert "Photo 1 of 3" in alt_prompt["caption"]
    (second,) = await bot.send(ADMIN, "Children reading")
    assert "Photo 2 of 3" in second["caption"]
    (channels,) = await bot.press(ADMIN, "np:altall")
    assert "Where should it go?" in channels["text"]
    await choose_channels(bot, library, ADMIN, "news")
    await bot.press(ADMIN, "nt:now")
    await bot.press(ADMIN, "np:langs")
    (ask,) = await bot.press(ADMIN, "np:lang:ru")
    assert "Русский" in ask["text"]
    _photo, preview = await bot.send(ADMIN, "Неделя чтения")
    assert "album of 3 photos" in preview["text"]
    assert "Language versions: Русский" in preview["text"]
    await bot.press(ADMIN, "np:ok")
    (post,) = posts(library)
    assert post.variants == {"ru": "Неделя чтения"}
    assert len(post.media) == 3
    assert [pm.media.alt_text for pm in post.media] == ["Children reading", None, None]
    async with publisher(library, sandbox, clock) as engine:
        assert await engine.publish_due() == 1
    (item,) = published(sandbox)
    assert (item.text, item.media_count) == ("Неделя чтения", 3)  # the channel speaks Russian


async def test_a_forwarded_message_becomes_the_text(bot: BotHarness, library: Library) -> None:
    manual_clock(library)
    set_language(library, ADMIN, "en")
    await bot.send(ADMIN, "/new")
    (status,) = await send_forwarded(bot, ADMIN, "Partner library: poetry night on Friday")
    assert "Text: 39 characters" in status["text"]
    await bot.press(ADMIN, "np:next")
    await choose_channels(bot, library, ADMIN, "news")
    await bot.press(ADMIN, "nt:tomorrow")
    await bot.press(ADMIN, "np:ok")
    (post,) = posts(library)
    assert post.text == "Partner library: poetry night on Friday"
    assert {p.due_at for p in publications(library)} == {NEXT_DAY_10}


async def test_a_restart_in_the_middle_of_new_resumes_the_draft(
    bot: BotHarness, library: Library, sandbox: SandboxThread
) -> None:
    manual_clock(library)
    await start_with_photo(bot, EDITOR, "Vasaros skaitymai", jpeg())
    await bot.press(EDITOR, "np:next")
    await bot.application.shutdown()  # the bot stops mid-conversation

    application = build_application(
        library.services, sandbox.sandbox.fixtures.bot_token, sandbox.base_url
    )
    await application.initialize()
    try:
        again = BotHarness(sandbox, application, offset=bot.offset, seen=dict(bot.seen))
        (channels,) = await again.send(EDITOR, "Vaikai skaito knygas")  # the awaited alt text
        assert "np:chok" in BotHarness.buttons(channels)
        await choose_channels(again, library, EDITOR, "news")
        await again.send(EDITOR, "rytoj 10:00")
        (queued,) = await again.press(EDITOR, "np:ok")
        assert "eilėje" in queued["text"]
    finally:
        await application.shutdown()
        await bot.application.initialize()  # the fixture shuts it down again
    (post,) = posts(library)
    assert post.text == "Vasaros skaitymai"
    assert [pm.media.alt_text for pm in post.media] == ["Vaikai skaito knygas"]


async def test_confirming_twice_queues_once(bot: BotHarness, library: Library) -> None:
    manual_clock(library)
    set_language(library, ADMIN, "en")
    await through_new(bot, library, ADMIN, "Once only", "tomorrow 10:00", "news")
    (again,) = await bot.press(ADMIN, "np:ok")
    assert "no longer open" in again["text"]
    assert len(posts(library)) == 1
    assert len(publications(library)) == 1


async def test_a_draft_is_saved_listed_opened_and_queued(bot: BotHarness, library: Library) -> None:
    manual_clock(library)
    set_language(library, ADMIN, "en")
    await start_with_photo(bot, ADMIN, "Draft about the new reading room", jpeg())
    await bot.press(ADMIN, "np:next")
    await bot.press(ADMIN, "np:altall")
    await choose_channels(bot, library, ADMIN, "fb")
    await bot.send(ADMIN, "tomorrow 10:00")
    (saved,) = await bot.press(ADMIN, "np:save")
    assert "Saved as draft #1" in saved["text"]
    (draft,) = posts(library)
    assert draft.status is PostStatus.DRAFT
    assert draft.planned_at == NEXT_DAY_10
    assert publications(library) == []  # nothing the engine could claim

    (listing,) = await bot.send(ADMIN, "/drafts")
    assert "Draft about the new reading room" in listing["text"]
    assert BotHarness.buttons(listing) == ["np:open:1", "d:del:1"]
    opened = await bot.press(ADMIN, "np:open:1")
    assert "np:ok" in BotHarness.buttons(opened[-1])  # complete: straight to its preview
    assert "fb · Facebook" in opened[-1]["text"]
    await bot.press(ADMIN, "np:ok")
    (post,) = posts(library)
    assert post.id == draft.id
    assert post.status is PostStatus.QUEUED
    assert len(post.media) == 1
    assert [(p.channel.name, p.due_at) for p in publications(library)] == [("fb", NEXT_DAY_10)]


async def test_a_draft_can_be_deleted(bot: BotHarness, library: Library) -> None:
    manual_clock(library)
    set_language(library, EDITOR, "en")
    await bot.send(EDITOR, "/new Just an idea")
    await bot.press(EDITOR, "np:save")
    await bot.send(EDITOR, "/drafts")
    await bot.press(EDITOR, "d:del:1")
    done = await press_and_read(bot, EDITOR, "d:delok:1")
    assert "deleted" in done["text"]
    (listing,) = await bot.send(EDITOR, "/drafts")
    assert "no drafts" in listing["text"]
    assert posts(library)[0].status is PostStatus.CANCELLED


# --- bad input is answered inside the conversation, with a way on --------------------------------


async def ready_for_time(bot: BotHarness, library: Library, user: int, text: str) -> None:
    await bot.send(user, f"/new {text}")
    await bot.press(user, "np:next")
    await choose_channels(bot, library, user, "news")


async def test_an_unreadable_or_past_time_is_refused_and_asked_again(
    bot: BotHarness, library: Library
) -> None:
    manual_clock(library)
    await ready_for_time(bot, library, ADMIN, "Лекция")
    (unreadable,) = await bot.send(ADMIN, "когда-нибудь в 10")
    assert "Не удаётся прочитать время" in unreadable["text"]
    assert "nt:tomorrow" in BotHarness.buttons(unreadable)
    (past,) = await bot.send(ADMIN, "вчера в 10")
    assert "в прошлом" in past["text"]
    assert "nt:now" in BotHarness.buttons(past)
    (no_hour,) = await bot.send(ADMIN, "завтра")
    assert "nt:now" in BotHarness.buttons(no_hour)
    _preview = await bot.send(ADMIN, "2026-12-03 12:00")
    assert "np:ok" in buttons_of(bot, ADMIN)


async def test_a_time_that_passed_before_confirming_is_asked_again(
    bot: BotHarness, library: Library
) -> None:
    clock = manual_clock(library)
    set_language(library, ADMIN, "en")
    await ready_for_time(bot, library, ADMIN, "Soon")
    await bot.send(ADMIN, "today 10:00")
    clock.set(datetime(2026, 12, 1, 6, 0, tzinfo=UTC))  # 11:00: the chosen time is gone
    replies = await bot.press(ADMIN, "np:ok")
    assert "has passed" in texts(replies)
    assert "nt:now" in BotHarness.buttons(replies[-1])
    assert posts(library) == []


async def test_text_too_long_for_a_channel_keeps_it_off(
    bot: BotHarness, library: Library, sandbox: SandboxThread
) -> None:
    manual_clock(library)
    add_instagram(library, sandbox)
    set_language(library, ADMIN, "en")
    await bot.send(ADMIN, "/new " + "word " * 1000)  # 5000 characters: too long for Instagram
    await bot.press(ADMIN, "np:next")
    replies = await bot.press(ADMIN, f"np:ch:{channel_id(library, 'ig')}")
    refusal = texts(replies)
    assert "ig: the caption length is 4999, over the Instagram limit of 2200" in refusal
    assert "So ig stays off" in refusal
    assert BotHarness.buttons(replies[-1]) == ["np:edit"]
    await bot.press(ADMIN, f"np:ch:{channel_id(library, 'fb')}")
    chosen = str(message_with(bot, ADMIN, "np:chok")["buttons"])
    assert "✅ fb · Facebook" in chosen
    assert "✅ ig" not in chosen


async def test_a_text_over_one_telegram_message_is_previewed_as_its_parts(
    bot: BotHarness, library: Library
) -> None:
    manual_clock(library)
    set_language(library, ADMIN, "en")
    await ready_for_time(bot, library, ADMIN, "word " * 1000)  # 4999 characters
    replies = await bot.send(ADMIN, "tomorrow 10:00")
    preview = texts(replies)
    assert "message (4094 characters)" in preview
    assert "message (904 characters)" in preview
    assert "it goes as 2 messages in order" in preview
    assert "np:ok" in BotHarness.buttons(replies[-1])


async def test_a_preview_that_no_longer_fits_offers_no_queue_button(
    bot: BotHarness, library: Library, sandbox: SandboxThread
) -> None:
    manual_clock(library)
    add_instagram(library, sandbox)
    set_language(library, ADMIN, "en")
    await bot.send(ADMIN, "/new Short")
    await bot.send_photo(ADMIN, jpeg((1080, 1080)))
    await bot.press(ADMIN, "np:next")
    await bot.press(ADMIN, "np:altall")
    await choose_channels(bot, library, ADMIN, "ig")
    await bot.send(ADMIN, "tomorrow 10:00")
    await bot.press(ADMIN, "np:edit")
    await bot.send(ADMIN, "long " * 1000)  # over Instagram's 2200
    replies = await bot.press(ADMIN, "np:next")
    if "np:altall" in BotHarness.buttons(replies[-1]):
        replies = await bot.press(ADMIN, "np:altall")
    preview = replies[-1]
    assert "⛔" in preview["text"]
    assert "np:ok" not in BotHarness.buttons(preview)


async def test_instagram_without_an_image_is_refused(
    bot: BotHarness, library: Library, sandbox: SandboxThread
) -> None:
    manual_clock(library)
    add_instagram(library, sandbox)
    set_language(library, ADMIN, "en")
    await bot.send(ADMIN, "/new Text only")
    await bot.press(ADMIN, "np:next")
    replies = await bot.press(ADMIN, f"np:ch:{channel_id(library, 'ig')}")
    assert "ig: Instagram needs at least one image" in texts(replies)
    await bot.press(ADMIN, "np:edit")
    await bot.send_photo(ADMIN, jpeg((1080, 1080)))
    await bot.press(ADMIN, "np:next")
    (channels,) = await bot.press(ADMIN, "np:altall")
    assert "np:chok" in BotHarness.buttons(channels)
    await bot.press(ADMIN, f"np:ch:{channel_id(library, 'ig')}")
    assert "✅ ig · Instagram" in str(message_with(bot, ADMIN, "np:chok")["buttons"])


async def test_a_file_that_is_not_an_image_is_refused(bot: BotHarness, library: Library) -> None:
    manual_clock(library)
    await bot.send(EDITOR, "/new Renginys")
    pdf = b"%PDF-1.4 not a picture"
    (refusal,) = await send_document(bot, EDITOR, pdf, "plan.pdf", "application/pdf")
    assert "plan.pdf" in refusal["text"]
    assert "np:next" in BotHarness.buttons(refusal)
    (status,) = await bot.send_photo(EDITOR, jpeg())  # the conversation goes on
    assert "1 iš 10" in status["text"]


async def test_an_image_sent_as_a_file_is_taken(bot: BotHarness, library: Library) -> None:
    manual_clock(library)
    set_language(library, EDITOR, "en")
    await bot.send(EDITOR, "/new Poster")
    (status,) = await send_document(bot, EDITOR, jpeg(), "poster.jpg", "image/jpeg")
    assert "Photos: 1 of up to 10" in status["text"]


async def test_an_album_over_ten_is_refused(bot: BotHarness, library: Library) -> None:
    manual_clock(library)
    set_language(library, ADMIN, "en")
    await bot.send(ADMIN, "/new Eleven photos")
    for shade in range(10):
        await bot.send_photo(ADMIN, jpeg(colour=(shade * 20, 0, 0)))
    (refusal,) = await bot.send_photo(ADMIN, jpeg(colour=(255, 255, 255)))
    assert "at most 10 photos" in refusal["text"]
    assert "np:next" in BotHarness.buttons(refusal)
    await bot.press(ADMIN, "np:next")
    await bot.press(ADMIN, "np:altall")
    await choose_channels(bot, library, ADMIN, "news")
    await bot.press(ADMIN, "nt:now")
    await bot.press(ADMIN, "np:ok")
    assert len(posts(library)[0].media) == 10


async def test_missing_text_and_missing_channels_are_asked_for(
    bot: BotHarness, library: Library
) -> None:
    manual_clock(library)
    set_language(library, ADMIN, "en")
    await bot.send(ADMIN, "/new")
    await bot.send_photo(ADMIN, jpeg())
    (no_text,) = await bot.press(ADMIN, "np:next")
    assert "no text yet" in no_text["text"]
    await bot.send(ADMIN, "Now with text")
    await bot.press(ADMIN, "np:next")
    await bot.press(ADMIN, "np:alt")
    (no_channel,) = await bot.press(ADMIN, "np:chok")
    assert "at least one channel" in no_channel["text"]


async def test_an_unknown_command_does_not_end_the_conversation(
    bot: BotHarness, library: Library
) -> None:
    manual_clock(library)
    set_language(library, ADMIN, "en")
    await bot.send(ADMIN, "/new")
    (unknown,) = await bot.send(ADMIN, "/frobnicate")
    assert "/frobnicate" in unknown["text"]
    (status,) = await bot.send(ADMIN, "Still here")
    assert "Text: 10 characters" in status["text"]


async def walk_to(bot: BotHarness, library: Library, step: str) -> None:
    """Bring ADMIN's /new to `step`."""
    await bot.send(ADMIN, "/new")
    if step == "content":
        return
    await bot.send(ADMIN, "Text")
    await bot.send_photo(ADMIN, jpeg())
    await bot.press(ADMIN, "np:next")
    if step == "alt":
        return
    await bot.press(ADMIN, "np:alt")
    if step == "channels":
        return
    await choose_channels(bot, library, ADMIN, "news")
    if step == "time":
        return
    if step == "pick":
        await bot.press(ADMIN, "nt:pick")
        return
    await bot.press(ADMIN, "nt:tomorrow")
    if step == "variant":
        await bot.press(ADMIN, "np:langs")
        await bot.press(ADMIN, "np:lang:kk")


@pytest.mark.parametrize(
    "step", ["content", "alt", "channels", "time", "pick", "preview", "variant"]
)
async def test_cancel_works_at_every_step(bot: BotHarness, library: Library, step: str) -> None:
    manual_clock(library)
    set_language(library, ADMIN, "en")
    await walk_to(bot, library, step)
    (cancelled,) = await bot.send(ADMIN, "/cancel")
    assert cancelled["text"] == "Cancelled. Nothing was saved."
    (idle,) = await bot.send(ADMIN, "tomorrow 10:00")
    assert "Send /new" in idle["text"]  # no conversation is waiting any more
    assert posts(library) == []


async def test_the_cancel_button_ends_the_conversation(bot: BotHarness, library: Library) -> None:
    manual_clock(library)
    set_language(library, ADMIN, "en")
    await walk_to(bot, library, "preview")
    (cancelled,) = await bot.press(ADMIN, "np:quit")
    assert cancelled["text"] == "Cancelled. Nothing was saved."
    assert posts(library) == []


async def test_the_next_free_posting_slot_is_a_time_choice(
    bot: BotHarness, library: Library
) -> None:
    manual_clock(library)  # START: Tuesday 2026-12-01, 09:00 in Almaty
    with library.sessions.begin() as session:
        org = session.scalars(select(Organization)).one()
        add_slot(session, org, "news", [3], 10 * 60, "test")  # Thursdays 10:00
    await start_with_photo(bot, ADMIN, "Читательский клуб", jpeg())
    await bot.press(ADMIN, "np:next")
    await bot.press(ADMIN, "np:alt")
    await choose_channels(bot, library, ADMIN, "news")
    assert "nt:slot" in buttons_of(bot, ADMIN)
    replies = await bot.press(ADMIN, "nt:slot")
    assert "np:ok" in BotHarness.buttons(replies[-1]), texts(replies)
    await bot.press(ADMIN, "np:ok")
    (publication,) = publications(library)
    assert publication.due_at == datetime(2026, 12, 3, 5, 0, tzinfo=UTC)  # Thursday 10:00 +05


async def test_another_command_in_the_middle_of_new_keeps_the_post_as_a_draft(
    bot: BotHarness, library: Library
) -> None:
    manual_clock(library)
    set_language(library, ADMIN, "en")
    await bot.send(ADMIN, "/new")
    await bot.send(ADMIN, "Half-written announcement")
    replies = await bot.send(ADMIN, "/queue")
    assert any("kept as draft" in m["text"] for m in replies), texts(replies)
    (draft,) = posts(library)
    assert draft.status is PostStatus.DRAFT
    assert draft.text == "Half-written announcement"
