"""The catalogue of bad input (issue 20): each input with the refusal it must get, and proof
that nothing was written.

Three doors, three kinds of case: the command line (`afisha ...` through its click entry point:
exit status 2 and a one-line reason), the bot (the real PTB Application against the sandbox:
the reply in the person's language) and the web port (aiohttp's test server: the HTTP status).
Every refusal compares a snapshot of the whole database before and after. Some inputs must be
*accepted* (HTML-looking text, a CSV with a byte-order mark, right-to-left marks): those cases
assert the right handling instead.

Cases marked xfail name the defect of issue 20 that another branch fixes, or a defect the
catalogue found that is not fixed yet; their expectation is the correct behaviour.
"""

from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from aiohttp.test_utils import TestClient, TestServer
from click.testing import CliRunner, Result
from openpyxl import Workbook
from PIL import Image

from afisha.cli import cli
from afisha.config import Settings
from afisha.web import make_web_app
from afisha.webhook import SECRET_HEADER, WEBHOOK_PATH, WebhookSink
from afisha.wiring import Afisha, open_afisha
from bot.app import build_application
from bot.services import BotServices
from channels.base import Outgoing
from channels.download import download_image
from channels.telegram import TelegramChannel
from content.domain.states import Platform
from content.domain.templates import local_time
from content.i18n import translate
from content.queueing.scheduling import NewEvent, add_event
from content.storage.registry import add_channel
from content.storage.secrets import generate_key
from sandbox.runner import SandboxThread
from scheduler.clock import SystemClock
from tests.bot.conftest import ADMIN, EDITOR, MANAGER, STRANGER, Library
from tests.bot.harness import BotHarness
from tests.bot.posting import START, channel_id, jpeg, manual_clock, send_document, set_language
from tests.bot.world import set_user_language
from tests.hardening.conftest import scratch_database
from tests.support.dbdump import dump


def defect(number: int) -> pytest.MarkDecorator:
    return pytest.mark.xfail(
        strict=True, reason=f"issue 20 defect {number}: fixed on another branch"
    )


def found(what: str) -> pytest.MarkDecorator:
    return pytest.mark.xfail(strict=True, reason=f"found by the catalogue, not fixed yet: {what}")


FUTURE = "2030-06-04 10:00"  # a Tuesday, in the organisation's zone (Asia/Almaty)
BEYOND_64_BITS = str(2**64 + 1)
TOKEN = "EAAGm0PX4ZCpsBACatalogueTokenThatMustNeverLeak01234"


# --- input files ---------------------------------------------------------------------------------


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def decompression_bomb(path: Path, side: int = 20000) -> Path:
    """A valid 1-bit PNG of side×side pixels (400 megapixels) in under 50 kB."""
    packer = zlib.compressobj(9)
    row = b"\0" * (side // 8 + 1)
    data = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )
    return path


def workbook(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


PLAN_HEADER = "date,time,channels,text,kind\n"


def plan(*rows: str) -> bytes:
    return (PLAN_HEADER + "".join(f"{r}\n" for r in rows)).encode()


def calendar(*lines: str) -> bytes:
    body = "\r\n".join(("BEGIN:VCALENDAR", *lines, "END:VCALENDAR"))
    return (body + "\r\n").encode()


def _zip_without_a_workbook() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "a zip, but no workbook in it")
    return buffer.getvalue()


