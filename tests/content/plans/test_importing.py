"""Importing a month's plan from xlsx or csv: all rows or none, errors by row and column,
re-imports without duplicates."""

from __future__ import annotations

import csv
import http.server
import io
import threading
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from channels.download import download_image
from content.domain.states import PostStatus, PublicationKind
from content.errors import InvalidInput
from content.plans.importing import Author, ImportReport, import_plan
from content.plans.template import HEADERS, template_rows, write_template
from content.storage.models import Event, ImportRow, Post, Publication
from content.storage.registry import add_staff
from tests.support.dbdump import dump
from tests.support.images import make_image
from tests.support.library import Library, library

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
FIRST_DAY = date(2026, 11, 3)
CHANNELS = ["news", "fb"]


@pytest.fixture
def lib(database_url: str, tmp_path: Path) -> Iterator[Library]:
    with library(database_url, tmp_path) as created:
        yield created


def run(lib: Library, data: bytes, filename: str = "plan.csv", **options: object) -> ImportReport:
    options.setdefault("image_dir", lib.media_dir.parent)
    options.setdefault("fetch", download_image)
    return import_plan(
        lib.sessions,
        lib.organization_id,
        data,
        filename,
        media_dir=lib.media_dir,
        now=NOW,
        actor="test",
        **options,  # type: ignore[arg-type]
    )


def csv_of(rows: list[dict[str, object]], delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(HEADERS), delimiter=delimiter)
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {k: v.strftime("%H:%M") if hasattr(v, "hour") else v for k, v in row.items()}
        )
    return buffer.getvalue().encode()


