"""`afisha post` and `afisha event`: what is queued for publishing, and its cancelling."""

from __future__ import annotations

from pathlib import Path

import click

from afisha import cli_sharing
from afisha.cli_support import (
    ACTOR,
    RecordId,
    State,
    emit_json,
    org_option,
    own_channels,
    pass_state,
)
from afisha.views import event_json, event_line, local, post_json, post_line
from content.domain.naturaltime import parse_natural_time
from content.domain.reminders import DEFAULT_OFFSETS
from content.domain.timeparse import format_offset, parse_offsets, zone
from content.errors import InvalidInput, NotFound
from content.plans.ical import export_events
from content.queueing import scheduling, slots
from content.queueing.event_changes import cancel_event_with_notice, move_event_with_notice
from content.queueing.network_posts import NetworkPost
from content.storage import store
from content.storage.models import Event, Post

# The times --at, --starts, --ends and --announce read (content.domain.naturaltime), the same
# the bot reads: a local time is the library's.
TIMES = (
    "now, 'tomorrow 10:00', 'пятница 18:30', 'ертең 10:00', ISO 8601 with an offset or "
    "'YYYY-MM-DD HH:MM', in the library's zone"
)

# --- posts -----------------------------------------------------------------------------------


@click.group()
def post() -> None:
    """Posts and their publications."""


@post.command("add")
@click.option("--text", help="The post's text.")
@click.option(
    "--text-file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Read the text from a file.",
)
@click.option(
    "--image", "images", multiple=True, type=click.Path(path_type=Path), help="An image (repeat)."
)
@click.option("--link", help="A link to attach.")
@click.option(
    "--variant",
    "variants",
    multiple=True,
    metavar="LANG=TEXT",
    help="The text in another language, e.g. ru=Неделя книги (repeat).",
)
@click.option("--channels", help="Channel names, comma-separated.")
@click.option(
    "--at",
    "when",
    required=True,
    help=TIMES + ", or next-slot.",
)
@click.option(
    "--for-members",
    is_flag=True,
    help="Queue it for every member library of --org, on their channels, in their zones.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the post with its publications.")
@org_option
@pass_state
def post_add(
    state: State,
    text: str | None,
    text_file: Path | None,
    images: tuple[Path, ...],
    link: str | None,
    variants: tuple[str, ...],
    channels: str | None,
    when: str,
    for_members: bool,
    as_json: bool,
    org_name: str | None,
) -> None:
    """Queue a post for one or more of the organisation's channels (or, --for-members, one
    post for each member library of --org); prints the new post's id (one line per library)."""
    if (text is None) == (text_file is None):
        raise InvalidInput("give the text with exactly one of --text or --text-file")
    if text_file is not None:
        if not text_file.is_file():
            raise InvalidInput("text file {path} does not exist", path=str(text_file))
        try:
            text = text_file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InvalidInput("text file {path} is not UTF-8 text", path=str(text_file)) from None
    versions = cli_sharing.parse_variants(variants)
    if for_members:
        if channels is not None:
            raise InvalidInput(
                "--for-members posts to the member libraries' own channels: leave out --channels"
            )
        new_down = NetworkPost(text or "", when, list(images), link, versions)
        cli_sharing.add_for_members(state, new_down, org_name, as_json)
        return
    if channels is None:
        raise InvalidInput("name the channels with --channels")
    afisha = state.afisha
    next_slot = slots.means_next_slot(when)
    with afisha.transaction(org_name) as (session, org):
        tz = zone(org.timezone)
        names = own_channels(session, org, channels)
        if next_slot:
            due_at = slots.next_free_slot(session, names, afisha.now(), org=org)
        else:
            due_at = parse_natural_time(when, tz, afisha.now(), next_slot=True)
        new = scheduling.NewPost(
            text=text or "",
            channels=names,
            due_at=due_at,
            images=list(images),
            link=link,
            variants=versions,
        )
        created = scheduling.queue_post(session, org, new, afisha.settings.media_path, ACTOR)
        if as_json:
            emit_json(post_json(created, tz))
        else:
            click.echo(created.id)