def make_inputs(directory: Path) -> Path:
    """Every file the command-line cases name, written once."""
    directory.mkdir(parents=True, exist_ok=True)
    for index in range(11):
        Image.new("RGB", (800 + index, 600), (index * 20, 90, 160)).save(
            directory / f"photo{index}.jpg"
        )
    Image.new("RGB", (800, 600)).save(directory / "poster.tiff", "TIFF")
    (directory / "not-an-image.jpg").write_text("hello, I am text")
    (directory / "corrupt.jpg").write_bytes(b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\0" * 64)
    with (directory / "enormous.jpg").open("wb") as handle:  # over the 20 MB limit
        handle.write(b"\xff\xd8\xff\xe0")
        handle.truncate(21 * 1024 * 1024)
    decompression_bomb(directory / "bomb.png")
    files: dict[str, bytes] = {
        "wrong-columns.csv": b"foo,bar\n1,2\n",
        "empty.csv": b"",
        "bad-date.csv": plan("2030-13-45,10:00,news,Book fair,post"),
        "bad-time.csv": plan("2030-06-04,25:61,news,Book fair,post"),
        "past.csv": plan("2020-06-04,10:00,news,Book fair,post"),
        "unknown-channel.csv": plan("2030-06-04,10:00,nowhere,Book fair,post"),
        "unknown-kind.csv": plan("2030-06-04,10:00,news,Book fair,poem"),
        "no-text.csv": plan("2030-06-04,10:00,news,,post"),
        "cp1251.csv": plan("2030-06-04,10:00,news,Книжная ярмарка,post").decode().encode("cp1251"),
        "utf16.csv": plan("2030-06-04,10:00,news,Book fair,post").decode().encode("utf-16"),
        "bom.csv": b"\xef\xbb\xbf" + plan("2030-06-04,10:00,news,Fair with a BOM,post"),
        "semicolons.csv": plan("2030-06-04;10:00;news;Fair in Excel's csv;post").replace(
            b",", b";"
        ),
        "carriage-returns.csv": plan("2030-06-04,10:00,news,Fair from an old Mac,post").replace(
            b"\n", b"\r"
        ),
        "huge-cell.csv": plan(f"2030-06-04,10:00,news,{'a' * 200_000},post"),
        "too-many-rows.csv": plan(*(f"2030-06-04,10:00,news,Row {n},post" for n in range(2001))),
        "formula.csv": plan("2030-06-05,10:00,news,=1+2,post"),
        "formula-dde.csv": plan("2030-06-06,10:00,news,@SUM(1+1)*cmd|' /C calc'!A0,post"),
        "nul.csv": plan("2030-06-07,10:00,news,Book\x00fair,post"),
        "long.csv": plan(f"2030-06-08,10:00,news,{'a' * 4097},post"),
        "garbage.xlsx": b"this is not a zip archive",
        "zip.xlsx": _zip_without_a_workbook(),
        "wrong-columns.xlsx": workbook([["foo", "bar"], [1, 2]]),
        "bad-date.xlsx": workbook(
            [
                ["date", "time", "channels", "text", "kind"],
                ["2030-13-45", "10:00", "news", "x", "post"],
            ]
        ),
        "formula.xlsx": workbook(
            [
                ["date", "time", "channels", "text", "kind"],
                ["2030-06-04", "10:00", "news", "=1+1", "post"],
            ]
        ),
        "plan.pdf": b"%PDF-1.4 not a plan",
        "garbage.ics": b"hello, not a calendar",
        "empty.ics": b"",
        "notadate.ics": calendar(
            "BEGIN:VEVENT", "UID:a@library", "DTSTART:notadate", "SUMMARY:x", "END:VEVENT"
        ),
        "notadate-version.ics": calendar(
            "VERSION:2.0",
            "BEGIN:VEVENT",
            "UID:b@library",
            "DTSTART:notadate",
            "SUMMARY:x",
            "END:VEVENT",
        ),
        "no-title.ics": calendar(
            "VERSION:2.0",
            "BEGIN:VEVENT",
            "UID:c@library",
            "DTSTART:20300604T100000Z",
            "END:VEVENT",
        ),
        "no-start.ics": calendar(
            "VERSION:2.0", "BEGIN:VEVENT", "UID:d@library", "SUMMARY:x", "END:VEVENT"
        ),
        "past.ics": calendar(
            "VERSION:2.0",
            "BEGIN:VEVENT",
            "UID:e@library",
            "DTSTART:20200604T100000Z",
            "SUMMARY:Long ago",
            "END:VEVENT",
        ),
        "not-a-feed.xml": b"hello, not a feed",
    }
    for name, data in files.items():
        (directory / name).write_bytes(data)
    return directory


# --- the command line ----------------------------------------------------------------------------


@dataclass
class Cli:
    """Runs `afisha ...` through its click entry point with a given environment."""

    env: dict[str, str]
    inputs: Path
    database_url: str
    runner: CliRunner = field(default_factory=CliRunner)

    def __call__(self, *args: str, env: dict[str, str] | None = None) -> Result:
        return self.runner.invoke(cli, list(args), env={**self.env, **(env or {})})

    def ok(self, *args: str) -> Result:
        result = self(*args)
        assert result.exit_code == 0, result.output
        return result


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def afisha_cli(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cli]:
    """One seeded installation per database kind, shared by the module: a refused input leaves
    it as it was, so the cases can follow one another."""
    directory = tmp_path_factory.mktemp(f"cli-{request.param}")
    with scratch_database(request.param, directory) as url:
        if url is None:
            pytest.skip("PostgreSQL is not answering on 127.0.0.1:5432")
        run = Cli(
            {
                "AFISHA_DATABASE_URL": url,
                "AFISHA_SECRET_KEY": generate_key(),
                "AFISHA_TIMEZONE": "Asia/Almaty",
                "AFISHA_MEDIA_DIR": str(directory / "media"),
            },
            make_inputs(directory / "inputs"),
            url,
        )
        run.ok("db", "upgrade")
        run.ok("channel", "add", "news", "--platform", "telegram", "--chat-id", "@library_news")
        run.ok(
            "channel",
            "add",
            "fb",
            "--platform",
            "facebook",
            "--page-id",
            "100200300400500",
            "--token",
            TOKEN,
        )
        run.ok(
            "channel",
            "add",
            "ig",
            "--platform",
            "instagram",
            "--ig-user-id",
            "17841400000000001",
            "--token",
            TOKEN,
        )
        yield run


Check = Callable[[Cli, Result], None]


@dataclass(frozen=True)
class CliCase:
    """`args` (with `{in}` for the inputs folder); refused: exit 2 and every word of `reason` on
    stderr, nothing written; accepted (`check` given): exit 0 and `check` holds."""

    name: str
    args: tuple[str, ...]
    reason: tuple[str, ...] = ()
    env: tuple[tuple[str, str], ...] = ()
    check: Check | None = None
    marks: tuple[pytest.MarkDecorator, ...] = ()


def _post_text_is(expected: str) -> Check:
    """The post just added (its id is the output) keeps `expected` exactly."""

    def check(run: Cli, result: Result) -> None:
        post_id = result.output.strip().splitlines()[-1]
        shown = json.loads(run.ok("post", "show", post_id, "--json").output)
        assert shown["text"] == expected

    return check


def _imported_text(expected: str) -> Check:
    """The import created a post whose text is `expected`, exactly (nothing evaluated)."""

    def check(run: Cli, result: Result) -> None:
        assert "imported 1 post(s)" in result.output
        posts = json.loads(run.ok("post", "list", "--json").output)
        assert expected in [p["text"] for p in posts]

    return check


def _dry_run_reads(count: int) -> Check:
    def check(_run: Cli, result: Result) -> None:
        assert f"dry run: {count} post(s)" in result.output

    return check


def _nothing_imported(run: Cli, result: Result) -> None:
    assert "imported 0 post(s) and 0 event(s)" in result.output


def _at(*extra: str, text: str = "Book fair", channels: str = "news") -> tuple[str, ...]:
    return ("post", "add", "--text", text, "--channels", channels, "--at", FUTURE, *extra)


def _text(text: str, channels: str = "news", *extra: str) -> tuple[str, ...]:
    return _at(*extra, text=text, channels=channels)


def _image(name: str, channels: str = "news") -> tuple[str, ...]:
    return _at("--image", f"{{in}}/{name}", channels=channels)


def _event(*extra: str) -> tuple[str, ...]:
    return ("event", "add", "--title", "Poetry", "--starts", FUTURE, "--channels", "news", *extra)


HASHTAGS = " ".join(f"#book{n}" for n in range(31))
MENTIONS = " ".join(f"@reader{n}" for n in range(21))
HTML = 'Typed by a librarian: <b>not bold</b> & <a href="tg://user?id=1">x</a> &amp; <tg-spoiler>'
ENTITIES = "*not bold* _not italic_ [not a link](https://evil.example) `not code` ||no spoiler||"
RTL = "\u200fשלום\u200e Reading hour \u202eevil\u202c \u2067اقرأ\u2069"
ZWJ = "Family reading 👨\u200d👩\u200d👧\u200d👦 and 🏳\ufe0f\u200d🌈"
COMBINING = "e\u0301" * 2048  # 4096 UTF-16 code units: exactly Telegram's limit
ONE_IMAGE = ("--image", "{in}/photo0.jpg")
ELEVEN = tuple(arg for n in range(11) for arg in ("--image", f"{{in}}/photo{n}.jpg"))

CLI_CASES = [
    # over-long texts and captions, per platform
    CliCase(
        "telegram text of 4097 is split, not refused",
        _text("a" * 4097),
        check=lambda run, result: None,
    ),
    CliCase(
        "telegram text of 2049 emoji (4098 UTF-16 units) is split",
        _text("📚" * 2049),
        check=lambda run, result: None,
    ),
    CliCase(
        "telegram text of 4096 '<' fits: counted before escaping",
        _text("<" * 4096),
        check=_post_text_is("<" * 4096),
    ),
    CliCase(
        "telegram caption of 1025 goes as photo and message",
        _text("c" * 1025, "news", *ONE_IMAGE),
        check=_post_text_is("c" * 1025),
    ),
    CliCase("facebook text of 63207", _text("f" * 63207, "fb"), ("63206",)),
    CliCase("instagram caption of 2201", _text("i" * 2201, "ig", *ONE_IMAGE), ("caption", "2200")),
    CliCase("instagram 31 hashtags", _text(HASHTAGS, "ig", *ONE_IMAGE), ("hashtags", "30")),
    CliCase("instagram 21 mentions", _text(MENTIONS, "ig", *ONE_IMAGE), ("@mentions", "20")),
    CliCase("instagram without an image", _text("x", "ig"), ("needs at least one image",)),
    CliCase("empty text", _text(""), ("no text",)),
    CliCase("text of whitespace only", _text(" \n\t "), ("no text",)),
    CliCase(
        "text of zero-width characters only",
        _text("\u200b\u200d\u2060"),
        ("no text",),
    ),
    CliCase(
        "neither --text nor --text-file",
        ("post", "add", "--channels", "news", "--at", FUTURE),
        ("exactly one of --text or --text-file",),
    ),
    # images
    CliCase("eleven images in an album", _at(*ELEVEN), ("number of images", "10")),
    CliCase("a file that is not an image", _image("not-an-image.jpg"), ("is not an image",)),
    CliCase("a corrupt jpeg", _image("corrupt.jpg"), ("is not an image",)),
    CliCase("an enormous file (21 MB)", _image("enormous.jpg"), ("21.0 MB", "20 MB")),
    CliCase(
        "a decompression bomb (400 megapixels)", _image("bomb.png"), ("bomb.png", "megapixels")
    ),
    CliCase("a TIFF image", _image("poster.tiff"), ("TIFF",)),
    CliCase("a missing image", _image("missing.jpg"), ("does not exist",)),
    CliCase("a folder as the image", _at("--image", "{in}"), ("{in}",)),
    # times
    CliCase("a time in the past", _at()[:-1] + ("2020-01-01 10:00",), ("in the past",)),
    CliCase(
        "a time skipped by daylight saving",
        _at()[:-1] + ("2027-03-28 03:30",),
        ("does not exist in Europe/Vilnius",),
        env=(("AFISHA_TIMEZONE", "Europe/Vilnius"),),
    ),
    CliCase(
        "an unreadable time", _at()[:-1] + ("next tuesday-ish 10:00",), ("cannot read the time",)
    ),
    CliCase("the 30th of February", _at()[:-1] + ("2030-02-30 10:00",), ("cannot read the time",)),
    CliCase("a time no clock shows", _at()[:-1] + ("25:00",), ("cannot read the time",)),
    CliCase(
        "an event that ends before it starts",
        _event("--ends", "2030-06-04 09:00"),
        ("must end after it starts",),
    ),
    CliCase(
        "an event without a title",
        ("event", "add", "--title", "", "--starts", FUTURE, "--channels", "news"),
        ("needs a title",),
    ),
    CliCase(
        "an unreadable reminder offset", _event("--reminders", "3x"), ("reminder offset '3x'",)
    ),
    CliCase("a zero reminder offset", _event("--reminders", "0h"), ("reminder offset '0h'",)),
    CliCase("a reminder 99999 weeks ahead", _event("--reminders", "99999w"), ("reminder",)),
    CliCase(
        "an unknown time zone",
        _at(),
        ("unknown time zone 'Mars/Olympus'",),
        env=(("AFISHA_TIMEZONE", "Mars/Olympus"),),
    ),
    # channels
    CliCase("an unknown channel", _text("x", "nope"), ("unknown channel 'nope'",)),
    CliCase("no channel", _text("x", ""), ("at least one channel",)),
    CliCase(
        "a facebook page id of 3 digits",
        ("channel", "add", "fb2", "--platform", "facebook", "--page-id", "123", "--token", TOKEN),
        ("digits",),
    ),
    CliCase(
        "an unknown platform",
        ("channel", "add", "x", "--platform", "myspace", "--chat-id", "@library_x"),
        ("'myspace' is not one of",),
    ),
    CliCase(
        "a channel name with a path in it",
        ("channel", "add", "../etc", "--platform", "telegram", "--chat-id", "@library_x"),
        ("channel name '../etc'",),
    ),
    CliCase(
        "a telegram chat id with a space",
        ("channel", "add", "tg2", "--platform", "telegram", "--chat-id", "news channel"),
        ("neither a number",),
    ),
    CliCase(
        "removing an unknown channel", ("channel", "remove", "nope"), ("unknown channel 'nope'",)
    ),
    CliCase(
        "a channel name that exists",
        ("channel", "add", "news", "--platform", "telegram", "--chat-id", "@library_other"),
        ("'news' already exists",),
    ),
    # ids and records
    CliCase("a post id that does not exist", ("post", "cancel", "999"), ("no post has id 999",)),
    CliCase("a post id that is not a number", ("post", "show", "abc"), ("'abc' is not a valid",)),
    CliCase(
        "a post id past 64 bits",
        ("post", "show", BEYOND_64_BITS),
        ("no post",),
    ),
    CliCase(
        "cancelling a post id past 64 bits",
        ("post", "cancel", BEYOND_64_BITS),
        ("no post",),
    ),
    CliCase(
        "a staff id past 64 bits",
        ("staff", "add", BEYOND_64_BITS, "--name", "A", "--role", "editor"),
        ("id",),
    ),
    CliCase(
        "an unknown role",
        ("staff", "add", "5", "--name", "A", "--role", "boss"),
        ("unknown role 'boss'",),
    ),
    CliCase(
        "an unsupported language",
        ("staff", "add", "5", "--name", "A", "--role", "editor", "--lang", "de"),
        ("unsupported language 'de'",),
    ),
    # links, HTML and entities in the text
    CliCase(
        "a javascript: link",
        _at("--link", "javascript:alert(1)"),
        ("https://",),
    ),
    CliCase("HTML in the text is kept as text", _text(HTML), check=_post_text_is(HTML)),
    CliCase(
        "Telegram markup in the text is kept as text",
        _text(ENTITIES),
        check=_post_text_is(ENTITIES),
    ),
    CliCase(
        "a NUL character in the text",
        _text("Book\x00fair"),
        (),
    ),
    # unicode edge cases: kept exactly
    CliCase("right-to-left marks and overrides are kept", _text(RTL), check=_post_text_is(RTL)),
    CliCase("zero-width joiners in emoji are kept", _text(ZWJ), check=_post_text_is(ZWJ)),
    CliCase(
        "combining marks count as Telegram counts them",
        _text(COMBINING),
        check=_post_text_is(COMBINING),
    ),
    # plans: csv
    CliCase(
        "csv with unknown columns", ("import", "{in}/wrong-columns.csv"), ("unknown column 'foo'",)
    ),
    CliCase("an empty csv", ("import", "{in}/empty.csv"), ("no header row",)),
    CliCase(
        "csv with a bad date",
        ("import", "{in}/bad-date.csv"),
        ("row 2, column date", "cannot read the date '2030-13-45'"),
    ),
    CliCase(
        "csv with a bad time of day",
        ("import", "{in}/bad-time.csv"),
        ("row 2, column time", "'25:61'"),
    ),
    CliCase("csv with a row in the past", ("import", "{in}/past.csv"), ("row 2", "in the past")),
    CliCase(
        "csv naming an unknown channel",
        ("import", "{in}/unknown-channel.csv"),
        ("row 2, column channels", "unknown channel 'nowhere'"),
    ),
    CliCase("csv with an unknown kind", ("import", "{in}/unknown-kind.csv"), ("kind 'poem'",)),
    CliCase(
        "csv with a row without text",
        ("import", "{in}/no-text.csv"),
        ("row 2, column text", "no text"),
    ),
    CliCase("a csv in Windows-1251", ("import", "{in}/cp1251.csv"), ("not UTF-8",)),
    CliCase("a csv in UTF-16", ("import", "{in}/utf16.csv"), ("not UTF-8",)),
    CliCase(
        "a csv with a byte-order mark is read",
        ("import", "{in}/bom.csv", "--dry-run"),
        check=_dry_run_reads(1),
    ),
    CliCase(
        "a csv separated by semicolons is read",
        ("import", "{in}/semicolons.csv", "--dry-run"),
        check=_dry_run_reads(1),
    ),
    CliCase(
        "a csv with bare carriage returns is read",
        ("import", "{in}/carriage-returns.csv", "--dry-run"),
        check=_dry_run_reads(1),
    ),
    CliCase(
        "a csv cell of 200,000 characters",
        ("import", "{in}/huge-cell.csv"),
        ("cannot be read as a table",),
    ),
    CliCase("a csv of 2001 rows", ("import", "{in}/too-many-rows.csv"), ("at most 2000",)),
    CliCase(
        "a formula in a csv is imported as text",
        ("import", "{in}/formula.csv"),
        check=_imported_text("=1+2"),
    ),
    CliCase(
        "a DDE payload in a csv is imported as text",
        ("import", "{in}/formula-dde.csv"),
        check=_imported_text("@SUM(1+1)*cmd|' /C calc'!A0"),
    ),
    CliCase(
        "a NUL character in a csv",
        ("import", "{in}/nul.csv"),
        ("row 2",),
    ),
    CliCase(
        "a plan row longer than a Telegram message is split",
        ("import", "{in}/long.csv"),
        check=lambda run, result: None,
    ),
    # plans: xlsx
    CliCase(
        "an xlsx that is not a zip", ("import", "{in}/garbage.xlsx"), ("not an Excel workbook",)
    ),
    CliCase(
        "an xlsx that is a zip without a workbook",
        ("import", "{in}/zip.xlsx"),
        ("not an Excel workbook",),
    ),
    CliCase(
        "xlsx with unknown columns",
        ("import", "{in}/wrong-columns.xlsx"),
        ("unknown column 'foo'",),
    ),
    CliCase(
        "xlsx with a bad date",
        ("import", "{in}/bad-date.xlsx"),
        ("row 2, column date", "'2030-13-45'"),
    ),
    CliCase(
        "an xlsx formula is never evaluated",
        ("import", "{in}/formula.xlsx"),
        ("row 2, column text",),
    ),
    CliCase(
        "a file of another kind", ("import", "{in}/plan.pdf"), ("send an .xlsx, .csv or .ics",)
    ),
    CliCase("a missing plan file", ("import", "{in}/nothing.csv"), ("nothing.csv",)),
    # plans: ics
    CliCase(
        "an ics that is not a calendar",
        ("import", "{in}/garbage.ics", "--channels", "news"),
        ("not an iCalendar",),
    ),
    CliCase(
        "an empty ics",
        ("import", "{in}/empty.ics", "--channels", "news"),
        ("iCalendar",),
    ),
    CliCase(
        "an ics with DTSTART:notadate",
        ("import", "{in}/notadate.ics", "--channels", "news"),
        ("DTSTART",),
    ),
    CliCase(
        "an ics with VERSION, UID and DTSTART:notadate",
        ("import", "{in}/notadate-version.ics", "--channels", "news"),
        ("DTSTART",),
    ),
    CliCase(
        "an ics event without a title",
        ("import", "{in}/no-title.ics", "--channels", "news"),
        ("SUMMARY", "needs a title"),
    ),
    CliCase(
        "an ics event without a start",
        ("import", "{in}/no-start.ics", "--channels", "news"),
        ("DTSTART", "no start time"),
    ),
    CliCase(
        "an ics event in the past is skipped",
        ("import", "{in}/past.ics", "--channels", "news"),
        check=_nothing_imported,
    ),
    # feeds
    CliCase(
        "a feed address that is not a link",
        ("feed", "add", "javascript:alert(1)", "--channels", "news"),
        ("not a feed address",),
    ),
    CliCase(
        "a feed for an unknown channel",
        ("feed", "add", "https://library.example/rss", "--channels", "nope"),
        ("unknown channel 'nope'",),
    ),
]


def _fill(args: tuple[str, ...], inputs: Path) -> list[str]:
    return [a.replace("{in}", str(inputs)) for a in args]


def _media(run: Cli) -> list[str]:
    root = Path(run.env["AFISHA_MEDIA_DIR"])
    return sorted(str(p) for p in root.rglob("*")) if root.exists() else []


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=c.marks) for c in CLI_CASES])
def test_the_command_line(case: CliCase, afisha_cli: Cli) -> None:
    run = afisha_cli
    before, media = dump(run.database_url), _media(run)
    env = {k: v.replace("{in}", str(run.inputs)) for k, v in case.env}
    result = run(*_fill(case.args, run.inputs), env=env)
    assert "Traceback" not in result.output
    assert "internal error" not in result.output, result.output
    if case.check is not None:
        assert result.exit_code == 0, result.output
        case.check(run, result)
        return
    assert result.exit_code == 2, result.output
    for word in case.reason:
        assert word.replace("{in}", str(run.inputs)) in result.stderr, result.stderr
    assert dump(run.database_url) == before
    assert _media(run) == media


