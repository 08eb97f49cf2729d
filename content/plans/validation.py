"""Checking a plan's rows: each row becomes a NewPost or NewEvent, or errors naming its columns.

Every row is checked and every problem reported, so a person fixes the file in one go.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo

from content.domain.characters import check_characters, visible
from content.domain.languages import LANGUAGES, check_language
from content.domain.reminders import DEFAULT_OFFSETS
from content.domain.rules import check_link
from content.domain.timeparse import local_to_utc, parse_offsets
from content.errors import InvalidInput, LocalMoment
from content.i18n import N_, explain, translate
from content.plans.reading import Sheet, SheetRow
from content.queueing.scheduling import NewEvent, NewPost

POST, EVENT = "post", "event"
VARIANT_COLUMNS = {f"text_{language}": language for language in LANGUAGES}
COLUMNS = (
    *"key kind date time channels text".split(),
    *VARIANT_COLUMNS,
    *"title image link place ends reminders announce language".split(),
)
REQUIRED = ("date", "time", "channels")
IGNORED = ("notes", "comment", "comments")  # the desk's own remarks, not imported
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d/%m/%Y")
_CLOCK = re.compile(r"^(\d{1,2})[:.](\d{2})(?::\d{2})?$")

ImageSource = Callable[[str], Path]
T = TypeVar("T")


@dataclass(frozen=True)
class RowError:
    """What is wrong in one cell: `row` as the spreadsheet numbers it (or the calendar's nth
    event), `column` its header (or iCal property)."""

    row: int
    column: str
    problem: InvalidInput
    line: int | None = None  # the file's line, where rows are not lines (a calendar's)

    def __str__(self) -> str:
        return self.explain("en")

    def explain(self, language: str) -> str:
        reason = explain(self.problem, language)
        if self.line is not None:
            return translate(
                language,
                N_("row {row}, column {column}, line {line}: {reason}"),
                row=self.row,
                column=self.column,
                line=self.line,
                reason=reason,
            )
        return translate(
            language,
            N_("row {row}, column {column}: {reason}"),
            row=self.row,
            column=self.column,
            reason=reason,
        )


@dataclass(frozen=True)
class PlannedRow:
    """A row that passed its checks, with the key that makes re-importing it a no-op."""

    number: int
    key: str
    post: NewPost | None = None
    event: NewEvent | None = None


@dataclass
class Checked:
    rows: list[PlannedRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class Context:
    tz: ZoneInfo
    now: datetime
    channels: set[str]
    language: str
    images: ImageSource


def stable_key(parts: dict[str, object]) -> str:
    return hashlib.sha256(
        json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()
    ).hexdigest()


class _Row:
    """Reads one row's cells, remembering each problem under its column."""

    def __init__(self, row: SheetRow) -> None:
        self.row = row
        self.errors: list[RowError] = []
        for column, value in row.cells.items():
            try:
                check_characters(value)
            except InvalidInput as problem:
                self.fail(column, problem)

    def cell(self, column: str) -> str:
        return self.row.cells.get(column, "").strip()

    def fail(self, column: str, problem: InvalidInput) -> None:
        self.errors.append(RowError(self.row.number, column, problem))

    def read(self, column: str, reader: Callable[[str], T]) -> T | None:
        try:
            return reader(self.cell(column))
        except InvalidInput as problem:
            self.fail(column, problem)
            return None


def _date(text: str) -> datetime:
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt)  # noqa: DTZ007 - a local date, zoned below
        except ValueError:
            continue
    raise InvalidInput(
        "cannot read the date {text!r}: write YYYY-MM-DD, e.g. 2026-12-01", text=text
    )


def _clock(text: str) -> timedelta:
    match = _CLOCK.match(text)
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59:
        raise InvalidInput(
            "cannot read the time of day {text!r}: write HH:MM, e.g. 10:00", text=text
        )
    return timedelta(hours=int(match.group(1)), minutes=int(match.group(2)))


def _required(text: str) -> str:
    if not text:
        raise InvalidInput("this cell is empty: fill it in")
    return text


def _local(context: Context, naive: datetime) -> datetime:
    moment = local_to_utc(naive, context.tz)
    # A minute of slack, as for times typed on the command line.
    if moment < context.now - timedelta(minutes=1):
        raise InvalidInput(
            "{time} is in the past: choose a later time",
            time=LocalMoment(moment.astimezone(context.tz), context.now),
        )
    return moment


def _channels(context: Context, text: str) -> list[str]:
    names = list(dict.fromkeys(n.strip() for n in re.split(r"[,;]", text) if n.strip()))
    if not names:
        raise InvalidInput("choose at least one channel")
    for name in names:
        if name not in context.channels:
            known = ", ".join(sorted(context.channels)) or "none"
            raise InvalidInput(
                "unknown channel {name!r} (known channels: {known})", name=name, known=known
            )
    return names


