"""The events of the month in the monthly report, read back from the XLSX and the CSV: held,
moved, cancelled, reminder requests and the reach of each event's announcement and reminders.
Two libraries in different zones whose events differ: each report holds only its own."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from bot.reports.files import monthly_events_file, monthly_report_file
from content.analytics.events import CSV_COLUMNS
from content.analytics.latest import record_snapshot
from content.analytics.report import ReportFormat
from content.domain.states import Platform, PublicationKind, PublicationState
from content.i18n import translate
from content.queueing.event_changes import cancel_event_with_notice
from content.queueing.rescheduling import reschedule_event
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import Event, EventSubscription, Organization, Publication
from content.storage.registry import add_channel
from content.storage.secrets import CredentialCipher, generate_key

MONTH = date(2026, 11, 1)
PLANNED = datetime(2026, 10, 20, 9, 0, tzinfo=UTC)  # when the events were made and moved
NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)  # the report is made before the month's end
VILNIUS, ALMATY = ZoneInfo("Europe/Vilnius"), ZoneInfo("Asia/Almaty")


def at(tz: ZoneInfo, day: int, hour: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=tz).astimezone(UTC)


def _event(
    session: Session, org: Organization, channel: int, title: str, starts: datetime, reach: int
) -> Event:
    """An event whose announcement (9 days before) and reminder (1 day before) were sent and
    reached `reach` and `reach // 2` people."""
    event = Event(
        organization_id=org.id, title=title, starts_at=starts, place="Hall", language="lt"
    )
    session.add(event)
    session.flush()
    for kind, before, seen in (
        (PublicationKind.ANNOUNCEMENT, timedelta(days=9), reach),
        (PublicationKind.REMINDER, timedelta(days=1), reach // 2),
    ):
        sent = starts - before
        pub = Publication(
            kind=kind,
            event_id=event.id,
            channel_id=channel,
            due_at=sent,
            state=PublicationState.SENT,
            sent_at=sent,
            remote_id=f"{event.id}-{kind.value}",
        )
        session.add(pub)
        session.flush()
        record_snapshot(session, pub, sent + timedelta(hours=6), source="test", reach=seen)
    return event


def _ask(session: Session, event: Event, count: int) -> None:
    for n in range(count):
        session.add(EventSubscription(event_id=event.id, telegram_user_id=800000000 + n))


def _seed(sessions: sessionmaker[Session]) -> dict[str, int]:
    cipher = CredentialCipher(generate_key())
    with sessions.begin() as session:
        orgs, channels = {}, {}
        for name, tz, lang, platform, external in (
            ("Vilnius Library", VILNIUS, "lt", Platform.FACEBOOK, "100200300400500"),
            ("Almaty Library", ALMATY, "kk", Platform.INSTAGRAM, "17841400000000001"),
        ):
            org = Organization(name=name, timezone=tz.key, language=lang)
            session.add(org)
            session.flush()
            channel = add_channel(
                session,
                org,
                cipher,
                name=f"{lang}-page",
                platform=platform,
                external_id=external,
                token="t0ken-for-tests",
                language=None,
                actor="test",
            )
            orgs[name] = org
            channels[name] = channel.id
        vilnius, almaty = orgs["Vilnius Library"], orgs["Almaty Library"]
        v_channel, a_channel = channels["Vilnius Library"], channels["Almaty Library"]
        # Vilnius: one held as planned, one moved (and held), one cancelled, one still to come,
        # one in October (not this month's).
        held = _event(session, vilnius, v_channel, "Poetry night", at(VILNIUS, 5, 18), 400)
        _ask(session, held, 3)
        moved = _event(session, vilnius, v_channel, "Chess evening", at(VILNIUS, 10, 17), 300)
        reschedule_event(session, vilnius, moved.id, at(VILNIUS, 12, 17), now=PLANNED, actor="test")
        _ask(session, moved, 2)
        off = _event(session, vilnius, v_channel, "Book fair", at(VILNIUS, 15, 12), 100)
        cancel_event_with_notice(session, vilnius, off.id, notify=False, now=PLANNED, actor="t")
        _ask(session, off, 1)
        _event(session, vilnius, v_channel, "Film club", at(VILNIUS, 28, 19), 50)
        _event(session, vilnius, v_channel, "October talk", at(VILNIUS, 20, 18, month=10), 999)
        # Almaty: a single held event; its midnight start is still November locally (but
        # October 31 in UTC).
        lesson = _event(session, almaty, a_channel, "Library lesson", at(ALMATY, 1, 0), 250)
        _ask(session, lesson, 4)
        return {name: org.id for name, org in orgs.items()}


@pytest.fixture
def libraries(database_url: str) -> Iterator[tuple[sessionmaker[Session], dict[str, int]]]:
    engine = make_engine(database_url)
    upgrade(engine)
    sessions = session_factory(engine)
    try:
        yield sessions, _seed(sessions)
    finally:
        engine.dispose()


def _xlsx_rows(
    sessions: sessionmaker[Session], org_id: int, lang: str
) -> tuple[dict[str, object], list[tuple[object, ...]]]:
    with sessions() as session:
        org = session.get_one(Organization, org_id)
        _name, contents = monthly_report_file(session, org, MONTH, NOW, ReportFormat.XLSX, lang)
    book = load_workbook(io.BytesIO(contents))
    totals_sheet = book[translate(lang, "Events in numbers")]
    totals = {str(r[0]): r[1] for r in totals_sheet.iter_rows(min_row=2, values_only=True) if r}
    rows = list(book[translate(lang, "Events of the month")].iter_rows(min_row=2, values_only=True))
    return totals, rows


def test_xlsx_holds_each_librarys_own_events(
    libraries: tuple[sessionmaker[Session], dict[str, int]],
) -> None:
    sessions, orgs = libraries
    t = translate
    totals, rows = _xlsx_rows(sessions, orgs["Vilnius Library"], "lt")
    assert totals[t("lt", "Events held")] == 2
    assert totals[t("lt", "Events moved")] == 1
    assert totals[t("lt", "Events cancelled")] == 1
    assert totals[t("lt", "Events still to come")] == 1
    assert totals[t("lt", "Total attendance")] == "n/d"  # not recorded: never 0
    assert totals[t("lt", "Reminder requests")] == 6
    assert [(r[0], r[2], r[3], r[4], r[5], r[6], r[7]) for r in rows] == [
        (datetime(2026, 11, 5, 18), "Poetry night", t("lt", "Held"), "n/d", 3, 400, 200),
        (
            datetime(2026, 11, 12, 17),
            "Chess evening",
            f"{t('lt', 'Held')}, {t('lt', 'moved')}",
            "n/d",
            2,
            300,
            150,
        ),
        (datetime(2026, 11, 15, 12), "Book fair", t("lt", "Cancelled"), "n/d", 1, 100, 50),
        (datetime(2026, 11, 28, 19), "Film club", t("lt", "Still to come"), "n/d", 0, 50, 25),
    ]
    assert all(r[1] == "Hall" for r in rows)

    totals, rows = _xlsx_rows(sessions, orgs["Almaty Library"], "kk")
    assert totals[translate("kk", "Events held")] == 1
    assert totals[translate("kk", "Reminder requests")] == 4
    assert [(r[0], r[2], r[5], r[6]) for r in rows] == [
        (datetime(2026, 11, 1, 0), "Library lesson", 4, 250)
    ]


def test_csv_of_events_beside_the_raw_export(
    libraries: tuple[sessionmaker[Session], dict[str, int]],
) -> None:
    sessions, orgs = libraries
    with sessions() as session:
        vilnius = session.get_one(Organization, orgs["Vilnius Library"])
        almaty = session.get_one(Organization, orgs["Almaty Library"])
        name, contents = monthly_events_file(session, vilnius, MONTH, NOW, "ru")
        _other, almaty_contents = monthly_events_file(session, almaty, MONTH, NOW, "ru")
    assert name == "afisha-events-2026-11-ru.csv"
    assert contents.startswith("\ufeff".encode())
    header, *rows = list(csv.reader(io.StringIO(contents.decode("utf-8-sig"))))
    assert tuple(header) == CSV_COLUMNS
    assert [(r[1], r[3], r[5], r[6], r[7], r[8], r[9], r[10]) for r in rows] == [
        ("2026-11-05 18:00", "Poetry night", "held", "no", "н/д", "3", "400", "200"),
        ("2026-11-12 17:00", "Chess evening", "held", "yes", "н/д", "2", "300", "150"),
        ("2026-11-15 12:00", "Book fair", "cancelled", "no", "н/д", "1", "100", "50"),
        ("2026-11-28 19:00", "Film club", "upcoming", "no", "н/д", "0", "50", "25"),
    ]
    assert {r[2] for r in rows} == {"Europe/Vilnius"}
    header, *rows = list(csv.reader(io.StringIO(almaty_contents.decode("utf-8-sig"))))
    assert [(r[1], r[2], r[3], r[8]) for r in rows] == [
        ("2026-11-01 00:00", "Asia/Almaty", "Library lesson", "4")
    ]