def test_the_catalogue_is_large_enough() -> None:
    assert len(CLI_CASES) + len(BOT_CASES) + len(WEB_CASES) >= 60
    names = [c.name for c in [*CLI_CASES, *BOT_CASES, *WEB_CASES]]
    assert len(names) == len(set(names))


# --- the bot -------------------------------------------------------------------------------------

STRANGER_REFUSAL = (
    "Sorry, this bot is for the library's staff. If you work here, send your Telegram id {id} "
    "to an administrator so they can add you."
)
ROLE_REFUSAL = "Your role does not allow this. Ask an administrator if you need it."
STALE = "This button is no longer in use."
SOMETHING_WRONG = "Something went wrong on our side; nothing was changed. Please try again."
OPEN_AGAIN = "✏️ Draft #{id} is open again."
UNREADABLE = (
    "cannot read the time {text!r}: write now, tomorrow 10:00, friday 18:30, "
    "2026-12-01 10:00 (local time) or 2026-12-01T10:00+05:00"
)
PAST = "{time} is in the past: choose a later time"
SKIPPED = (
    "{time} does not exist in {zone} (the clocks jump at a daylight-saving change): "
    "pick another time"
)
NO_TEXT = "The post has no text yet: send it as a message (a photo's caption counts too)."
ALBUM_FULL = (
    "A post holds at most {limit} photos, so this one was not added. Press "
    "Next to go on with {limit}, or remove the photos and choose again."
)
NOT_AN_IMAGE = (
    "«{name}» is not an image I can publish: send a JPEG, PNG, WebP or GIF "
    "picture, as a photo or as a file."
)
NOT_A_PLAN = "cannot import {name}: send an .xlsx, .csv or .ics file"

