"""Importing a plan: all rows checked, then all written in one transaction, or none.

The CLI (`afisha import`) and the bot (a file sent to it) both call `import_plan`.
"""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from content.domain.reminders import DEFAULT_OFFSETS
from content.domain.states import EventStatus
from content.domain.timeparse import zone
from content.errors import InvalidInput, NotFound
from content.i18n import N_
from content.plans.ical import ICAL, CalendarEvent, own_event_id, read_calendar
from content.plans.reading import read_sheet
from content.plans.validation import Context, PlannedRow, RowError, check_sheet
from content.queueing.drafts import submit_for_approval
from content.queueing.rescheduling import reschedule_event
from content.queueing.scheduling import NewEvent, add_event, cancel_event, queue_post
from content.storage.models import Channel, Event, ImportRow, Organization

SHEET = "sheet"
Fetch = Callable[[str, Path], Path]

# Which column a refusal from queue_post/add_event belongs to, by its message.
_COLUMN_OF = {
    "choose at least one channel": "channels",
    "unknown channel {name!r} (known channels: {known})": "channels",
    "the event's start is in the past: choose a later time": "time",
    "the event must end after it starts": "ends",
    "the announcement must go out before the event starts": "announce",
    "the event needs a title": "title",
}


@dataclass
class ImportReport:
    """What an import did (or, for a dry run or a refused file, would have done)."""

    rows: int = 0  # rows (or calendar events) read
    posts: list[int] = field(default_factory=list)  # ids of posts created
    waiting: list[int] = field(default_factory=list)  # those of them waiting for approval
    events: list[int] = field(default_factory=list)  # ids of events created
    updated: list[int] = field(default_factory=list)  # events changed by a calendar re-import
    unchanged: int = 0  # already imported: skipped
    skipped: int = 0  # calendar events that are past or cancelled
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False
    committed: bool = False

    def summary(self, *, partial_option: bool = True) -> tuple[str, dict[str, object]]:
        """A message and its parameters, for `translate`. A refused import suggests the CLI's
        `--partial` where the caller has it (`partial_option`), else fixing and sending again."""
        if self.dry_run:
            message = N_(
                "dry run: {posts} post(s) and {events} event(s) would be created, {updated} "
                "event(s) updated, {unchanged} row(s) already imported; nothing was written"
            )
        elif self.errors and not self.committed:
            message = (
                N_(
                    "{errors} row(s) have problems; nothing was imported (fix them, or use "
                    "--partial to import the other rows)"
                )
                if partial_option
                else N_(
                    "{errors} row(s) have problems; nothing was imported: fix them and send the "
                    "file again"
                )
            )
        elif self.waiting:
            message = N_(
                "imported {posts} post(s) and {events} event(s), updated {updated} event(s); "
                "{unchanged} row(s) were already imported; {waiting} post(s) wait for a "
                "manager's approval"
            )
        else:
            message = N_(
                "imported {posts} post(s) and {events} event(s), updated {updated} event(s); "
                "{unchanged} row(s) were already imported"
            )
        return message, {
            "posts": len(self.posts),
            "events": len(self.events),
            "updated": len(self.updated),
            "unchanged": self.unchanged,
            "errors": len(self.errors),
            "waiting": len(self.waiting),
        }


@dataclass(frozen=True)
class Author:
    """Who imports: their posts are theirs, and wait for a manager if theirs would."""

    staff_id: int | None = None
    needs_approval: bool = False


def _local_images(image_dir: Path | None, downloads: Path, fetch: Fetch) -> Callable[[str], Path]:
    def resolve(ref: str) -> Path:
        if ref.lower().startswith(("http://", "https://")):
            return fetch(ref, downloads)
        if image_dir is None:
            raise InvalidInput(
                "image {path}: a file sent to the bot can name images only by web link "
                "(https://...)",
                path=ref,
            )
        path = Path(ref).expanduser()
        return path if path.is_absolute() else image_dir / path

    return resolve


