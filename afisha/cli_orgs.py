"""`afisha org`: the libraries of a deployment, as a tree of network heads and members."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from afisha.cli_support import ACTOR, State, emit_json, pass_state
from afisha.config import Settings
from afisha.views import channel_json, staff_json
from content.domain.states import PostStatus
from content.errors import InvalidInput
from content.storage import store
from content.storage.models import Organization, Post
from content.storage.org_admin import (
    OrgSettings,
    add_organization,
    change_organization,
    remove_organization,
)
from content.storage.organizations import find_organization, organizations


def _options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The settings `org add` and `org set` share."""
    for option in reversed(
        (
            click.option("--parent", help="The network head this library belongs to."),
            click.option("--timezone", "timezone_", help="IANA time zone, e.g. Asia/Almaty."),
            click.option("--language", help="Default language: en, ru, kk or lt."),
            click.option(
                "--requires-approval/--no-requires-approval",
                default=None,
                help="Whether editors' posts wait for a manager's approval.",
            ),
            click.option(
                "--grace-minutes",
                type=int,
                help="How late a missed post may still go out, in minutes (0-1440).",
            ),
        )
    ):
        command = option(command)
    return command


def org_json(session: Session, org: Organization, settings: Settings) -> dict[str, Any]:
    parent = session.get(Organization, org.parent_id) if org.parent_id else None
    return {
        "id": org.id,
        "name": org.name,
        "parent": parent.name if parent else None,
        "timezone": org.timezone,
        "language": org.language,
        "requires_approval": org.requires_approval,
        "grace_minutes": org.grace_minutes,
        # What the engine uses: the library's own grace period, else the installation's.
        "grace_minutes_in_force": (
            org.grace_minutes if org.grace_minutes is not None else settings.grace_minutes
        ),
    }


def _tree(session: Session, settings: Settings) -> list[dict[str, Any]]:
    """Every organisation, heads first, each with its members nested below it."""
    every = organizations(session)
    nodes = {o.id: {**org_json(session, o, settings), "members": []} for o in every}
    roots: list[dict[str, Any]] = []
    for org in every:
        parent = nodes.get(org.parent_id) if org.parent_id else None
        (parent["members"] if parent else roots).append(nodes[org.id])
    return roots


def _echo_tree(nodes: list[dict[str, Any]], depth: int = 0) -> None:
    for node in nodes:
        approval = "approval" if node["requires_approval"] else "-"
        click.echo(
            f"{'  ' * depth}{node['name']}  ({node['timezone']}, {node['language']}, "
            f"{approval}, grace {node['grace_minutes_in_force']} min)"
        )
        _echo_tree(node["members"], depth + 1)


def _refuse_what_settings_own(
    first: Organization,
    org: Organization,
    settings: Settings,
    name: str | None,
    wanted: OrgSettings,
) -> None:
    """The first organisation's name, zone and language (and approval, when set) are the
    settings': a change made here would be undone by the next command, so it is refused."""
    if org.id != first.id:
        return
    owned = {
        "name": (name, settings.organization),
        "timezone": (wanted.timezone, settings.timezone),
        "language": (wanted.language, settings.language),
        "requires_approval": (wanted.requires_approval, settings.requires_approval),
    }
    for key, (given, configured) in owned.items():
        if given is not None and configured is not None and given != configured:
            raise InvalidInput(
                "the settings file decides {setting} of {name}: change {setting} there "
                "(or AFISHA_{variable})",
                setting=key,
                name=org.name,
                variable=key.upper(),
            )


def _shown(session: Session, key: str, value: object) -> object:
    """A changed value as a person reads it: a parent by its name."""
    if key != "parent_id":
        return value
    parent = session.get(Organization, value) if isinstance(value, int) else None
    return parent.name if parent else "-"


@click.group("org")
def org_group() -> None:
    """Organisations: a network head (a regional library) and its member libraries."""


