"""Sharing up and down the network from the command line: `afisha post share` and `afisha event
share` (a member library's published post or event announcement shared to a library above),
and `afisha post add --for-members` (one post for each member library of the network)."""

from __future__ import annotations

import click

from afisha.cli_support import ACTOR, RecordId, State, emit_json, org_option, pass_state
from afisha.views import local, post_json
from content.domain.languages import check_language
from content.domain.states import ShareMode
from content.domain.timeparse import zone
from content.errors import InvalidInput
from content.queueing.network_posts import NetworkPost, queue_for_members
from content.queueing.sharing import ShareChoice, share_event, share_post

_to_org = click.option(
    "--to-org",
    "target",
    required=True,
    metavar="NAME",
    help="The library above --org in the network (its network head) to share to.",
)
_channels = click.option(
    "--channel",
    "channels",
    multiple=True,
    metavar="NAME",
    help="A channel of --to-org to share to (repeat; default: each that can take it).",
)
_mode = click.option(
    "--forward/--copy",
    "forward",
    default=False,
    help="Telegram: forward (showing where it comes from) or copy (the default).",
)
_as_json = click.option("--json", "as_json", is_flag=True, help="Print the new post as JSON.")


def _choice(target: str, channels: tuple[str, ...], forward: bool) -> ShareChoice:
    mode = ShareMode.FORWARD if forward else ShareMode.COPY
    return ShareChoice(target, list(channels), mode)


@click.command("share")
@click.argument("post_id", type=RecordId("post"))
@org_option
@_to_org
@_channels
@_mode
@_as_json
@pass_state
def post_share(
    state: State,
    post_id: int,
    org_name: str | None,
    target: str,
    channels: tuple[str, ...],
    forward: bool,
    as_json: bool,
) -> None:
    """Share a published post of --org to the network's channels now; prints the new post's id."""
    afisha = state.afisha
    with afisha.transaction(org_name) as (session, org):
        choice = _choice(target, channels, forward)
        shared = share_post(session, org, post_id, choice, afisha.now(), ACTOR)
        if as_json:
            emit_json(post_json(shared, afisha.tz))
        else:
            click.echo(shared.id)


@click.command("share")
@click.argument("event_id", type=RecordId("event"))
@org_option
@_to_org
@_channels
@_mode
@_as_json
@pass_state
def event_share(
    state: State,
    event_id: int,
    org_name: str | None,
    target: str,
    channels: tuple[str, ...],
    forward: bool,
    as_json: bool,
) -> None:
    """Share an event's published announcement to the network's channels now; prints the new
    post's id."""
    afisha = state.afisha
    with afisha.transaction(org_name) as (session, org):
        choice = _choice(target, channels, forward)
        shared = share_event(session, org, event_id, choice, afisha.now(), ACTOR)
        if as_json:
            emit_json(post_json(shared, afisha.tz))
        else:
            click.echo(shared.id)


def parse_variants(values: tuple[str, ...]) -> dict[str, str]:
    """`--variant LANG=TEXT` values as {language: text}."""
    versions: dict[str, str] = {}
    for value in values:
        language, sep, text = value.partition("=")
        if not sep or not text.strip():
            raise InvalidInput(
                "write a version as LANG=TEXT, e.g. ru=Неделя книги (got {value!r})", value=value
            )
        versions[check_language(language)] = text.strip()
    return versions


def add_for_members(state: State, new: NetworkPost, org_name: str | None, as_json: bool) -> None:
    """`afisha post add --for-members`: one line per member library (post id, library, when in
    its zone, and whether it waits for the library's approval)."""
    afisha = state.afisha
    with afisha.transaction(org_name) as (session, head):
        made = queue_for_members(
            session, head, new, afisha.settings.media_path, afisha.now(), ACTOR
        )
        rows = []
        for m in made:
            tz = zone(m.organization.timezone)
            due = m.post.planned_at or min(p.due_at for p in m.post.publications)
            rows.append((m, tz, local(due, tz)))
        if as_json:
            emit_json(
                [
                    {
                        "organization": m.organization.name,
                        "due_local": when_local,
                        "waiting_for_approval": m.waiting,
                        **post_json(m.post, tz),
                    }
                    for m, tz, when_local in rows
                ]
            )
            return
        for m, _tz, when_local in rows:
            status = "waiting for approval" if m.waiting else "queued"
            click.echo(f"{m.post.id}\t{m.organization.name}\t{when_local}\t{status}")


def register(post: click.Group, event: click.Group) -> None:
    """Add the share commands to the `post` and `event` groups."""
    post.add_command(post_share)
    event.add_command(event_share)