# Steps: ("send", user, text) · ("press", user, data): a button the bot showed ·
# ("forge", user, data): callback data no button carries · ("photo", user, n) ·
# ("file", user, name, bytes) · ("lang", staff, xx) · ("client", user, xx): the language a
# stranger's Telegram app reports · ("zone", IANA) for the organisation · ("time", user):
# /new up to the question of when.
Step = tuple[Any, ...]
Phrase = tuple[str, dict[str, Any]]


@dataclass(frozen=True)
class BotCase:
    """After `setup`, `act` must be answered with every phrase of `expect` (translated into
    `language`), none of `absent`, never "Something went wrong", and leave the database as it
    was (but for the record of handled update ids)."""

    name: str
    language: str
    act: Step
    expect: tuple[Phrase, ...] = ()
    setup: tuple[Step, ...] = ()
    absent: tuple[Phrase, ...] = ()
    literal: tuple[str, ...] = ()  # raw text that must appear in the answer
    writes: bool = False  # accepted: the database may change
    marks: tuple[pytest.MarkDecorator, ...] = ()


def _stranger(language: str, act: Step, name: str) -> BotCase:
    return BotCase(
        name,
        language,
        act,
        ((STRANGER_REFUSAL, {"id": STRANGER}),),
        setup=(("client", STRANGER, language), ("send", STRANGER, "/start")),
    )