def _row_key(source: str, key: str) -> str:
    return hashlib.sha256(f"{source}:{key}".encode()).hexdigest()


def _imported(session: Session, org: Organization, source: str, key: str) -> ImportRow | None:
    return session.scalar(
        select(ImportRow).where(
            ImportRow.organization_id == org.id,
            ImportRow.source == source,
            ImportRow.row_key == _row_key(source, key),
        )
    )


def _create_rows(
    session: Session,
    org: Organization,
    rows: list[PlannedRow],
    report: ImportReport,
    media_dir: Path,
    now: datetime,
    actor: str,
    author: Author,
) -> None:
    for row in rows:
        if _imported(session, org, SHEET, row.key):
            report.unchanged += 1
            continue
        # queue_post, submit_for_approval and add_event refuse before they write, so a refused
        # row leaves nothing.
        try:
            if row.post is not None:
                new = replace(row.post, author_id=author.staff_id)
                if author.needs_approval:
                    post = submit_for_approval(session, org, new, media_dir, actor)
                    report.waiting.append(post.id)
                else:
                    post = queue_post(session, org, new, media_dir, actor)
                report.posts.append(post.id)
                record = ImportRow(post_id=post.id)
            else:
                assert row.event is not None
                event = add_event(session, org, row.event, media_dir, now, actor)
                report.events.append(event.id)
                record = ImportRow(event_id=event.id)
        except InvalidInput as problem:
            has_image = bool(row.post and row.post.images) or bool(row.event and row.event.image)
            guess = "image" if "image" in problem.template and has_image else "text"
            column = _COLUMN_OF.get(problem.template, guess)
            report.errors.append(RowError(row.number, column, problem))
            continue
        record.organization_id, record.source = org.id, SHEET
        record.row_key = _row_key(SHEET, row.key)
        session.add(record)
    session.flush()


def _apply_calendar_event(
    session: Session,
    org: Organization,
    item: CalendarEvent,
    report: ImportReport,
    channels: list[str],
    offsets: list[int],
    now: datetime,
    actor: str,
) -> None:
    record = _imported(session, org, ICAL, item.uid)
    event_id = record.event_id if record else own_event_id(org, item.uid)
    event = session.get(Event, event_id) if event_id is not None else None
    if event is not None and event.organization_id != org.id:
        event = None
    if event is None:
        if item.cancelled or item.starts_at <= now:
            report.skipped += 1
            return
        if not channels:
            raise InvalidInput("new events need channels: give them with --channels")
        new = NewEvent(
            title=item.title,
            starts_at=item.starts_at,
            ends_at=item.ends_at,
            place=item.place,
            description=item.description,
            registration_url=item.url,
            channels=channels,
            reminder_offsets=offsets,
            announce_at=now,
        )
        created = add_event(session, org, new, Path(), now, actor)
        report.events.append(created.id)
        session.add(
            ImportRow(
                organization_id=org.id,
                source=ICAL,
                row_key=_row_key(ICAL, item.uid),
                external_uid=item.uid,
                event_id=created.id,
            )
        )
        return
    if event.status is not EventStatus.SCHEDULED:
        report.unchanged += 1
        return
    if item.cancelled:
        cancel_event(session, org, event.id, actor)
        report.updated.append(event.id)
        return
    changed = False
    # A calendar without DTEND keeps the end Afisha knows.
    ends_at = item.ends_at or event.ends_at
    if item.starts_at != event.starts_at or ends_at != event.ends_at:
        if item.starts_at <= now:
            raise InvalidInput("the event's start is in the past: choose a later time")
        reschedule_event(
            session, org, event.id, item.starts_at, now=now, actor=actor, new_ends_at=item.ends_at
        )
        changed = True
    for attribute, value in (
        ("title", item.title),
        ("place", item.place),
        ("description", item.description),
        ("registration_url", item.url),
    ):
        if getattr(event, attribute) != value:
            setattr(event, attribute, value)
            changed = True
    if changed:
        report.updated.append(event.id)
    else:
        report.unchanged += 1