@org_group.command("add")
@click.argument("name")
@_options
@pass_state
def org_add(
    state: State,
    name: str,
    parent: str | None,
    timezone_: str | None,
    language: str | None,
    requires_approval: bool | None,
    grace_minutes: int | None,
) -> None:
    """Add a library (its zone and language default to its network head's)."""
    wanted = OrgSettings(
        parent=parent,
        timezone=timezone_,
        language=language,
        requires_approval=requires_approval,
        grace_minutes=grace_minutes,
    )
    with state.afisha.installation() as (session, first):
        org = add_organization(session, name, wanted, ACTOR, default=first)
        click.echo(f"added organisation {org.name} ({org.timezone}, {org.language})")


@org_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def org_list(state: State, as_json: bool) -> None:
    """Show the organisations as a tree."""
    afisha = state.afisha
    with afisha.installation() as (session, _first):
        tree = _tree(session, afisha.settings)
    if as_json:
        emit_json(tree)
    else:
        _echo_tree(tree)


@org_group.command("show")
@click.argument("name")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def org_show(state: State, name: str, as_json: bool) -> None:
    """Show a library with its channels, staff and what it has queued."""
    afisha = state.afisha
    with afisha.installation() as (session, _first):
        org = find_organization(session, name)
        data = org_json(session, org, afisha.settings)
        members = [o.name for o in organizations(session) if o.parent_id == org.id]
        channels = store.list_channels(session, org)
        staff = store.list_staff(session, org)
        queued_posts = session.scalar(
            select(func.count())
            .select_from(Post)
            .where(Post.organization_id == org.id, Post.status == PostStatus.QUEUED)
        )
        data |= {
            "members": members,
            "channels": [channel_json(c) for c in channels],
            "staff": [staff_json(m) for m in staff],
            "queued_posts": queued_posts or 0,
            "queued_publications": store.queue_status(session, org=org).queued,
        }
    if as_json:
        emit_json(data)
        return
    for key in ("name", "parent", "timezone", "language", "requires_approval"):
        click.echo(f"{key:<20} {data[key] if data[key] is not None else '-'}")
    click.echo(f"{'grace_minutes':<20} {data['grace_minutes_in_force']}")
    click.echo(f"{'members':<20} {', '.join(members) or '-'}")
    click.echo(f"{'queued posts':<20} {data['queued_posts']}")
    click.echo(f"{'queued publications':<20} {data['queued_publications']}")
    click.echo("channels:")
    for c in channels:
        click.echo(f"  {c.name:<24} {c.platform.value:<10} {c.status.value}")
    click.echo("staff:")
    for m in staff:
        click.echo(f"  {m.telegram_user_id:>12}  {m.role.value:<8} {m.name}")


@org_group.command("set")
@click.argument("name")
@click.option("--name", "new_name", help="A new name.")
@click.option("--no-parent", "detach", is_flag=True, help="Make it a network head of its own.")
@_options
@pass_state
def org_set(
    state: State,
    name: str,
    new_name: str | None,
    detach: bool,
    parent: str | None,
    timezone_: str | None,
    language: str | None,
    requires_approval: bool | None,
    grace_minutes: int | None,
) -> None:
    """Change a library's settings or its place in the tree."""
    wanted = OrgSettings(
        parent=parent,
        detach=detach,
        timezone=timezone_,
        language=language,
        requires_approval=requires_approval,
        grace_minutes=grace_minutes,
    )
    afisha = state.afisha
    with afisha.installation() as (session, first):
        org = find_organization(session, name)
        _refuse_what_settings_own(first, org, afisha.settings, new_name, wanted)
        changed = change_organization(session, org, wanted, ACTOR, new_name=new_name)
        if not changed:
            click.echo(f"{org.name}: nothing to change")
            return
        shown = ", ".join(
            f"{key} {_shown(session, key, before)} -> {_shown(session, key, after)}"
            for key, (before, after) in changed.items()
        )
        click.echo(f"{org.name}: {shown}")


@org_group.command("remove")
@click.argument("name")
@pass_state
def org_remove(state: State, name: str) -> None:
    """Remove a library that has no channels, posts, events or member libraries."""
    with state.afisha.installation() as (session, _first):
        org = find_organization(session, name)
        remove_organization(session, org, ACTOR)
        click.echo(f"removed organisation {org.name}")


def register(cli: click.Group) -> None:
    """Add the organisation commands to the `afisha` group."""
    cli.add_command(org_group)