USERS = {"ru": ADMIN, "kk": MANAGER, "lt": EDITOR, "en": ADMIN}
UNREADABLE_TIMES = {
    "ru": "когда-нибудь в 10",
    "kk": "бір күні 10:00",
    "lt": "kažkada 10:00",
    "en": "someday at 10",
}


# The moment the past times above name, as staff read it (content.domain.templates.local_time).
def yesterday_at_10(language: str) -> str:
    zone = ZoneInfo("Asia/Almaty")
    return local_time(datetime(2026, 11, 30, 10, 0, tzinfo=zone), zone, language, START)


PAST_TIMES = {"ru": "вчера в 10", "kk": "кеше 10:00", "lt": "vakar 10:00", "en": "yesterday 10:00"}


def _timed(language: str) -> tuple[Step, ...]:
    user = USERS[language]
    return ((("lang", user, "en"),) if language == "en" else ()) + (("time", user),)


CSV = "text/csv"
BAD_PLAN = plan("2030-06-04,25:00,news,Bad time,post")
BOT_CASES = [
    *(
        _stranger(lang, ("send", STRANGER, "/queue"), f"a stranger's /queue ({lang})")
        for lang in ("en", "ru", "kk", "lt")
    ),
    _stranger("lt", ("forge", STRANGER, "np:ok"), "a stranger presses a forged confirm button"),
    _stranger("ru", ("forge", STRANGER, "ap:ok:1"), "a stranger forges an approval"),
    _stranger(
        "kk",
        ("file", STRANGER, "plan.csv", plan("2030-06-04,10:00,news,x,post")),
        "a stranger sends a plan",
    ),
    _stranger("en", ("send", STRANGER, "tomorrow 10:00"), "a stranger types a time"),
    BotCase(
        "an editor forges an approval",
        "lt",
        ("forge", EDITOR, "ap:ok:1"),
        ((ROLE_REFUSAL, {}),),
        setup=(("send", EDITOR, "/start"),),
    ),
    BotCase(
        "an editor forges an admin's resume button",
        "lt",
        ("forge", EDITOR, "chan:resume:1"),
        ((ROLE_REFUSAL, {}),),
        setup=(("send", EDITOR, "/start"),),
    ),
    BotCase(
        "callback data with an unknown prefix",
        "ru",
        ("forge", ADMIN, "zz:1"),
        ((STALE, {}),),
        setup=(("send", ADMIN, "/start"),),
    ),
    BotCase(
        "callback data of 300 bytes",
        "ru",
        ("forge", ADMIN, "xx" * 150),
        ((STALE, {}),),
        setup=(("send", ADMIN, "/start"),),
    ),
    BotCase(
        "callback data that is empty",
        "kk",
        ("forge", MANAGER, ""),
        ((STALE, {}),),
        setup=(("send", MANAGER, "/start"),),
    ),
    BotCase(
        "an approval button without its post",
        "kk",
        ("forge", MANAGER, "ap:ok"),
        ((STALE, {}),),
        setup=(("send", MANAGER, "/start"),),
    ),
    BotCase(
        "a draft id that does not exist",
        "kk",
        ("forge", MANAGER, "np:open:99999"),
        (("That draft no longer exists.", {}),),
        setup=(("send", MANAGER, "/start"),),
    ),
    BotCase(
        "a draft id past 64 bits",
        "ru",
        ("forge", ADMIN, f"np:open:{BEYOND_64_BITS}"),
        ((STALE, {}),),
        setup=(("send", ADMIN, "/start"),),
    ),
    BotCase(
        "a queue button with an id past 64 bits",
        "ru",
        ("forge", ADMIN, f"q:now:{BEYOND_64_BITS}"),
        ((STALE, {}),),
        setup=(("send", ADMIN, "/start"),),
    ),
    BotCase(
        "a draft id in Arabic-Indic digits",
        "ru",
        ("forge", ADMIN, "np:open:١"),
        ((STALE, {}),),
        absent=((OPEN_AGAIN, {"id": 1}),),
        setup=(("send", ADMIN, "/new Черновик Айгерим"), ("send", ADMIN, "/drafts")),
    ),
    BotCase(
        "a draft id in full-width digits",
        "ru",
        ("forge", ADMIN, "np:open:１"),
        ((STALE, {}),),
        absent=((OPEN_AGAIN, {"id": 1}),),
        setup=(("send", ADMIN, "/new Черновик Айгерим"), ("send", ADMIN, "/drafts")),
    ),
    BotCase(
        "an approval button with a superscript digit",
        "kk",
        ("forge", MANAGER, "ap:ok:¹"),
        ((STALE, {}),),
        setup=(("send", MANAGER, "/start"),),
    ),
    BotCase(
        "an editor opens another person's draft by forged data",
        "lt",
        ("forge", EDITOR, "np:open:1"),
        absent=((OPEN_AGAIN, {"id": 1}),),
        setup=(
            ("send", ADMIN, "/new Черновик Айгерим"),
            ("send", ADMIN, "/drafts"),
            ("send", EDITOR, "/start"),
        ),
    ),
    *(
        BotCase(
            f"an unreadable time ({lang})",
            lang,
            ("send", USERS[lang], UNREADABLE_TIMES[lang]),
            ((UNREADABLE, {"text": UNREADABLE_TIMES[lang]}),),
            setup=_timed(lang),
        )
        for lang in ("ru", "kk", "lt", "en")
    ),
    *(
        BotCase(
            f"a time in the past ({lang})",
            lang,
            ("send", USERS[lang], PAST_TIMES[lang]),
            ((PAST, {"time": yesterday_at_10}),),
            setup=_timed(lang),
        )
        for lang in ("ru", "kk", "lt", "en")
    ),
    BotCase(
        "a typed time skipped by daylight saving",
        "lt",
        ("send", EDITOR, "2027-03-28 03:30"),
        ((SKIPPED, {"time": "2027-03-28 03:30", "zone": "Europe/Vilnius"}),),
        setup=(("zone", "Europe/Vilnius"), ("time", EDITOR)),
    ),
    BotCase(
        "an hour that does not exist",
        "ru",
        ("send", ADMIN, "завтра в 25:00"),
        ((UNREADABLE, {"text": "завтра в 25:00"}),),
        setup=(("time", ADMIN),),
    ),
    BotCase(
        "an hour that does not exist, written in English",
        "lt",
        ("send", EDITOR, "tomorrow at 25:00"),
        ((UNREADABLE, {"text": "tomorrow at 25:00"}),),
        setup=(("time", EDITOR),),
    ),
    BotCase(
        "an hour that does not exist, written in Kazakh",
        "lt",
        ("send", EDITOR, "ертең 25:00"),
        ((UNREADABLE, {"text": "ертең 25:00"}),),
        setup=(("time", EDITOR),),
    ),
    BotCase(
        "a minute that does not exist, in Lithuanian",
        "lt",
        ("send", EDITOR, "rytoj 18:75"),
        ((UNREADABLE, {"text": "rytoj 18:75"}),),
        setup=(("time", EDITOR),),
    ),
    BotCase(
        "a post without text",
        "lt",
        ("press", EDITOR, "np:next"),
        ((NO_TEXT, {}),),
        setup=(("send", EDITOR, "/new"), ("photo", EDITOR, 0)),
    ),
    BotCase(
        "an eleventh photo",
        "kk",
        ("photo", MANAGER, 10),
        ((ALBUM_FULL, {"limit": 10}),),
        setup=(("send", MANAGER, "/new Он бір сурет"), *(("photo", MANAGER, n) for n in range(10))),
    ),
    BotCase(
        "a file that is not an image in /new",
        "lt",
        ("file", EDITOR, "plan.pdf", b"%PDF-1.4 not a picture"),
        ((NOT_AN_IMAGE, {"name": "plan.pdf"}),),
        setup=(("send", EDITOR, "/new Renginys"),),
    ),
    BotCase(
        "a decompression bomb in /new",
        "ru",
        ("file", ADMIN, "bomb.png", b"bomb"),
        ((NOT_AN_IMAGE, {"name": "bomb.png"}),),
        setup=(("send", ADMIN, "/new Бомба"),),
    ),
    BotCase(
        "a file of another kind as a plan",
        "lt",
        ("file", EDITOR, "report.pdf", b"%PDF-1.4"),
        ((NOT_A_PLAN, {"name": "report.pdf"}),),
        setup=(("send", EDITOR, "/start"),),
    ),
    BotCase(
        "a plan with an impossible hour",
        "lt",
        ("file", EDITOR, "plan.csv", BAD_PLAN),
        (
            (
                "row {row}, column {column}: {reason}",
                {
                    "row": 2,
                    "column": "time",
                    "reason": (
                        "cannot read the time of day {text!r}: write HH:MM, e.g. 10:00",
                        {"text": "25:00"},
                    ),
                },
            ),
        ),
        setup=(("send", EDITOR, "/start"),),
    ),
    BotCase(
        "HTML in a new post is previewed as text",
        "ru",
        ("send", ADMIN, "2030-06-04 10:00"),
        literal=("<b>not bold</b>", "<tg-spoiler>"),
        setup=(("time", ADMIN, HTML),),
        writes=True,
    ),
]