@post.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@org_option
@pass_state
def post_list(state: State, as_json: bool, org_name: str | None) -> None:
    """List the organisation's posts, newest first."""
    with state.afisha.transaction(org_name) as (session, org):
        posts, tz = store.list_posts(session, org=org), zone(org.timezone)
        if as_json:
            emit_json([post_json(p, tz) for p in posts])
            return
        for p in posts:
            click.echo(post_line(p, tz))


@post.command("show")
@click.argument("post_id", type=RecordId("post"))
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@org_option
@pass_state
def post_show(state: State, post_id: int, as_json: bool, org_name: str | None) -> None:
    """Show a post and each of its publications."""
    with state.afisha.transaction(org_name) as (session, org):
        found, tz = session.get(Post, post_id), zone(org.timezone)
        if found is None or found.organization_id != org.id:
            raise NotFound("no post has id {id}", id=post_id)
        if as_json:
            emit_json(post_json(found, tz))
            return
        click.echo(f"post {found.id} ({found.status.value})\n\n{found.text}\n")
        for item in found.media:
            click.echo(f"image: {item.media.path} ({item.media.width}x{item.media.height})")
        for pub in found.publications:
            error = f"  {pub.last_error}" if pub.last_error else ""
            click.echo(
                f"  {pub.channel.name:<24} {local(pub.due_at, tz):<22} {pub.state.value}{error}"
            )


@post.command("cancel")
@click.argument("post_id", type=RecordId("post"))
@org_option
@pass_state
def post_cancel(state: State, post_id: int, org_name: str | None) -> None:
    """Cancel a post's unsent publications."""
    with state.afisha.transaction(org_name) as (session, org):
        withdrawn = scheduling.cancel_post(session, org, post_id, ACTOR)
    click.echo(f"cancelled post {post_id} ({withdrawn} publication(s) withdrawn)")


# --- events ----------------------------------------------------------------------------------


@click.group()
def event() -> None:
    """Events with their announcement and reminders."""


@event.command("add")
@click.option("--title", required=True, help="The event's title.")
@click.option("--starts", required=True, help="Start: " + TIMES + ".")
@click.option("--ends", help="End, same formats.")
@click.option("--place", help="Where it takes place.")
@click.option("--text", help="Description.")
@click.option("--image", type=click.Path(path_type=Path), help="A poster image.")
@click.option("--link", help="Registration link.")
@click.option("--channels", required=True, help="Channel names, comma-separated.")
@click.option(
    "--reminders",
    default=",".join(format_offset(m) for m in DEFAULT_OFFSETS),
    show_default=True,
    help="Reminder offsets before the start.",
)
@click.option(
    "--announce",
    "announce",
    default="now",
    show_default=True,
    help="When to announce, same forms as --starts.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the event with its publications.")
@org_option
@pass_state
def event_add(
    state: State,
    title: str,
    starts: str,
    ends: str | None,
    place: str | None,
    text: str | None,
    image: Path | None,
    link: str | None,
    channels: str,
    reminders: str,
    announce: str,
    as_json: bool,
    org_name: str | None,
) -> None:
    """Create an event; its announcement and reminders are queued on each channel."""
    afisha = state.afisha
    now = afisha.now()
    with afisha.transaction(org_name) as (session, org):
        tz = zone(org.timezone)
        new = scheduling.NewEvent(
            title=title,
            starts_at=parse_natural_time(starts, tz, now),
            ends_at=parse_natural_time(ends, tz, now) if ends else None,
            place=place,
            description=text,
            image=image,
            registration_url=link,
            channels=own_channels(session, org, channels),
            reminder_offsets=parse_offsets(reminders),
            announce_at=parse_natural_time(announce, tz, now),
        )
        created = scheduling.add_event(session, org, new, afisha.settings.media_path, now, ACTOR)
        if as_json:
            emit_json(event_json(created, tz))
        else:
            click.echo(created.id)


