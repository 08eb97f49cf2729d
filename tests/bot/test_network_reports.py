"""The digest and the monthly report per library, and the network report for a head's managers,
through the real PTB client against the sandbox, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from bot.app import build_application
from bot.flows.network import NetworkReportFile
from bot.notify import deliver_notices, queue_monthly_report, queue_weekly_digest
from bot.services import BotServices
from channels.download import download_image
from content.storage.db import make_engine, upgrade
from sandbox.runner import SandboxThread
from scheduler.clock import ManualClock
from tests.bot.harness import BotHarness
from tests.bot.test_buttons import press_forged
from tests.content.analytics.network_seed import (
    HEAD,
    HEAD_EDITOR,
    HEAD_MANAGER,
    KK,
    KK_ADMIN,
    KK_MANAGER,
    LT,
    LT_MANAGER,
    Network,
    seed_network,
)

PEOPLE = (HEAD_MANAGER, HEAD_EDITOR, LT_MANAGER, KK_MANAGER, KK_ADMIN)
# 1 December, 10:00 in Vilnius and 13:00 in Almaty: every library's monthly report is due.
DECEMBER_FIRST = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def net(database_url: str) -> Iterator[Network]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield seed_network(engine, database_url)
    engine.dispose()


@pytest.fixture
def services(net: Network, tmp_path: Path) -> BotServices:
    clock = ManualClock(DECEMBER_FIRST)
    return BotServices(net.sessions, clock, tmp_path / "media", "en", fetch_image=download_image)


@pytest.fixture
async def bot(services: BotServices, sandbox: SandboxThread) -> AsyncIterator[BotHarness]:
    application = build_application(services, sandbox.sandbox.fixtures.bot_token, sandbox.base_url)
    await application.initialize()
    try:
        harness = BotHarness(sandbox, application)
        for person in PEOPLE:  # a bot may write only to people who started it
            await harness.send(person, "/start")
        yield harness
    finally:
        await application.shutdown()


async def received(bot: BotHarness, services: BotServices) -> dict[int, list[dict[str, Any]]]:
    for person in PEOPLE:
        bot._new_bot_messages(person)
    await deliver_notices(bot.application.bot, services)
    return {person: bot._new_bot_messages(person) for person in PEOPLE}


async def contents(bot: BotHarness, message: dict[str, Any]) -> bytes:
    """The file a message carries, downloaded as a person's client would."""
    found = await bot.application.bot.get_file(message["document"]["file_id"])
    return bytes(await found.download_as_bytearray())


async def test_each_library_s_managers_get_its_own_monthly_report_and_the_head_s_the_network(
    bot: BotHarness, services: BotServices
) -> None:
    # The head, the Lithuanian and the Kazakh library have managers; the village library none.
    assert queue_monthly_report(services) == 3
    assert queue_monthly_report(services) == 0  # once a month
    got = await received(bot, services)
    names = {p: [m["document"]["file_name"] for m in got[p]] for p in PEOPLE}
    assert names[HEAD_MANAGER] == ["afisha-report-2026-11-ru.pdf", "afisha-network-2026-11-ru.pdf"]
    assert names[HEAD_EDITOR] == []  # editors get no reports
    assert names[LT_MANAGER] == ["afisha-report-2026-11-lt.pdf"]
    # The Kazakh district library heads its village library: a network of its own.
    assert names[KK_MANAGER] == ["afisha-report-2026-11-kk.pdf", "afisha-network-2026-11-kk.pdf"]
    # In the admin's language.
    assert names[KK_ADMIN] == ["afisha-report-2026-11-ru.pdf", "afisha-network-2026-11-ru.pdf"]
    assert LT in got[LT_MANAGER][0]["caption"]
    assert "mėnesio ataskaita" in got[LT_MANAGER][0]["caption"]
    assert KK in got[KK_MANAGER][0]["caption"]
    assert "айлық есебі" in got[KK_MANAGER][0]["caption"]
    assert "отчёт по сети" in got[HEAD_MANAGER][1]["caption"]
    for person in (HEAD_MANAGER, LT_MANAGER, KK_MANAGER):
        assert (await contents(bot, got[person][0])).startswith(b"%PDF")