def _import_calendar(
    session: Session,
    org: Organization,
    data: bytes,
    report: ImportReport,
    channels: list[str],
    offsets: list[int],
    now: datetime,
    actor: str,
) -> None:
    items, report.errors = read_calendar(data, zone(org.timezone))
    report.rows = len(items) + len(report.errors)
    own = set(session.scalars(select(Channel.name).where(Channel.organization_id == org.id)))
    for name in channels:
        if name not in own:
            known = ", ".join(sorted(own)) or "none"
            raise NotFound(
                "unknown channel {name!r} (known channels: {known})", name=name, known=known
            )
    seen: set[str] = set()
    for item in items:
        if item.uid in seen:
            report.errors.append(
                RowError(
                    item.number,
                    "UID",
                    InvalidInput("the same UID as an earlier event: remove one of them"),
                )
            )
            continue
        seen.add(item.uid)
        try:
            _apply_calendar_event(session, org, item, report, channels, offsets, now, actor)
        except InvalidInput as problem:
            column = "DTSTART" if "start" in problem.template else "UID"
            report.errors.append(RowError(item.number, column, problem))
    session.flush()


def import_plan(
    sessions: sessionmaker[Session],
    organization_id: int,
    data: bytes,
    filename: str,
    *,
    media_dir: Path,
    now: datetime,
    actor: str,
    image_dir: Path | None = None,
    partial: bool = False,
    dry_run: bool = False,
    channels: list[str] | None = None,
    reminder_offsets: list[int] | None = None,
    fetch: Fetch,
    author: Author | None = None,
) -> ImportReport:
    """Import an .xlsx or .csv plan, or an .ics calendar, in one transaction of its own.

    Every row is checked first and every problem reported; nothing is written when any row
    fails, unless `partial`. Rows imported before (same stable key, or for calendars the same
    UID) are skipped, and a calendar event whose time changed is moved with its reminders.

    Args:
        image_dir: where relative image paths in the sheet point (the file's folder); None for
            a file sent to the bot, whose images must be web links.
        channels, reminder_offsets: for new events from a calendar, which has neither.
        fetch: downloads an image a row names by web link into a folder and returns its path,
            or raises InvalidInput (the callers hand in `channels.download.download_image`:
            the core fetches nothing over the network itself).
        author: the staff member importing (none from the command line); when their posts need
            approval, the imported posts wait for it as a post made with /new would.

    Raises:
        InvalidInput: the file as a whole cannot be read (nothing is written).
    """
    report = ImportReport(dry_run=dry_run)
    is_calendar = filename.lower().endswith(".ics")
    sheet = None if is_calendar else read_sheet(data, filename)
    with tempfile.TemporaryDirectory(prefix="afisha-import-") as scratch, sessions() as session:
        org = session.get(Organization, organization_id)
        if org is None:
            raise NotFound("no organisation has id {id}", id=organization_id)
        # A dry run stores its images nowhere lasting.
        target_media = Path(scratch, "media") if dry_run else media_dir
        if sheet is not None:
            context = Context(
                tz=zone(org.timezone),
                now=now,
                # The library's own channels: a sheet cannot reach another library's.
                channels=set(
                    session.scalars(select(Channel.name).where(Channel.organization_id == org.id))
                ),
                language=org.language,
                images=_local_images(image_dir, Path(scratch, "downloads"), fetch),
            )
            checked = check_sheet(sheet, context)
            report.rows, report.errors = len(sheet.rows), checked.errors
            _create_rows(
                session, org, checked.rows, report, target_media, now, actor, author or Author()
            )
        else:
            offsets = list(DEFAULT_OFFSETS if reminder_offsets is None else reminder_offsets)
            _import_calendar(session, org, data, report, channels or [], offsets, now, actor)
        report.committed = not dry_run and (partial or not report.errors)
        if report.committed:
            session.commit()
        else:
            session.rollback()
    return report