@event.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@org_option
@pass_state
def event_list(state: State, as_json: bool, org_name: str | None) -> None:
    """List the organisation's events by start time."""
    with state.afisha.transaction(org_name) as (session, org):
        events, tz = store.list_events(session, org=org), zone(org.timezone)
        if as_json:
            asked = store.reminder_requests(session, [e.id for e in events])
            emit_json([event_json(e, tz, asked.get(e.id, 0)) for e in events])
            return
        for e in events:
            click.echo(event_line(e, tz))


NOTICE = click.option(
    "--notice/--no-notice",
    default=True,
    show_default=True,
    help="Tell the channels that announced it, and the followers who asked to be reminded.",
)


@event.command("move")
@click.argument("event_id", type=RecordId("event"))
@click.option("--starts", required=True, help="New start: " + TIMES + ".")
@click.option("--ends", help="New end, same formats (default: moved by as much as the start).")
@click.option("--place", help="A new place.")
@NOTICE
@org_option
@pass_state
def event_move(
    state: State,
    event_id: int,
    starts: str,
    ends: str | None,
    place: str | None,
    notice: bool,
    org_name: str | None,
) -> None:
    """Move an event: its reminders are planned anew; with --notice (the default) a new-date
    notice goes to the channels that announced it and its followers are told in private."""
    afisha = state.afisha
    now = afisha.now()
    with afisha.transaction(org_name) as (session, org):
        tz = zone(org.timezone)
        starts_at = parse_natural_time(starts, tz, now)
        ends_at = parse_natural_time(ends, tz, now) if ends else None
        moved = move_event_with_notice(
            session,
            org,
            event_id,
            starts_at,
            notify=notice,
            now=now,
            actor=ACTOR,
            new_ends_at=ends_at,
            new_place=place,
        )
    done = moved.rescheduled
    click.echo(
        f"moved event {event_id} to {local(starts_at, tz)}: {done.moved} publication(s) "
        f"given a new time, {done.added} reminder(s) added, {done.withdrawn} withdrawn; "
        f"notice on {moved.notices} channel(s), {moved.followers} follower(s) to be told"
    )


@event.command("cancel")
@click.argument("event_id", type=RecordId("event"))
@NOTICE
@org_option
@pass_state
def event_cancel(state: State, event_id: int, notice: bool, org_name: str | None) -> None:
    """Cancel an event and withdraw its unsent announcement and reminders; with --notice (the
    default) a cancellation notice goes to the channels that announced it and its followers are
    told in private."""
    afisha = state.afisha
    with afisha.transaction(org_name) as (session, org):
        done = cancel_event_with_notice(
            session, org, event_id, notify=notice, now=afisha.now(), actor=ACTOR
        )
    click.echo(
        f"cancelled event {event_id} ({done.withdrawn} publication(s) withdrawn; notice on "
        f"{done.notices} channel(s), {done.followers} follower(s) to be told)"
    )


@event.command("ical")
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file (default: standard output).",
)
@org_option
@pass_state
def event_ical(state: State, output: Path | None, org_name: str | None) -> None:
    """Write the organisation's upcoming events as an iCalendar (.ics) feed for its website."""
    afisha = state.afisha
    with afisha.transaction(org_name) as (session, org):
        body = export_events(session, org, afisha.now())
    if output is None:
        click.echo(body, nl=False)
        return
    output.write_bytes(body)
    click.echo(f"wrote {output}")


@event.command("show", hidden=True)
@click.argument("event_id", type=RecordId("event"))
@org_option
@pass_state
def event_show(state: State, event_id: int, org_name: str | None) -> None:
    with state.afisha.transaction(org_name) as (session, org):
        found = session.get(Event, event_id)
        if found is None or found.organization_id != org.id:
            raise NotFound("no event has id {id}", id=event_id)
        asked = store.reminder_requests(session, [found.id]).get(found.id, 0)
        emit_json(event_json(found, zone(org.timezone), asked))


def register(cli: click.Group) -> None:
    """Add the post and event commands to the `afisha` group."""
    cli_sharing.register(post, event)
    cli.add_command(post)
    cli.add_command(event)
