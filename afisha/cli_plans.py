"""`afisha import`, `afisha feed` and `afisha slot`: plans made elsewhere (spreadsheets, the
library's calendar and website) brought in, and weekly posting times."""

from __future__ import annotations

import asyncio
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click

from afisha.cli_support import (
    ACTOR,
    RecordId,
    State,
    emit_json,
    org_option,
    own_channels,
    pass_state,
    split_names,
)
from afisha.views import iso, local
from channels.download import download_image
from content.domain.reminders import DEFAULT_OFFSETS
from content.domain.states import Platform
from content.domain.timeparse import format_offset, parse_offsets, zone
from content.errors import AfishaError, InvalidInput
from content.i18n import translate
from content.plans import feeds
from content.plans.importing import ImportReport, import_plan
from content.plans.template import write_template
from content.queueing import slots
from content.storage.models import Feed
from content.storage.store import list_channels
from scheduler.clock import SystemClock
from scheduler.feeds import poll_feeds

TEMPLATE = "plan-template.xlsx"


def _template_channels(state: State, org_name: str | None) -> list[str]:
    """The organisation's channels for the examples; Instagram needs images, which they lack."""
    try:
        with state.afisha.transaction(org_name) as (session, org):
            channels = list_channels(session, org)
    except AfishaError:
        return ["news"]
    names = [c.name for c in channels if c.platform is not Platform.INSTAGRAM]
    return names or [c.name for c in channels] or ["news"]


def _template_zone(state: State, org_name: str | None) -> str:
    try:
        with state.afisha.transaction(org_name) as (_session, org):
            return org.timezone
    except AfishaError:
        return state.settings.timezone


def _write_template(
    state: State, file: Path | None, channels: str | None, org_name: str | None
) -> None:
    path = file or Path(TEMPLATE)
    if path.exists():
        raise InvalidInput("{path} already exists: choose another file name", path=str(path))
    names = split_names(channels) if channels else _template_channels(state, org_name)
    tomorrow = datetime.now(UTC).astimezone(zone(_template_zone(state, org_name))).date()
    tomorrow += timedelta(days=1)
    path.write_bytes(write_template(path.name, tomorrow, names))
    click.echo(f"wrote {path}: 30 posts and 5 events from {tomorrow.isoformat()}, to edit")


def feed_json(feed: Feed) -> dict[str, Any]:
    return {
        "id": feed.id,
        "url": feed.url,
        "channels": list(feed.channels),
        "auto": feed.auto,
        "polled_at": iso(feed.polled_at),
        "last_error": feed.last_error,
    }


def _report(report: ImportReport, as_json: bool) -> None:
    message, params = report.summary()
    if as_json:
        emit_json(
            {
                "committed": report.committed,
                "dry_run": report.dry_run,
                "rows": report.rows,
                "posts": report.posts if report.committed else [],
                "events": report.events if report.committed else [],
                "updated": report.updated if report.committed else [],
                "unchanged": report.unchanged,
                "skipped": report.skipped,
                "errors": [
                    {"row": e.row, "column": e.column, "reason": str(e.problem)}
                    for e in report.errors
                ],
            }
        )
    else:
        for error in report.errors:
            click.echo(f"error: {error}", err=True)
        click.echo(translate("en", message, **params), err=bool(report.errors))
    if report.errors and not report.committed:
        sys.exit(2)


