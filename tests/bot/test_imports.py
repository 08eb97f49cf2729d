"""A content plan sent to the bot is imported as `afisha import` would, and only by staff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from content.domain.states import PostStatus
from content.plans.template import write_template
from content.storage.models import Event, Post
from tests.bot.conftest import ADMIN, EDITOR, MANAGER, STRANGER, Library
from tests.bot.harness import BotHarness
from tests.bot.posting import (
    message_with,
    posts,
    publications,
    require_approval,
    send_document,
    set_language,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def counts(library: Library) -> tuple[int, int]:
    with library.sessions() as session:
        posts = session.scalar(select(func.count()).select_from(Post))
        events = session.scalar(select(func.count()).select_from(Event))
    return int(posts or 0), int(events or 0)


async def test_the_template_sent_to_the_bot_is_imported_once(
    bot: BotHarness, library: Library
) -> None:
    await bot.send(EDITOR, "/start")
    plan = write_template("plan.xlsx", datetime.now(UTC).date() + timedelta(days=2), ["news", "fb"])
    replies = await send_document(bot, EDITOR, plan, "plan.xlsx", XLSX)
    assert counts(library) == (30, 5)
    assert "30" in replies[-1]["text"]
    again = await send_document(bot, EDITOR, plan, "plan.xlsx", XLSX)
    assert counts(library) == (30, 5)  # the same rows are not imported twice
    assert again[-1]["text"] != replies[-1]["text"]


async def test_a_plan_with_bad_rows_imports_nothing_and_names_them(
    bot: BotHarness, library: Library
) -> None:
    await bot.send(EDITOR, "/start")
    plan = (
        b"date,time,channels,text,kind\n"
        b"2030-01-10,10:00,news,Fine row,post\n"
        b"2030-01-11,25:00,news,Bad time,post\n"
        b"2030-01-12,10:00,nowhere,Bad channel,post\n"
    )
    replies = await send_document(bot, EDITOR, plan, "plan.csv", "text/csv")
    assert counts(library) == (0, 0)
    text = replies[-1]["text"]
    summary, first, second = text.splitlines()  # the summary and one line per problem (lt)
    assert summary.startswith("Eilučių su klaidomis: 2")
    assert "--partial" not in summary  # the command line's option means nothing in a chat
    assert summary.endswith("atsiųskite failą dar kartą")
    assert first.startswith("eilutė 3, stulpelis time")
    assert second.startswith("eilutė 4, stulpelis channels")


async def test_other_files_and_strangers_are_refused(bot: BotHarness, library: Library) -> None:
    await bot.send(EDITOR, "/start")
    await bot.send(STRANGER, "/start")
    (refusal,) = await send_document(bot, EDITOR, b"%PDF-1.4", "report.pdf", "application/pdf")
    assert "report.pdf" in refusal["text"]
    plan = write_template("plan.csv", datetime.now(UTC).date() + timedelta(days=2), ["news"])
    (stranger,) = await send_document(bot, STRANGER, plan, "plan.csv", "text/csv")
    assert str(STRANGER) in stranger["text"]
    assert counts(library) == (0, 0)


async def test_a_malformed_calendar_sent_to_the_bot_imports_nothing(
    bot: BotHarness, library: Library
) -> None:
    await bot.send(EDITOR, "/start")
    calendar = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1@x\r\n"
        b"SUMMARY:Reading\r\nDTSTART:notadate\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
    )
    replies = await send_document(bot, EDITOR, calendar, "events.ics", "text/calendar")
    assert counts(library) == (0, 0)
    summary, problem = replies[-1]["text"].splitlines()  # in Lithuanian, the editor's language
    assert summary.startswith("Eilučių su klaidomis: 1")
    assert problem.startswith("eilutė 1, stulpelis DTSTART, failo eilutė 7:")
    assert "'notadate'" in problem
    (cut,) = (await send_document(bot, EDITOR, calendar[:40], "cut.ics", "text/calendar"))[-1:]
    assert "BEGIN:VCALENDAR" in cut["text"]
    assert counts(library) == (0, 0)


async def test_an_editors_plan_waits_for_a_manager_when_approval_is_required(
    bot: BotHarness, library: Library
) -> None:
    require_approval(library)
    for user in (EDITOR, MANAGER, ADMIN):
        await bot.send(user, "/start")
    set_language(library, MANAGER, "en")
    plan = (
        b"date,time,channels,text,kind\n"
        b"2030-01-10,10:00,news,Reading club,post\n"
        b"2030-01-11,10:00,news,Poetry evening,post\n"
    )
    replies = await send_document(bot, EDITOR, plan, "plan.csv", "text/csv")
    assert counts(library) == (2, 0)
    assert [p.status for p in posts(library)] == [PostStatus.PENDING_APPROVAL] * 2
    assert publications(library) == []  # nothing an editor imported can go out by itself
    assert "vadovo patvirtinimo laukia įrašų: 2" in replies[-1]["text"]  # Lithuanian, hers

    first, second = (p.id for p in posts(library))
    asked = message_with(bot, MANAGER, f"ap:show:{first}")
    assert "Egle imported a plan: 2 post(s) wait for your approval" in asked["text"]
    assert BotHarness.buttons(asked) == [f"ap:show:{first}", f"ap:show:{second}"]
    assert message_with(bot, ADMIN, f"ap:show:{second}")  # every approver is asked

    (request,) = await bot.press(MANAGER, f"ap:show:{first}")
    assert "Reading club" in request["text"]
    assert "from Egle" in request["text"]
    await bot.press(MANAGER, f"ap:ok:{first}")
    assert [p.status for p in posts(library)] == [PostStatus.QUEUED, PostStatus.PENDING_APPROVAL]
    assert len(publications(library)) == 1


async def test_a_managers_plan_is_queued_at_once(bot: BotHarness, library: Library) -> None:
    require_approval(library)
    await bot.send(MANAGER, "/start")
    plan = b"date,time,channels,text,kind\n2030-01-10,10:00,news,Reading club,post\n"
    await send_document(bot, MANAGER, plan, "plan.csv", "text/csv")
    assert [p.status for p in posts(library)] == [PostStatus.QUEUED]
    assert len(publications(library)) == 1
