"""A content plan sent to the bot is imported as `afisha import` would, and only by staff."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from content.plans.template import write_template
from content.storage.models import Event, Post
from tests.bot.conftest import EDITOR, STRANGER, Library
from tests.bot.harness import BotHarness
from tests.bot.posting import send_document

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
