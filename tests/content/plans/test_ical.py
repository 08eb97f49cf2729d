"""Events as an .ics feed that icalendar reads, and back: re-imports match by UID."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import icalendar
import pytest

from channels.download import download_image
from content.domain.states import EventStatus, PublicationKind
from content.domain.timeparse import zone
from content.errors import InvalidInput
from content.plans.ical import export_events, own_uid, read_calendar
from content.plans.importing import ImportReport, import_plan
from content.queueing.scheduling import NewEvent, add_event, cancel_event
from content.storage.models import Event, ImportRow, Organization, Publication
from tests.support.dbdump import dump
from tests.support.library import Library, library

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
STARTS = datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


@pytest.fixture
def lib(database_url: str, tmp_path: Path) -> Iterator[Library]:
    with library(database_url, tmp_path) as created:
        yield created


def add(lib: Library, title: str, starts: datetime, **fields: object) -> int:
    with lib.transaction() as (session, org):
        new = NewEvent(
            title=title,
            starts_at=starts,
            channels=["news"],
            announce_at=NOW,
            reminder_offsets=[1440, 120],
            **fields,  # type: ignore[arg-type]
        )
        return add_event(session, org, new, lib.media_dir, NOW, "test").id


def export(lib: Library, now: datetime = NOW) -> bytes:
    with lib.transaction() as (session, org):
        return export_events(session, org, now)


def load(lib: Library, data: bytes, **options: object) -> ImportReport:
    options.setdefault("fetch", download_image)
    return import_plan(
        lib.sessions,
        lib.organization_id,
        data,
        "events.ics",
        media_dir=lib.media_dir,
        now=NOW,
        actor="test",
        **options,  # type: ignore[arg-type]
    )


def test_the_feed_holds_upcoming_events_and_icalendar_reads_it(lib: Library) -> None:
    talk = add(
        lib,
        "Встреча с автором",
        STARTS,
        ends_at=STARTS + timedelta(hours=2),
        place="Читальный зал",
        description="О новом романе, с вопросами.",
        registration_url="https://example.org/talk",
    )
    add(lib, "Board games", STARTS + timedelta(days=3))
    past = add(lib, "Finished", NOW + timedelta(hours=1))
    cancelled = add(lib, "Called off", STARTS)
    with lib.transaction() as (session, org):
        cancel_event(session, org, cancelled, "test")
    calendar = icalendar.Calendar.from_ical(export(lib, NOW + timedelta(hours=2)))
    events = calendar.walk("VEVENT")
    assert [str(e["SUMMARY"]) for e in events] == ["Встреча с автором", "Board games"]
    first = events[0]
    assert str(first["UID"]) == f"afisha-event-{talk}@central-library"
    assert first["DTSTART"].dt == STARTS
    assert first["DTEND"].dt == STARTS + timedelta(hours=2)
    assert str(first["LOCATION"]) == "Читальный зал"
    assert str(first["DESCRIPTION"]) == "О новом романе, с вопросами."
    assert str(first["URL"]) == "https://example.org/talk"
    assert str(calendar["X-WR-CALNAME"]) == "Central Library"
    assert past not in [int(str(e["UID"]).split("-")[2].split("@")[0]) for e in events]


def test_the_feed_re_imports_to_the_same_events(lib: Library, database_url: str) -> None:
    add(lib, "Talk", STARTS, place="Hall")
    add(lib, "Games", STARTS + timedelta(days=1))
    feed = export(lib)
    before = dump(database_url)
    report = load(lib, feed)
    assert (report.events, report.updated, report.unchanged, report.errors) == ([], [], 2, [])
    assert dump(database_url) == before


def test_a_changed_time_moves_the_event_and_its_reminders(lib: Library) -> None:
    event_id = add(lib, "Talk", STARTS)
    later = STARTS + timedelta(days=2, hours=1)
    feed = export(lib).replace(b"DTSTART:20261120T160000Z", b"DTSTART:20261122T170000Z")
    feed = feed.replace(b"SUMMARY:Talk", b"SUMMARY:Talk (moved)")
    report = load(lib, feed)
    assert report.updated == [event_id]
    with lib.sessions() as session:
        event = session.get(Event, event_id)
        assert event is not None
        assert (event.title, event.starts_at) == ("Talk (moved)", later)
        due = sorted(p.due_at for p in event.publications if p.kind is PublicationKind.REMINDER)
        assert due == [later - timedelta(days=1), later - timedelta(hours=2)]
    assert load(lib, feed).unchanged == 1


def test_events_from_another_calendar_are_created_once_by_uid(lib: Library) -> None:
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//Library website//EN")
    calendar.add("version", "2.0")
    for uid, start in (("web-17@library.example", STARTS), ("web-18@library.example", None)):
        item = icalendar.Event()
        item.add("uid", uid)
        item.add("summary", f"Event {uid[:6]}")
        # A floating time is the organisation's local time; TZID is honoured.
        item.add("dtstart", start or datetime(2026, 11, 25, 18, 0, tzinfo=zone("Asia/Almaty")))
        item.add("duration", timedelta(hours=1))
        calendar.add_component(item)
    data = calendar.to_ical()
    with pytest.raises(InvalidInput, match="unknown channel 'nope'"):
        load(lib, data, channels=["nope"])
    missing = load(lib, data)
    assert [(e.row, e.column) for e in missing.errors] == [(1, "UID"), (2, "UID")]
    assert "--channels" in str(missing.errors[0])
    report = load(lib, data, channels=["news", "fb"])
    assert len(report.events) == 2
    assert report.committed
    with lib.sessions() as session:
        second = session.get(Event, report.events[1])
        assert second is not None
        assert second.starts_at == datetime(2026, 11, 25, 13, 0, tzinfo=UTC)
        assert second.ends_at == datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
        assert len({p.channel_id for p in second.publications}) == 2
    again = load(lib, data, channels=["news"])
    assert (again.events, again.unchanged) == ([], 2)
    # The feed gives the calendar's own UIDs back, so the website sees the same events.
    exported = icalendar.Calendar.from_ical(export(lib)).walk("VEVENT")
    assert {str(e["UID"]) for e in exported} == {"web-17@library.example", "web-18@library.example"}
    assert lib.count(ImportRow) == 2


def test_a_cancelled_event_in_the_calendar_cancels_ours(lib: Library) -> None:
    event_id = add(lib, "Talk", STARTS)
    feed = export(lib).replace(b"END:VEVENT", b"STATUS:CANCELLED\r\nEND:VEVENT")
    assert load(lib, feed).updated == [event_id]
    with lib.sessions() as session:
        event = session.get(Event, event_id)
        assert event is not None
        assert event.status is EventStatus.CANCELLED
        assert all(p.state.value == "cancelled" for p in session.query(Publication))


def test_calendar_events_afisha_cannot_take_are_reported(lib: Library) -> None:
    tz = zone("Europe/Vilnius")
    ics = (
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
        b"BEGIN:VEVENT\r\nUID:a\r\nSUMMARY:All day\r\nDTSTART;VALUE=DATE:20261201\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:b\r\nDTSTART:20261201T100000Z\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:c\r\nSUMMARY:Weekly\r\nDTSTART:20261201T100000Z\r\n"
        b"RRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nSUMMARY:No uid\r\nDTSTART:20261201T100000Z\r\nEND:VEVENT\r\n"
        b"BEGIN:VEVENT\r\nUID:e\r\nSUMMARY:Fine\r\nDTSTART:20261201T100000\r\nEND:VEVENT\r\n"
        b"END:VCALENDAR\r\n"
    )
    events, errors = read_calendar(ics, tz)
    assert [(e.row, e.column) for e in errors] == [
        (1, "DTSTART"),
        (2, "SUMMARY"),
        (3, "RRULE"),
        (4, "UID"),
    ]
    assert [(e.uid, e.starts_at) for e in events] == [("e", datetime(2026, 12, 1, 8, tzinfo=UTC))]
    with pytest.raises(InvalidInput, match="not an iCalendar"):
        read_calendar(b"hello", tz)


def test_own_uids_name_the_organisation(lib: Library) -> None:
    with lib.transaction() as (session, _org):
        org = session.get(Organization, lib.organization_id)
        assert org is not None
        assert own_uid(org, 7) == "afisha-event-7@central-library"
        org.name = "Библиотека"
        assert own_uid(org, 7) == f"afisha-event-7@organization-{org.id}"


BROKEN_START = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//t//EN\r\n"
    b"BEGIN:VEVENT\r\nUID:fine\r\nSUMMARY:Fine\r\nDTSTART:20261201T100000Z\r\nEND:VEVENT\r\n"
    b"BEGIN:VEVENT\r\nUID:broken\r\nSUMMARY:Broken\r\nDTSTART:notadate\r\nEND:VEVENT\r\n"
    b"END:VCALENDAR\r\n"
)


def test_a_broken_property_is_refused_with_its_line_and_reason() -> None:
    tz = zone("Asia/Almaty")
    events, errors = read_calendar(BROKEN_START, tz)
    assert [e.uid for e in events] == ["fine"]
    ((error),) = errors
    assert (error.row, error.column, error.line) == (2, "DTSTART", 12)
    assert str(error) == (
        "row 2, column DTSTART, line 12: cannot read the date and time 'notadate': write it "
        "as 20261201T180000 (local), 20261201T130000Z (UTC) or with a TZID"
    )
    assert error.explain("ru").startswith("строка 2, столбец DTSTART, строка файла 12:")

    ends = (
        b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:a\nSUMMARY:x\nDTSTART:20261201T100000\n"
        b"DTEND:tomorrow\nEND:VEVENT\nBEGIN:VEVENT\nUID:b\nSUMMARY:y\n"
        b"DTSTART:20261201T100000\nDURATION:long\nEND:VEVENT\nBEGIN:VEVENT\nUID:c\nSUMMARY:z\n"
        b"this line is no property\nDTSTART:20261201T100000\nEND:VEVENT\nEND:VCALENDAR\n"
    )
    events, errors = read_calendar(ends, tz)
    assert events == []
    assert [(e.row, e.column, e.line) for e in errors] == [
        (1, "DTEND", 6),
        (2, "DURATION", 12),
        (3, "?", 17),
    ]
    assert "'long'" in str(errors[1])
    assert "'this line is no property'" in str(errors[2])


@pytest.mark.parametrize(
    ("data", "line"),
    [
        (b"BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:1\nSUMMARY:x\nDTSTART:notadate\n", 2),
        (b"BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nDTSTART:x\nEND:VCALENDAR\n", 3),
        (b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\n", 1),
    ],
)
def test_a_calendar_cut_short_is_refused_with_the_line_left_open(data: bytes, line: int) -> None:
    with pytest.raises(InvalidInput, match=f"on line {line} has no END") as refused:
        read_calendar(data, zone("Asia/Almaty"))
    assert refused.value.params["line"] == line


def test_a_broken_calendar_imports_nothing(lib: Library, database_url: str) -> None:
    before = dump(database_url)
    report = load(lib, BROKEN_START, channels=["news"])
    assert not report.committed
    assert [(e.row, e.column) for e in report.errors] == [(2, "DTSTART")]
    assert dump(database_url) == before
    with pytest.raises(InvalidInput, match="has no END"):
        load(lib, BROKEN_START[:-15], channels=["news"])
    assert dump(database_url) == before


@pytest.mark.parametrize(
    ("lines", "column", "reason"),
    [
        ("DTSTART:20261201T100000\nDTSTART:20261202T100000", "DTSTART", "more than once"),
        ("DTSTART:00010101T000000", "DTSTART", "out of range"),
        ("DTSTART:20261201T100000\nDURATION:P99999999W", "DURATION", "out of range"),
    ],
)
def test_properties_given_twice_or_out_of_range_are_refused(
    lines: str, column: str, reason: str
) -> None:
    data = f"BEGIN:VCALENDAR\nBEGIN:VEVENT\nUID:1\nSUMMARY:x\n{lines}\nEND:VEVENT\nEND:VCALENDAR\n"
    events, (error,) = read_calendar(data.encode(), zone("Asia/Almaty"))
    assert events == []
    assert error.column == column
    assert reason in str(error)
