"""`afisha import`, `feed`, `slot`, `event ical` and `post add --at next-slot` in use."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import pytest

from content.storage.secrets import generate_key
from tests.afisha.test_cli import Afisha
from tests.support.dbdump import dump
from tests.support.feeds import rss


@pytest.fixture
def afisha(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Afisha:
    monkeypatch.chdir(tmp_path)
    run = Afisha(
        {
            "AFISHA_DATABASE_URL": database_url,
            "AFISHA_SECRET_KEY": generate_key(),
            "AFISHA_TIMEZONE": "Asia/Almaty",
            "AFISHA_ORGANIZATION": "Central Library",
            "AFISHA_MEDIA_DIR": str(tmp_path / "media"),
        }
    )
    run.ok("db", "upgrade")
    run.ok("channel", "add", "news", "--platform", "telegram", "--chat-id", "@library_news")
    run.ok(
        "channel", "add", "kz", "--platform", "telegram", "--chat-id", "@library_kz", "--lang", "kk"
    )
    return run


def test_help_lists_the_plan_commands(afisha: Afisha) -> None:
    output = afisha.ok("--help").output
    assert all(f"  {c}" in output for c in ("import", "feed", "slot"))
    assert "  ical" in afisha.ok("event", "--help").output
    assert all(
        f"  {s}" in afisha.ok("feed", "--help").output for s in ("add", "list", "remove", "poll")
    )
    assert all(f"  {s}" in afisha.ok("slot", "--help").output for s in ("add", "list", "remove"))


def test_the_shipped_template_imports_a_month_once(afisha: Afisha, database_url: str) -> None:
    written = afisha.ok("import", "--template").output
    assert "wrote plan-template.xlsx: 30 posts and 5 events" in written
    assert afisha("import", "--template").exit_code == 2  # never overwrites
    dry = afisha.ok("import", "plan-template.xlsx", "--dry-run").output
    assert "dry run: 30 post(s) and 5 event(s) would be created" in dry
    before = dump(database_url)
    assert afisha.ok("status").output  # the dry run wrote nothing
    assert dump(database_url) == before

    report = json.loads(afisha.ok("import", "plan-template.xlsx", "--json").output)
    assert (len(report["posts"]), len(report["events"]), report["errors"]) == (30, 5, [])
    posts = json.loads(afisha.ok("post", "list", "--json").output)
    assert len(posts) == 30
    # The template names the installation's channels (Instagram's would need images).
    assert {tuple(sorted(x["channel"] for x in p["publications"])) for p in posts} == {
        ("kz", "news")
    }
    assert len(json.loads(afisha.ok("event", "list", "--json").output)) == 5

    again = afisha.ok("import", "plan-template.xlsx").output
    assert "imported 0 post(s) and 0 event(s), updated 0 event(s); 35 row(s) were already" in again
    assert len(json.loads(afisha.ok("post", "list", "--json").output)) == 30


def test_three_bad_rows_import_nothing_and_are_listed(
    afisha: Afisha, database_url: str, tmp_path: Path
) -> None:
    afisha.ok("import", "--template", "plan.csv", "--channels", "news,kz")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "plan.csv").read_text("utf-8-sig"))))
    rows[0]["time"] = "9 am"
    rows[5]["channels"] = "news,instagram"
    rows[30]["reminders"] = "soon"
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    (tmp_path / "bad.csv").write_text(buffer.getvalue(), encoding="utf-8")
    before = dump(database_url)
    result = afisha("import", "bad.csv")
    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines[:3] == [
        "error: row 2, column time: cannot read the time of day '9 am': write HH:MM, e.g. 10:00",
        "error: row 7, column channels: unknown channel 'instagram' (known channels: kz, news)",
        "error: row 32, column reminders: cannot read the reminder offset 'soon': use numbers "
        "with m, h, d or w, e.g. 7d,1d,2h",
    ]
    assert lines[3].startswith("3 row(s) have problems; nothing was imported")
    assert dump(database_url) == before

    partial = afisha("import", "bad.csv", "--partial", "--json")
    assert partial.exit_code == 0
    report = json.loads(partial.output)
    assert (len(report["posts"]), len(report["events"]), len(report["errors"])) == (28, 4, 3)


def test_import_refuses_missing_and_unreadable_files(afisha: Afisha, database_url: str) -> None:
    before = dump(database_url)
    for args, message in (
        (["import"], "name the file to import"),
        (["import", "nothing.xlsx"], "nothing.xlsx does not exist"),
    ):
        result = afisha(*args)
        assert result.exit_code == 2
        assert message in result.output
    Path("plan.txt").write_text("hello")
    assert "send an .xlsx, .csv or .ics file" in afisha("import", "plan.txt").output
    assert dump(database_url) == before


def test_event_ical_writes_a_feed_that_imports_back(afisha: Afisha, tmp_path: Path) -> None:
    afisha.ok("import", "--template", "plan.csv", "--channels", "news")
    afisha.ok("import", "plan.csv")
    stdout = afisha.ok("event", "ical").output
    assert stdout.startswith("BEGIN:VCALENDAR")
    afisha.ok("event", "ical", "--output", "events.ics")
    calendar = icalendar.Calendar.from_ical((tmp_path / "events.ics").read_bytes())
    events = calendar.walk("VEVENT")
    assert len(events) == 5
    assert all(str(e["UID"]).endswith("@central-library") for e in events)
    again = afisha.ok("import", "events.ics").output
    assert "updated 0 event(s); 5 row(s) were already imported" in again


def test_feeds_from_the_command_line(afisha: Afisha, tmp_path: Path) -> None:
    (tmp_path / "news.xml").write_bytes(rss(5))
    feed_id = afisha.ok("feed", "add", str(tmp_path / "news.xml"), "--channels", "news").output
    assert afisha.ok("feed", "poll").output.strip() == "polled 1 feed(s): 5 new draft(s), 0 queued"
    assert "0 new draft(s)" in afisha.ok("feed", "poll").output
    (listed,) = json.loads(afisha.ok("feed", "list", "--json").output)
    assert (listed["id"], listed["auto"], listed["channels"]) == (int(feed_id), False, ["news"])
    posts = json.loads(afisha.ok("post", "list", "--json").output)
    assert [p["status"] for p in posts] == ["draft"] * 5
    assert "drafts" in afisha.ok("feed", "list").output
    afisha.ok("feed", "remove", feed_id.strip())
    assert afisha("feed", "remove", feed_id.strip()).exit_code == 2
    bad = afisha("feed", "add", "ftp://example.org/rss", "--channels", "news")
    assert bad.exit_code == 2
    assert "not a feed address" in bad.output


def test_slots_and_next_slot(afisha: Afisha) -> None:
    assert (
        "has no posting times"
        in afisha("post", "add", "--text", "x", "--channels", "news", "--at", "next-slot").output
    )
    afisha.ok("slot", "add", "news", "tue,thu", "10:00")
    afisha.ok("slot", "add", "kz", "thu", "10:00")
    assert json.loads(afisha.ok("slot", "list", "--json").output) == [
        {"channel": "kz", "weekday": "thu", "time": "10:00"},
        {"channel": "news", "weekday": "tue", "time": "10:00"},
        {"channel": "news", "weekday": "thu", "time": "10:00"},
    ]
    first = json.loads(
        afisha.ok(
            "post", "add", "--text", "A", "--channels", "news", "--at", "next-slot", "--json"
        ).output
    )["publications"][0]["due_at"]
    second = json.loads(
        afisha.ok(
            "post", "add", "--text", "B", "--channels", "news", "--at", "next-slot", "--json"
        ).output
    )["publications"][0]["due_at"]
    almaty = ZoneInfo("Asia/Almaty")
    times = [datetime.fromisoformat(t).astimezone(almaty) for t in (first, second)]
    assert [t.strftime("%a %H:%M") for t in times] in (
        ["Tue 10:00", "Thu 10:00"],
        ["Thu 10:00", "Tue 10:00"],
    )
    assert times[0] > datetime.now(UTC)
    assert times[1] > times[0]
    both = afisha.ok("slot", "next", "--channels", "news,kz").output
    assert date.fromisoformat(both.strip()[:10]).strftime("%a") == "Thu"
    afisha.ok("slot", "remove", "news", "tue,thu", "10:00")
    bad = afisha("slot", "add", "news", "someday", "10:00")
    assert bad.exit_code == 2
    assert "cannot read the weekdays" in bad.output


@pytest.mark.parametrize(
    ("calendar", "reason"),
    [
        (
            "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:notadate\n",
            "error: the calendar is incomplete: BEGIN:VEVENT on line 2 has no END:VEVENT",
        ),
        (
            "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:x\r\nBEGIN:VEVENT\r\nUID:1@x\r\n"
            "SUMMARY:Reading\r\nDTSTART:notadate\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
            "error: row 1, column DTSTART, line 7: cannot read the date and time 'notadate'",
        ),
    ],
)
def test_a_malformed_calendar_exits_2_with_the_line_and_writes_nothing(
    afisha: Afisha, database_url: str, calendar: str, reason: str
) -> None:
    Path("events.ics").write_text(calendar)
    before = dump(database_url)
    result = afisha("import", "events.ics", "--channels", "news")
    assert result.exit_code == 2, result.output
    assert result.output.startswith(reason)
    assert dump(database_url) == before
