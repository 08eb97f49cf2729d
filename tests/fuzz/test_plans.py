"""Plan reading: csv, xlsx and ics bytes, the row checks, and importing into a real database."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.utils.exceptions import IllegalCharacterError
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from channels.download import download_image
from content.domain.states import Platform
from content.errors import InvalidInput
from content.plans.ical import read_calendar
from content.plans.importing import import_plan
from content.plans.reading import read_csv, read_sheet, read_xlsx
from content.plans.validation import COLUMNS, Context, check_sheet
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import Event, ImportRow, Post, Publication
from content.storage.registry import add_channel, ensure_organization
from content.storage.secrets import CredentialCipher, generate_key
from tests.fuzz import batch, budget, ran

NOW = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Vilnius")


def _no_images(reference: str) -> Path:
    raise InvalidInput("no image {image!r} in a fuzzed plan", image=reference)


CONTEXT = Context(TZ, NOW, {"news", "kz"}, "lt", _no_images)

CELLS = st.one_of(
    st.text(max_size=30),
    st.sampled_from(
        [
            "post",
            "event",
            "2030-06-04",
            "2027-03-28",
            "31.12.2030",
            "10:00",
            "03:30",
            "25:61",
            "news",
            "news,kz",
            "nowhere",
            "=1+2",
            "@SUM(1)",
            "+cmd|' /C calc'!A0",
            "-1",
            "7d,1d",
            "99999w",
            "https://library.example/e",
            "javascript:alert(1)",
            "ru",
            "xx",
            "\ufeff",
            "",
        ]
    ),
)
HEADERS = st.lists(st.one_of(st.sampled_from(COLUMNS), st.text(max_size=8)), min_size=1, max_size=8)


@st.composite
def tables(draw: st.DrawFn) -> list[list[str]]:
    headers = draw(HEADERS)
    rows = draw(st.lists(st.lists(CELLS, min_size=len(headers), max_size=len(headers)), max_size=6))
    return [headers, *rows]


def _csv(table: list[list[str]], delimiter: str, bom: bool) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter).writerows(table)
    return (b"\xef\xbb\xbf" if bom else b"") + buffer.getvalue().encode("utf-8", "surrogatepass")


CSV_FILES = st.one_of(
    st.binary(max_size=300),
    st.builds(_csv, tables(), st.sampled_from([",", ";", "\t"]), st.booleans()),
)


@budget(1_500, 20)
@given(files=batch(CSV_FILES, 20))
def test_a_csv_plan_is_read_and_checked(files: list[bytes]) -> None:
    for data in files:
        ran("plans.read_csv+check_sheet")
        _read_and_check(data)


def _read_and_check(data: bytes) -> None:
    try:
        sheet = read_csv(data)
    except InvalidInput:
        return
    checked = check_sheet(sheet, CONTEXT)
    for error in checked.errors:
        assert error.explain("ru")


def _xlsx(table: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in table:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


@budget(1_000, 5)
@given(table=tables())
def test_an_xlsx_plan_is_read_and_checked(table: list[list[str]]) -> None:
    ran("plans.read_xlsx+check_sheet")
    try:
        data = _xlsx(table)
    except IllegalCharacterError:
        return  # openpyxl will not write control characters: no such workbook exists
    try:
        sheet = read_xlsx(data)
    except InvalidInput:
        return
    check_sheet(sheet, CONTEXT)


NAMES = st.sampled_from(["plan.xlsx", "plan.csv", "p.txt"])


@budget(1_200, 20)
@given(files=batch(st.tuples(st.binary(max_size=200), NAMES)))
def test_any_bytes_as_a_plan(files: list[tuple[bytes, str]]) -> None:
    for data, name in files:
        ran("plans.read_sheet(bytes)")
        try:
            read_sheet(data, name)
        except InvalidInput:
            continue


DATES = st.one_of(
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)).map(
        lambda d: d.strftime("%Y%m%dT%H%M%S")
    ),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)).map(
        lambda d: f"VALUE=DATE:{d.strftime('%Y%m%d')}"
    ),
    st.datetimes(min_value=datetime(1900, 1, 1), max_value=datetime(2100, 1, 1)).map(
        lambda d: d.strftime("%Y%m%dT%H%M%SZ")
    ),
)
PROPERTY_TEXT = st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=30)


def _property(name: str, value: str) -> str:
    return f"{name};{value}" if value.startswith("VALUE=") else f"{name}:{value}"


@st.composite
def calendars(draw: st.DrawFn, dates: st.SearchStrategy[str]) -> bytes:
    lines = ["BEGIN:VCALENDAR"]
    if draw(st.booleans()):
        lines.append("VERSION:2.0")
    for _ in range(draw(st.integers(0, 3))):
        lines.append("BEGIN:VEVENT")
        for name, values in (
            ("UID", PROPERTY_TEXT),
            ("SUMMARY", PROPERTY_TEXT),
            ("DTSTART", dates),
            ("DTEND", dates),
            ("DURATION", st.sampled_from(["PT1H", "P1D", "-PT1H", "PT0S"])),
            ("LOCATION", PROPERTY_TEXT),
            ("STATUS", st.sampled_from(["CANCELLED", "CONFIRMED"])),
            ("RRULE", st.just("FREQ=WEEKLY")),
            ("URL", PROPERTY_TEXT),
        ):
            if draw(st.booleans()):
                lines.append(_property(name, draw(values)))
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def _read_calendar(data: bytes) -> None:
    try:
        events, errors = read_calendar(data, TZ)
    except InvalidInput:
        return
    for event in events:
        assert event.starts_at.tzinfo is not None
    for error in errors:
        assert error.explain("kk")


@budget(1_000, 20)
@given(files=batch(calendars(DATES), 10))
def test_a_calendar_with_valid_dates_is_read(files: list[bytes]) -> None:
    for data in files:
        ran("ical.read_calendar")
        _read_calendar(data)


@budget(20_000, 30)
@given(data=st.one_of(st.binary(max_size=200), calendars(st.one_of(DATES, PROPERTY_TEXT))))
@example(
    data=b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:a@b\r\nDTSTART:notadate\r\n"
    b"SUMMARY:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
def test_a_calendar_with_any_dates_is_read(data: bytes) -> None:
    ran("ical.read_calendar(any dates)")
    _read_calendar(data)


# --- importing into a real database: a refused plan writes nothing -------------------------------


@pytest.fixture(scope="module")
def plan_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    folder = tmp_path_factory.mktemp("plans")
    engine = make_engine(f"sqlite:///{folder}/afisha.db")
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as session:
        org = ensure_organization(session, "Fuzzed Library", "Europe/Vilnius", "lt")
        for name in ("news", "kz"):
            add_channel(
                session,
                org,
                CredentialCipher(generate_key()),
                name=name,
                platform=Platform.TELEGRAM,
                external_id=f"@library_{name}",
                token=None,
                language=None,
                actor="test",
            )
    yield sessions
    engine.dispose()


def _counts(sessions: sessionmaker[Session]) -> tuple[int, ...]:
    with sessions() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (Post, Event, Publication, ImportRow)
        )


@budget(2_000, 15)
@given(
    file=st.one_of(
        st.tuples(CSV_FILES, st.just("plan.csv")), st.tuples(calendars(DATES), st.just("plan.ics"))
    ),
    partial=st.booleans(),
)
def test_importing_writes_nothing_when_refused(
    file: tuple[bytes, str],
    partial: bool,
    plan_database: sessionmaker[Session],
) -> None:
    ran("plans.import_plan")
    data, name = file
    before = _counts(plan_database)
    try:
        report = import_plan(
            plan_database,
            1,
            data,
            name,
            media_dir=Path("/nonexistent/media"),
            now=NOW,
            actor="fuzz",
            partial=partial,
            channels=["news"],
            fetch=download_image,
        )
    except InvalidInput:
        assert _counts(plan_database) == before
        return
    if not report.committed:
        assert _counts(plan_database) == before