def check_headers(sheet: Sheet) -> list[RowError]:
    errors = [
        RowError(
            1,
            header,
            InvalidInput(
                "unknown column {column!r}: the columns are {known}",
                column=header,
                known=", ".join(COLUMNS),
            ),
        )
        for header in sheet.headers
        if header not in COLUMNS and header not in IGNORED
    ]
    errors += [
        RowError(1, column, InvalidInput("the file has no {column!r} column", column=column))
        for column in REQUIRED
        if column not in sheet.headers
    ]
    return errors


def check_row(row: SheetRow, context: Context) -> PlannedRow | list[RowError]:
    """One row as a NewPost or NewEvent, or every problem found in it."""
    r = _Row(row)
    kind = r.cell("kind").lower() or POST
    if kind not in (POST, EVENT):
        r.fail("kind", InvalidInput("kind {kind!r} is neither post nor event", kind=kind))
    day = r.read("date", _date)
    clock = r.read("time", _clock)
    at = None
    if day is not None and clock is not None:
        try:
            at = _local(context, day + clock)
        except InvalidInput as problem:
            r.fail("time", problem)
    channels = r.read("channels", lambda text: _channels(context, text))
    link = r.read("link", check_link)
    image_ref = r.cell("image")
    image = r.read("image", context.images) if image_ref else None
    variants = {lang: r.cell(col) for col, lang in VARIANT_COLUMNS.items() if r.cell(col)}
    key_parts: dict[str, object] = {
        "kind": kind,
        "at": at.isoformat() if at else None,
        "channels": sorted(channels or []),
        **{
            c: v.strip()
            for c, v in row.cells.items()
            if v.strip() and c not in (*REQUIRED, *IGNORED)
        },
    }
    key_parts.pop("key", None)
    key = stable_key({"key": r.cell("key")} if r.cell("key") else key_parts)

    post = event = None
    if kind == POST:
        text = r.cell("text") or variants.get(context.language) or next(iter(variants.values()), "")
        if not visible(text):
            r.fail("text", InvalidInput("the post has no text"))
        for column in ("title", "place", "ends", "reminders", "announce", "language"):
            if r.cell(column):
                r.fail(
                    column,
                    InvalidInput(
                        "{column} is for events: set kind to event, or clear the cell",
                        column=column,
                    ),
                )
        if not r.errors and at and channels:
            post = NewPost(
                text=text,
                channels=channels,
                due_at=at,
                images=[image] if image else [],
                link=link,
                variants={k: v for k, v in variants.items() if v != text},
            )
    elif kind == EVENT:
        title = r.read("title", _required)
        language = r.read("language", lambda t: check_language(t) if t else context.language)
        description = r.cell("text") or (variants.get(language) if language else None)
        for column, lang in VARIANT_COLUMNS.items():
            if r.cell(column) and lang != language:
                r.fail(
                    column,
                    InvalidInput(
                        "an event has one description: put it in text and set its language"
                    ),
                )
        ends = None
        if r.cell("ends") and day is not None:
            ends_text = r.cell("ends")
            try:
                ends_at = day + _clock(ends_text) if len(ends_text) <= 5 else _end(ends_text)
                ends = _local(context, ends_at)
            except InvalidInput as problem:
                r.fail("ends", problem)
        offsets = r.read("reminders", lambda t: parse_offsets(t) if t else list(DEFAULT_OFFSETS))
        announce = r.read("announce", lambda t: _announce(context, t))
        if at and ends and ends <= at:
            r.fail("ends", InvalidInput("the event must end after it starts"))
        if at and announce and announce > at:
            r.fail("announce", InvalidInput("the announcement must go out before the event starts"))
        if not r.errors and at and channels and title and offsets is not None and announce:
            event = NewEvent(
                title=title,
                starts_at=at,
                channels=channels,
                announce_at=announce,
                reminder_offsets=offsets,
                ends_at=ends,
                place=r.cell("place") or None,
                description=description or None,
                image=image,
                registration_url=link,
                language=language,
            )
    if r.errors:
        return r.errors
    return PlannedRow(row.number, key, post=post, event=event)


def _end(text: str) -> datetime:
    day, _, clock = text.partition(" ")
    return _date(day) + _clock(clock.strip())


def _announce(context: Context, text: str) -> datetime:
    if not text or text.lower() == "now":
        return context.now
    return _local(context, _end(text))


def check_sheet(sheet: Sheet, context: Context) -> Checked:
    """Every row checked; rows with the same key as an earlier row of the file are errors."""
    checked = Checked(errors=check_headers(sheet))
    if checked.errors:
        return checked  # every row would repeat the header's problem
    seen: dict[str, int] = {}
    for row in sheet.rows:
        result = check_row(row, context)
        if isinstance(result, list):
            checked.errors += result
        elif result.key in seen:
            twice = InvalidInput("the same as row {row}: remove one of them", row=seen[result.key])
            checked.errors.append(RowError(row.number, "key", twice))
        else:
            seen[result.key] = row.number
            checked.rows.append(result)
    return checked