def _forge(bot: BotHarness, user: int, data: str) -> None:
    """A callback query with `data` under the bot's latest message to `user`, as a modified
    client could send it: no button needs to carry the data."""
    from sandbox.telegram_objects import CallbackQuery

    state = bot.state

    def inject() -> None:
        message = next(m for m in reversed(state.history[user]) if m.by_bot)
        query_id = f"forged-{len(state.callback_queries)}"
        state.callback_queries[query_id] = CallbackQuery(
            query_id, user, user, message.message_id, data
        )
        state.enqueue(
            "callback_query",
            {
                "id": query_id,
                "from": state.user(user).to_api(),
                "message": message.to_api(),
                "chat_instance": "1",
                "data": data,
            },
        )

    bot.server.call(inject)


def _answered(bot: BotHarness) -> str:
    queries = bot.server.call(lambda: list(bot.state.callback_queries.values()))
    return str(queries[-1].answer.get("text") or "") if queries and queries[-1].answered else ""


async def _step(bot: BotHarness, library: Library, step: Step, files: Path) -> str:
    """Carry out one step; returns what the person was shown in answer."""
    kind, *rest = step
    if kind == "lang":
        set_language(library, rest[0], rest[1])
        return ""
    if kind == "client":
        set_user_language(bot, rest[0], rest[1])
        return ""
    if kind == "zone":
        from content.storage.models import Organization

        with library.sessions.begin() as session:
            for org in session.query(Organization):
                org.timezone = rest[0]
        return ""
    if kind == "time":
        user = rest[0]
        await bot.send(user, "/new " + (rest[1] if len(rest) > 1 else "Лекция"))
        await bot.press(user, "np:next")
        await bot.press(user, f"np:ch:{channel_id(library, 'news')}")
        await bot.press(user, "np:chok")
        return ""
    user = rest[0]
    before = {m["message_id"]: m.get("edit_date") for m in bot.history(user)}
    if kind == "send":
        await bot.send(user, rest[1])
    elif kind == "photo":
        await bot.send_photo(user, jpeg(colour=(rest[1] * 20, 0, 0)))
    elif kind == "file":
        name, data = rest[1], rest[2]
        if data == b"bomb":
            data = (files / "bomb.png").read_bytes()
        await send_document(bot, user, data, name, "application/octet-stream")
    elif kind == "press":
        await bot.press(user, rest[1])
    elif kind == "forge":
        _forge(bot, user, rest[1])
        await bot._process()
    shown = [
        m.get("text") or m.get("caption") or ""
        for m in bot.history(user)
        if m.get("sender") == "bot"
        and (m["message_id"] not in before or m.get("edit_date") != before[m["message_id"]])
    ]
    if kind in ("press", "forge"):
        shown.append(_answered(bot))
    return "\n".join(shown)