def template_with(changes: dict[int, dict[str, object]]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = [dict(r) for r in template_rows(FIRST_DAY, CHANNELS)]
    for index, change in changes.items():
        rows[index].update(change)
    return rows


@pytest.mark.parametrize("filename", ["plan.xlsx", "plan.csv"])
def test_the_template_imports_a_month_of_30_posts_and_5_events(
    lib: Library, filename: str, database_url: str
) -> None:
    data = write_template(filename, FIRST_DAY, CHANNELS)
    report = run(lib, data, filename)
    assert report.errors == []
    assert (len(report.posts), len(report.events), report.committed) == (30, 5, True)
    assert (lib.count(Post), lib.count(Event), lib.count(ImportRow)) == (30, 5, 35)
    with lib.sessions() as session:
        posts = session.query(Post).order_by(Post.id).all()
        assert {p.status for p in posts} == {PostStatus.QUEUED}
        assert all(len(p.publications) == 2 for p in posts)
        first = posts[0].publications[0]
        assert first.due_at == datetime(2026, 11, 3, 8, 0, tzinfo=UTC)  # 10:00 in Vilnius
        multilingual = posts[4]
        assert set(multilingual.variants) == {"ru", "kk", "lt"}  # en is the default text
        assert multilingual.text_for("ru").startswith("В читальном зале")
        languages = {e.language for e in session.query(Event)}
        assert languages == {"ru", "kk", "lt", "en"}
        event = session.query(Event).order_by(Event.starts_at).first()
        assert event is not None
        assert event.place == "Читальный зал"
        kinds = [p.kind for p in event.publications if p.channel.name == "news"]
        assert kinds.count(PublicationKind.REMINDER) == 2
        assert kinds.count(PublicationKind.ANNOUNCEMENT) == 1

    before = dump(database_url)
    again = run(lib, data, filename)
    assert (again.posts, again.events, again.unchanged, again.errors) == ([], [], 35, [])
    assert dump(database_url) == before


def test_xlsx_and_csv_of_the_same_plan_are_the_same_rows(lib: Library) -> None:
    run(lib, write_template("plan.xlsx", FIRST_DAY, CHANNELS), "plan.xlsx")
    report = run(lib, write_template("plan.csv", FIRST_DAY, CHANNELS), "plan.csv")
    assert (report.unchanged, report.posts, report.events) == (35, [], [])


def test_a_file_with_three_bad_rows_imports_nothing_and_lists_them(
    lib: Library, database_url: str
) -> None:
    rows = template_with(
        {
            2: {"date": "2026-13-01"},
            9: {"channels": "news, twitter"},
            31: {"title": ""},  # an event row
        }
    )
    before = dump(database_url)
    report = run(lib, csv_of(rows))
    assert not report.committed
    assert [(e.row, e.column) for e in report.errors] == [
        (4, "date"),
        (11, "channels"),
        (33, "title"),
    ]
    assert "cannot read the date '2026-13-01'" in str(report.errors[0])
    assert str(report.errors[1]) == (
        "row 11, column channels: unknown channel 'twitter' (known channels: fb, ig, news)"
    )
    assert report.errors[2].explain("ru").startswith("строка 33, столбец title:")
    assert dump(database_url) == before

    partial = run(lib, csv_of(rows), partial=True)
    assert partial.committed
    assert len(partial.errors) == 3
    assert (len(partial.posts), len(partial.events)) == (28, 4)
    assert (lib.count(Post), lib.count(Event)) == (28, 4)


def test_a_dry_run_checks_everything_and_writes_nothing(lib: Library, database_url: str) -> None:
    before = dump(database_url)
    report = run(lib, write_template("plan.csv", FIRST_DAY, CHANNELS), dry_run=True)
    assert (len(report.posts), len(report.events), report.errors) == (30, 5, [])
    assert not report.committed
    assert dump(database_url) == before
    assert not lib.media_dir.exists()


def test_every_problem_of_a_row_is_reported(lib: Library) -> None:
    rows = [
        {
            "kind": "event",
            "date": "2026-11-10",
            "time": "25:00",
            "channels": "",
            "title": "",
            "ends": "17:00",
            "reminders": "soon",
            "language": "de",
        },
        {"kind": "talk", "date": "2026-11-01", "time": "10:00", "channels": "news", "text": "x"},
        {
            "kind": "post",
            "date": "2026-11-10",
            "time": "10:00",
            "channels": "news",
            "place": "Hall",
            "link": "library.example",
        },
        {
            "date": "2026-11-10",
            "time": "18:00",
            "channels": "news",
            "kind": "event",
            "title": "Talk",
            "ends": "17:00",
            "announce": "2026-11-11 10:00",
        },
    ]
    report = run(lib, csv_of(rows))  # type: ignore[arg-type]
    found = {(e.row, e.column) for e in report.errors}
    assert found == {
        (2, "time"),
        (2, "channels"),
        (2, "title"),
        (2, "reminders"),
        (2, "language"),
        (3, "kind"),
        (3, "time"),
        (4, "text"),
        (4, "place"),
        (4, "link"),
        (5, "ends"),
        (5, "announce"),
    }


def test_identical_rows_are_one_row_too_many(lib: Library) -> None:
    rows = template_with({})[:2]
    report = run(lib, csv_of([rows[0], rows[1], rows[0]]))
    assert [(e.row, e.column) for e in report.errors] == [(4, "key")]
    assert "the same as row 2" in str(report.errors[0])


def test_an_explicit_key_identifies_a_row_even_when_it_changes(lib: Library) -> None:
    header = "key;date;time;channels;text\n"
    first = f"{header}k-1;03.11.2026;10:00;news;Hello\n".encode()
    assert len(run(lib, first).posts) == 1
    edited = f"{header}k-1;03.11.2026;11:00;news;Hello again\n".encode()
    report = run(lib, edited)
    assert (report.posts, report.unchanged) == ([], 1)


def test_headers_are_checked_before_the_rows(lib: Library) -> None:
    report = run(lib, b"date,time,chanels,text,notes\n2026-11-03,10:00,news,Hi,ours\n")
    assert [(e.row, e.column) for e in report.errors] == [(1, "chanels"), (1, "channels")]
    with pytest.raises(InvalidInput, match="no header row"):
        run(lib, b"\n\n")
    with pytest.raises(InvalidInput, match="not an Excel workbook"):
        run(lib, b"not a zip", "plan.xlsx")
    with pytest.raises(InvalidInput, match="send an .xlsx, .csv or .ics file"):
        run(lib, b"", "plan.pdf")
    with pytest.raises(InvalidInput, match="not UTF-8"):
        run(lib, "date;time\n".encode("cp1251") + "Пн".encode("cp1251"))


def test_typed_excel_cells_are_read_as_dates_and_times(lib: Library) -> None:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(["Date", "Time", "Channels", "Text"])
    sheet.append([datetime(2026, 11, 3), datetime(1899, 12, 30, 10, 0).time(), "news", "Hi"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = run(lib, buffer.getvalue(), "plan.xlsx")
    assert report.errors == []
    assert len(report.posts) == 1


class _Images(http.server.BaseHTTPRequestHandler):
    body = b""

    def do_GET(self) -> None:  # noqa: N802 - the http.server convention
        if self.path != "/poster.jpg":
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/jpeg")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        pass


@pytest.fixture
def image_server(tmp_path: Path) -> Iterator[str]:
    _Images.body = make_image(tmp_path / "served.jpg", (400, 300)).read_bytes()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Images)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_images_by_path_or_url(lib: Library, image_server: str, tmp_path: Path) -> None:
    make_image(tmp_path / "local.png", (640, 480), "PNG")
    rows = (
        "date,time,channels,text,image\n"
        "2026-11-03,10:00,news,From a file,local.png\n"
        f"2026-11-04,10:00,news,From the web,{image_server}/poster.jpg\n"
        f"2026-11-05,10:00,news,Missing,{image_server}/missing.jpg\n"
        "2026-11-06,10:00,news,Not there,nowhere.png\n"
    ).encode()
    report = run(lib, rows, image_dir=tmp_path)
    assert [(e.row, e.column) for e in report.errors] == [(4, "image"), (5, "image")]
    assert "could not download" in str(report.errors[0])
    report = run(lib, rows, image_dir=tmp_path, partial=True)
    with lib.sessions() as session:
        posts = session.query(Post).order_by(Post.id).all()
        assert [(p.media[0].media.width, p.media[0].media.media_type) for p in posts] == [
            (640, "image/png"),
            (400, "image/jpeg"),
        ]
    assert len(list(lib.media_dir.rglob("*.*"))) == 2


def test_a_file_sent_to_the_bot_names_images_only_by_url(lib: Library, tmp_path: Path) -> None:
    make_image(tmp_path / "local.png", (640, 480), "PNG")
    report = run(
        lib, b"date,time,channels,text,image\n2026-11-03,10:00,news,Hi,local.png\n", image_dir=None
    )
    assert [(e.row, e.column) for e in report.errors] == [(2, "image")]
    assert "only by web link" in str(report.errors[0])


def test_platform_limits_are_reported_against_the_row(lib: Library) -> None:
    report = run(lib, b"date,time,channels,text\n2026-11-03,10:00,ig,No picture\n")
    assert [(e.row, e.column) for e in report.errors] == [(2, "text")]
    assert lib.count(Publication) == 0


def test_reminders_beyond_a_year_refuse_their_row(lib: Library, database_url: str) -> None:
    rows = [
        {
            "kind": "event",
            "date": "2026-12-10",
            "time": "18:00",
            "channels": "news",
            "title": "Talk",
            "reminders": "1d,99999w",
        },
    ]
    before = dump(database_url)
    report = run(lib, csv_of(rows))  # type: ignore[arg-type]
    assert [(e.row, e.column) for e in report.errors] == [(2, "reminders")]
    assert "at most 365 days (365d)" in str(report.errors[0])
    assert dump(database_url) == before


def test_posts_imported_for_approval_wait_with_their_plan(lib: Library, database_url: str) -> None:
    with lib.transaction() as (session, org):
        editor = add_staff(session, org, 7001, "Egle", "editor", "lt", "test").id
    rows = template_with({})
    rows = [*rows[:2], next(r for r in rows if r["kind"] == "event")]
    report = run(lib, csv_of(rows), author=Author(editor, needs_approval=True))
    assert report.committed
    assert len(report.posts) == len(report.waiting) == 2
    assert len(report.events) == 1  # events go as they would from /event
    message, params = report.summary()
    assert "2 post(s) wait for a manager's approval" in message.format(**params)
    with lib.sessions() as session:
        posts = list(session.scalars(select(Post).where(Post.id.in_(report.waiting))))
        assert {p.status for p in posts} == {PostStatus.PENDING_APPROVAL}
        assert all(p.author_id == editor and p.planned_at and p.planned_channels for p in posts)
        waiting = session.scalars(
            select(Publication).where(Publication.post_id.in_(report.waiting))
        )
        assert list(waiting) == []
    again = run(lib, csv_of(rows), author=Author(editor, needs_approval=True))  # no copies
    assert (again.posts, again.waiting, again.unchanged) == ([], [], 3)
