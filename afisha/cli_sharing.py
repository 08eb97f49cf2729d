"""`afisha post share` and `afisha event share`: a member library's published post or event
announcement shared up to a library above it in the network."""

from __future__ import annotations

import click

from afisha.cli_support import ACTOR, RecordId, State, emit_json, org_option, pass_state
from afisha.views import post_json
from content.domain.states import ShareMode
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


def register(post: click.Group, event: click.Group) -> None:
    """Add the share commands to the `post` and `event` groups."""
    post.add_command(post_share)
    event.add_command(event_share)