def _render(language: str, message: str, params: dict[str, Any]) -> str:
    """`message` in `language`; a parameter that is itself (message, params) is rendered first,
    and one that is a function of the language is called with it."""
    filled = {
        k: _render(language, *v) if isinstance(v, tuple) else v(language) if callable(v) else v
        for k, v in params.items()
    }
    return translate(language, message, **filled)


def _library_rows(library: Library) -> dict[str, list[tuple[Any, ...]]]:
    rows = dump(library.database.url.render_as_string(hide_password=False))
    rows.pop("processed_update", None)  # which update ids were seen: written for every update
    rows.pop("follower", None)  # who has started the bot: known from any private message
    return rows


@pytest.fixture(scope="module")
def bomb_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bomb")
    decompression_bomb(folder / "bomb.png")
    return folder


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=c.marks) for c in BOT_CASES])
async def test_the_bot(case: BotCase, bot: BotHarness, library: Library, bomb_folder: Path) -> None:
    manual_clock(library)
    for step in case.setup:
        await _step(bot, library, step, bomb_folder)
    before = _library_rows(library)
    shown = await _step(bot, library, case.act, bomb_folder)
    assert translate(case.language, SOMETHING_WRONG) not in shown
    for message, params in case.expect:
        expected = _render(case.language, message, params)
        assert expected in shown, (expected, shown)
        if case.language != "en":
            assert expected != _render("en", message, params)  # it really is translated
    for message, params in case.absent:
        assert _render(case.language, message, params) not in shown, shown
    for text in case.literal:
        assert text in shown, shown
    if not case.writes:
        assert _library_rows(library) == before


# --- the web port --------------------------------------------------------------------------------

SECRET = "s3cret_for-the-webhook"


@dataclass(frozen=True)
class WebCase:
    """A raw request (the path is sent exactly as written: no client normalises it) and the
    status it must get; `body_has` must be in the answer, `body_lacks` never."""

    name: str
    method: str
    path: str
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    body_has: bytes = b""
    marks: tuple[pytest.MarkDecorator, ...] = ()