async def test_the_digest_goes_out_per_library_at_nine_in_its_own_zone(
    bot: BotHarness, services: BotServices
) -> None:
    clock = services.clock
    assert isinstance(clock, ManualClock)
    clock.set(datetime(2026, 12, 7, 5, 0, tzinfo=UTC))  # Monday 07:00 Vilnius, 10:00 Almaty
    assert queue_weekly_digest(services) == 1  # the Kazakh library only
    got = await received(bot, services)
    assert [len(got[p]) for p in PEOPLE] == [0, 0, 0, 1, 1]
    kazakh = got[KK_MANAGER][0]["text"]
    assert kazakh.startswith(f"📊 Апталық шолу: {KK}")
    assert "telegram-2" in kazakh  # its own channels ...
    assert "telegram-1" not in kazakh  # ... and no other library's
    assert "telegram-0" not in kazakh
    clock.set(datetime(2026, 12, 7, 7, 30, tzinfo=UTC))  # 09:30 in Vilnius
    assert queue_weekly_digest(services) == 2  # the head and the Lithuanian library
    assert queue_weekly_digest(services) == 0  # once a week each
    got = await received(bot, services)
    lithuanian = got[LT_MANAGER][0]["text"]
    assert lithuanian.startswith(f"📊 Savaitės apžvalga: {LT}")
    assert "telegram-1" in lithuanian
    assert "telegram-2" not in lithuanian
    assert HEAD in got[HEAD_MANAGER][0]["text"]
    assert got[KK_MANAGER] == []


async def test_report_offers_a_head_s_manager_the_network_report_in_three_formats(
    bot: BotHarness,
) -> None:
    (reply,) = await bot.send(HEAD_MANAGER, "/report 2026-11")
    assert reply["document"]["file_name"] == "afisha-report-2026-11-ru.pdf"
    buttons = bot.buttons(reply)
    head_id = NetworkReportFile.unpack(buttons[0]).organization_id
    assert buttons == [NetworkReportFile(head_id, 202611, f).pack() for f in ("pdf", "xlsx", "csv")]
    (csv_file,) = await bot.press(HEAD_MANAGER, buttons[2])
    assert csv_file["document"]["file_name"] == "afisha-network-2026-11-ru.csv"
    rows = list(csv.DictReader(io.StringIO((await contents(bot, csv_file)).decode("utf-8-sig"))))
    assert [r["library"] for r in rows] == [HEAD, LT, KK, "Ауылдық кітапхана", "Вся сеть"]
    (xlsx_file,) = await bot.press(HEAD_MANAGER, buttons[1])
    book = load_workbook(io.BytesIO(await contents(bot, xlsx_file)))
    assert book.sheetnames == ["Итоги", "Библиотеки", "Лучшие публикации"]
    (typed,) = await bot.send(HEAD_MANAGER, "/report network 2026-10 pdf")
    assert typed["document"]["file_name"] == "afisha-network-2026-10-ru.pdf"


async def test_no_network_report_for_a_member_s_manager_nor_a_forged_button(
    bot: BotHarness, net: Network
) -> None:
    # Dana manages the Kazakh member library, not the head: refused, in Kazakh, no file.
    (refused,) = await bot.send(KK_MANAGER, "/report network 2026-11")
    assert not refused.get("document")
    assert HEAD in refused["text"]
    assert "басшылары" in refused["text"]
    # A button with the head's id, made up by hand, is refused the same way.
    head_reply = (await bot.send(HEAD_MANAGER, "/report 2026-11"))[0]
    forged = bot.buttons(head_reply)[0]
    replies = await press_forged(bot, KK_MANAGER, forged)
    assert replies
    assert not any(m.get("document") for m in replies)
    assert "басшылары" in replies[-1]["text"]
    # A forged button for a library with no members is refused too.
    with net.sessions() as session:
        lt_id = net.org(session, LT).id
    replies = await press_forged(bot, LT_MANAGER, NetworkReportFile(lt_id, 202611, "pdf").pack())
    assert not any(m.get("document") for m in replies)
    assert "neturi narių bibliotekų" in replies[-1]["text"]
    # A month that does not exist is a stale button, nothing more.
    with net.sessions() as session:
        head_id = net.org(session, HEAD).id
    replies = await press_forged(
        bot, HEAD_MANAGER, NetworkReportFile(head_id, 202613, "pdf").pack()
    )
    assert replies == []
    # An editor of the head has no /report at all.
    (editor,) = await bot.send(HEAD_EDITOR, "/report network 2026-11")
    assert not editor.get("document")