def register(cli: click.Group) -> None:
    """Add the plan commands to the `afisha` group."""

    @cli.command("import")
    @click.argument("file", required=False, type=click.Path(path_type=Path, dir_okay=False))
    @click.option("--dry-run", is_flag=True, help="Check every row and report; write nothing.")
    @click.option("--partial", is_flag=True, help="Import the good rows even if others fail.")
    @click.option(
        "--template",
        is_flag=True,
        help=f"Write an example plan to FILE (default {TEMPLATE}; .xlsx or .csv) and stop.",
    )
    @click.option(
        "--channels",
        help="Channels: of new events from an .ics file, or of the template's examples.",
    )
    @click.option(
        "--reminders",
        default=",".join(format_offset(m) for m in DEFAULT_OFFSETS),
        show_default=True,
        help="Reminder offsets of new events from an .ics file.",
    )
    @click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
    @org_option
    @pass_state
    def import_command(
        state: State,
        file: Path | None,
        dry_run: bool,
        partial: bool,
        template: bool,
        channels: str | None,
        reminders: str,
        as_json: bool,
        org_name: str | None,
    ) -> None:
        """Import a plan: an .xlsx or .csv sheet of posts and events, or an .ics calendar.

        Sheet columns: kind (post or event), date (YYYY-MM-DD), time (HH:MM, local), channels,
        text, text_ru/text_kk/text_lt/text_en (per-language texts), image (path or URL), link;
        for events also title, ends, place, reminders (e.g. 1d,2h), announce, language.
        Every row is checked first; nothing is imported if any row fails, unless --partial.
        Rows (and calendar events, by UID) imported before are skipped or updated, never
        duplicated.
        """
        if template:
            _write_template(state, file, channels, org_name)
            return
        if file is None:
            raise InvalidInput("name the file to import, or use --template to get one")
        if not file.is_file():
            raise InvalidInput("{path} does not exist", path=str(file))
        afisha = state.afisha
        with afisha.transaction(org_name) as (session, org):
            organization_id = org.id
            if channels:
                own_channels(session, org, channels)
        report = import_plan(
            afisha.sessions,
            organization_id,
            file.read_bytes(),
            file.name,
            media_dir=afisha.settings.media_path,
            now=afisha.now(),
            actor=ACTOR,
            image_dir=file.resolve().parent,
            partial=partial,
            dry_run=dry_run,
            channels=split_names(channels) if channels else None,
            reminder_offsets=parse_offsets(reminders),
            fetch=download_image,
        )
        _report(report, as_json)

    # --- feeds -------------------------------------------------------------------------------

    @cli.group()
    def feed() -> None:
        """RSS/Atom feeds (e.g. the library website's news) that become posts."""

    @feed.command("add")
    @click.argument("url")
    @click.option("--channels", required=True, help="Channel names, comma-separated.")
    @click.option(
        "--auto",
        is_flag=True,
        help="Queue each new item into the next free posting slot (default: a draft).",
    )
    @org_option
    @pass_state
    def feed_add(state: State, url: str, channels: str, auto: bool, org_name: str | None) -> None:
        """Follow a feed for the organisation's channels; prints the feed's id."""
        with state.afisha.transaction(org_name) as (session, org):
            created = feeds.add_feed(session, org, url, split_names(channels), auto, ACTOR)
            click.echo(created.id)

    @feed.command("list")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @org_option
    @pass_state
    def feed_list(state: State, as_json: bool, org_name: str | None) -> None:
        """List the organisation's followed feeds."""
        with state.afisha.transaction(org_name) as (session, org):
            followed, tz = feeds.list_feeds(session, org), zone(org.timezone)
        if as_json:
            emit_json([feed_json(f) for f in followed])
            return
        for f in followed:
            mode = "auto" if f.auto else "drafts"
            error = f"  ({f.last_error})" if f.last_error else ""
            click.echo(
                f"{f.id:>4}  {mode:<6} {','.join(f.channels):<20} "
                f"{local(f.polled_at, tz):<22} {f.url}{error}"
            )

    @feed.command("remove")
    @click.argument("feed_id", type=RecordId("feed"))
    @org_option
    @pass_state
    def feed_remove(state: State, feed_id: int, org_name: str | None) -> None:
        """Stop following a feed (posts made from it stay)."""
        with state.afisha.transaction(org_name) as (session, org):
            feeds.remove_feed(session, org, feed_id, ACTOR)
        click.echo(f"removed feed {feed_id}")

    @feed.command("poll")
    @org_option
    @pass_state
    def feed_poll(state: State, org_name: str | None) -> None:
        """Fetch the organisation's feeds now (the engine fetches every library's periodically)."""
        afisha = state.afisha
        with afisha.transaction(org_name) as (_session, org):
            organization_id = org.id
        report = asyncio.run(
            poll_feeds(
                afisha.sessions,
                SystemClock(),
                media_dir=afisha.settings.media_path,
                organization_id=organization_id,
            )
        )
        for feed_id, why in report.failed.items():
            click.echo(f"feed {feed_id}: {why}", err=True)
        click.echo(
            f"polled {report.feeds} feed(s): {len(report.drafts)} new draft(s), "
            f"{len(report.queued)} queued"
        )

    # --- posting slots -----------------------------------------------------------------------

    @cli.group()
    def slot() -> None:
        """Weekly posting times per channel, for "next free slot"."""

    @slot.command("add")
    @click.argument("channel")
    @click.argument("days")
    @click.argument("time")
    @org_option
    @pass_state
    def slot_add(state: State, channel: str, days: str, time: str, org_name: str | None) -> None:
        """Add posting times, e.g. `afisha slot add news tue,thu 10:00` (local time)."""
        weekdays, minute = slots.parse_weekdays(days), slots.parse_clock(time)
        with state.afisha.transaction(org_name) as (session, org):
            added = slots.add_slot(session, org, channel, weekdays, minute, ACTOR)
        click.echo(f"added {len(added)} posting time(s) to {channel}")

    @slot.command("remove")
    @click.argument("channel")
    @click.argument("days")
    @click.argument("time")
    @org_option
    @pass_state
    def slot_remove(state: State, channel: str, days: str, time: str, org_name: str | None) -> None:
        """Remove posting times, e.g. `afisha slot remove news thu 10:00`."""
        weekdays, minute = slots.parse_weekdays(days), slots.parse_clock(time)
        with state.afisha.transaction(org_name) as (session, org):
            removed = slots.remove_slot(session, org, channel, weekdays, minute, ACTOR)
        click.echo(f"removed {removed} posting time(s) from {channel}")

    @slot.command("list")
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @org_option
    @pass_state
    def slot_list(state: State, as_json: bool, org_name: str | None) -> None:
        """List the organisation's posting times by channel."""
        with state.afisha.transaction(org_name) as (session, org):
            rows = [
                {
                    "channel": s.channel.name,
                    "weekday": slots.WEEKDAYS[s.weekday],
                    "time": f"{s.minute // 60:02d}:{s.minute % 60:02d}",
                }
                for s in slots.slots_of(session, org=org)
            ]
        if as_json:
            emit_json(rows)
            return
        for row in rows:
            click.echo(f"{row['channel']:<24} {row['weekday'].capitalize()} {row['time']}")

    @slot.command("next")
    @click.option("--channels", required=True, help="Channel names, comma-separated.")
    @org_option
    @pass_state
    def slot_next(state: State, channels: str, org_name: str | None) -> None:
        """Show the next free posting time of the channels."""
        afisha = state.afisha
        with afisha.transaction(org_name) as (session, org):
            names, tz = split_names(channels), zone(org.timezone)
            moment = slots.next_free_slot(session, names, afisha.now(), org=org)
        click.echo(local(moment, tz))