WITH_SECRET = ((SECRET_HEADER, SECRET), ("Content-Type", "application/json"))
UPDATE = json.dumps(
    {
        "update_id": 7,
        "message": {"message_id": 1, "date": 0, "chat": {"id": 1, "type": "private"}, "text": "hi"},
    }
).encode()
WEB_CASES = [
    *(
        WebCase(f"media path {path}", "GET", path, 404)
        for path in (
            "/media/../secret.txt",
            "/media/%2e%2e/secret.txt",
            "/media/..%2fsecret.txt",
            "/media/%2e%2e%2fsecret.txt",
            "/media/..%5csecret.txt",
            "/media/..\\secret.txt",
            "/media/ab/../../secret.txt",
            "/media/{root}/secret.txt",
            "/media/%2f{root}%2fsecret.txt",
            "/media//etc/passwd",
            "/media/%00",
            "/media/link.txt",
            "/media/ab",
            "/media/ab/x.jpg%00.png",
            "/media/" + "a" * 300,  # longer than a file name may be
        )
    ),
    WebCase("a stored media file is served", "GET", "/media/ab/x.jpg", 200, body_has=b"JFIF"),
    *(
        WebCase(f"events path {path}", "GET", path, 404)
        for path in (
            "/events.ics/../secret.txt",
            "/events.ics/..%2f..%2fsecret.txt",
            "/events.ics%2f..%2f..%2fsecret.txt",
            "/%2e%2e/events.ics/..",
            "/events.ics/{root}/secret.txt",
        )
    ),
    WebCase(
        "events with a traversal in the query are the feed",
        "GET",
        "/events.ics?file=../../secret.txt",
        200,
        body_has=b"BEGIN:VCALENDAR",
    ),
    WebCase("events by POST", "POST", "/events.ics", 405),
    WebCase("a webhook call without the secret", "POST", WEBHOOK_PATH, 403, body=UPDATE),
    WebCase(
        "a webhook call with a wrong secret",
        "POST",
        WEBHOOK_PATH,
        403,
        headers=((SECRET_HEADER, "guess"),),
        body=UPDATE,
    ),
    WebCase(
        "a webhook call with the secret's prefix",
        "POST",
        WEBHOOK_PATH,
        403,
        headers=((SECRET_HEADER, SECRET[:-1]),),
        body=UPDATE,
    ),
    WebCase(
        "a webhook call with an empty secret",
        "POST",
        WEBHOOK_PATH,
        403,
        headers=((SECRET_HEADER, ""),),
        body=UPDATE,
    ),
    WebCase(
        "a webhook body of 2 MB",
        "POST",
        WEBHOOK_PATH,
        413,
        headers=WITH_SECRET,
        body=b'{"update_id": 1, "x": "' + b"a" * 2_000_000 + b'"}',
    ),
    WebCase(
        "a webhook body that is not JSON",
        "POST",
        WEBHOOK_PATH,
        400,
        headers=WITH_SECRET,
        body=b"update_id=1",
    ),
    WebCase(
        "a webhook body that is not UTF-8",
        "POST",
        WEBHOOK_PATH,
        400,
        headers=WITH_SECRET,
        body=b'{"update_id": 1, "x": "\xff"}',
    ),
    WebCase(
        "a webhook body without an update id",
        "POST",
        WEBHOOK_PATH,
        400,
        headers=WITH_SECRET,
        body=b'{"message": {}}',
    ),
    WebCase(
        "a webhook body of []",
        "POST",
        WEBHOOK_PATH,
        400,
        headers=WITH_SECRET,
        body=b"[]",
    ),
    WebCase(
        "a webhook body of a number",
        "POST",
        WEBHOOK_PATH,
        400,
        headers=WITH_SECRET,
        body=b"1",
    ),
    WebCase(
        "a webhook update with the secret is taken",
        "POST",
        WEBHOOK_PATH,
        200,
        headers=WITH_SECRET,
        body=UPDATE,
        body_has=b"ok",
    ),
    WebCase("a webhook by GET", "GET", WEBHOOK_PATH, 405),
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def web_afisha(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Afisha, Path]]:
    """An installation with an upcoming event and one stored image, beside a secret file."""
    directory = tmp_path_factory.mktemp(f"web-{request.param}")
    with scratch_database(request.param, directory) as url:
        if url is None:
            pytest.skip("PostgreSQL is not answering on 127.0.0.1:5432")
        root = directory / "media"
        (root / "ab").mkdir(parents=True)
        Image.new("RGB", (10, 10)).save(root / "ab" / "x.jpg", "JPEG")
        (directory / "secret.txt").write_text("not public")
        (root / "link.txt").symlink_to(directory / "secret.txt")
        settings = Settings(
            database_url=url,
            organization="Central Library",
            timezone="Europe/Vilnius",
            media_dir=str(root),
        )
        core = open_afisha(settings, migrate=True)
        try:
            from datetime import UTC, datetime, timedelta

            now = datetime.now(UTC)
            with core.transaction() as (session, org):
                add_channel(
                    session,
                    org,
                    core.cipher,
                    name="news",
                    platform=Platform.TELEGRAM,
                    external_id="@library_news",
                    token=None,
                    language=None,
                    actor="test",
                )
                new = NewEvent(
                    title="Knygų mainai",
                    starts_at=now + timedelta(days=3),
                    channels=["news"],
                    announce_at=now + timedelta(days=1),
                    reminder_offsets=[120],
                )
                add_event(session, org, new, settings.media_path, now, "test")
            yield core, directory
        finally:
            core.close()


@pytest.fixture
async def web(
    web_afisha: tuple[Afisha, Path], tmp_path: Path
) -> AsyncIterator[TestClient[Any, Any]]:
    core, _ = web_afisha
    services = BotServices(
        core.sessions, SystemClock(), tmp_path / "media", "en", fetch_image=download_image
    )
    sink = WebhookSink(SECRET)
    # Never started: the route only hands updates to its queue.
    sink.application = build_application(services, "123456:ABCdef", "http://127.0.0.1:9")
    async with TestClient(TestServer(make_web_app(core, sink))) as client:
        yield client


@pytest.mark.parametrize("case", [pytest.param(c, id=c.name, marks=c.marks) for c in WEB_CASES])
async def test_the_web_port(
    case: WebCase, web: TestClient[Any, Any], web_afisha: tuple[Afisha, Path]
) -> None:
    from yarl import URL

    core, directory = web_afisha
    url = core.settings.database_url
    path = case.path.replace("{root}", str(directory).lstrip("/"))
    before = dump(url)
    raw = URL(f"http://{web.host}:{web.port}{path}", encoded=True)
    async with web.session.request(
        case.method,
        raw,
        data=None if case.body is None else io.BytesIO(case.body),
        headers=dict(case.headers),
    ) as answer:
        body = await answer.read()
        assert answer.status == case.status, (path, body[:200])
    assert b"not public" not in body
    assert b"Traceback" not in body
    assert case.body_has in body
    assert dump(url) == before


# --- text reaches Telegram as typed --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [HTML, ENTITIES, RTL, ZWJ, "<" * 4096, COMBINING],
    ids=["html", "telegram markup", "right-to-left", "zero-width joiners", "4096 '<'", "combining"],
)
async def test_text_arrives_on_telegram_exactly_as_typed(text: str, sandbox: SandboxThread) -> None:
    fixtures = sandbox.sandbox.fixtures
    chat = fixtures.chats[0].id
    channel = TelegramChannel(fixtures.bot_token, sandbox.base_url, chat)
    try:
        await channel.publish(Outgoing(text))
    finally:
        await channel.close()
    from sandbox.telegram_state import telegram_state

    [message] = sandbox.call(lambda: telegram_state(sandbox.sandbox).chat_history(chat))
    assert message["text"] == text
    assert message["entities"] == []
