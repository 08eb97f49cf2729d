"""The `afisha` command line: exit 0 on success, 2 on bad input, 1 on an internal error."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import click

from afisha.cli_support import (
    ACTOR,
    AfishaGroup,
    RecordId,
    State,
    emit_json,
    org_option,
    pass_state,
)
from afisha.config import CONFIG_FILE, Settings, write_settings
from afisha.logs import setup_logging
from afisha.views import channel_json, local, staff_json, status_json
from content.domain.languages import check_language
from content.domain.states import ChannelStatus, Platform
from content.domain.timeparse import zone
from content.errors import InvalidInput
from content.storage import registry, store
from content.storage.db import make_engine, upgrade
from content.storage.secrets import generate_key

# Commands kept in modules of their own, each imported only when its command is looked up.
EXTENSIONS = {
    "worker": "afisha.cli_engine",
    "run": "afisha.cli_engine",
    "import": "afisha.cli_plans",
    "feed": "afisha.cli_plans",
    "slot": "afisha.cli_plans",
    "post": "afisha.cli_queue",
    "event": "afisha.cli_queue",
    "report": "afisha.cli_reports",
    "stats": "afisha.cli_reports",
    "org": "afisha.cli_orgs",
    "partner": "afisha.cli_partners",
}


@click.group(cls=AfishaGroup, extensions=EXTENSIONS)
@click.option(
    "--config",
    type=click.Path(path_type=Path, dir_okay=False),
    help=f"Settings file (default: ./{CONFIG_FILE} or $AFISHA_CONFIG).",
)
@click.option("--debug", is_flag=True, help="Log details (secrets stay redacted).")
@click.version_option(package_name="afisha")
@click.pass_context
def cli(ctx: click.Context, config: Path | None, debug: bool) -> None:
    """Afisha: schedule library posts and events to Telegram, Facebook and Instagram."""
    state = State(config, debug=debug)
    ctx.obj = state
    ctx.call_on_close(state.close)
    handler = setup_logging(logging.DEBUG if debug else logging.WARNING)
    ctx.call_on_close(lambda: logging.getLogger().removeHandler(handler))


# --- init, db, config ------------------------------------------------------------------------


@cli.command()
@click.option("--organization", help="The library's name.")
@click.option("--timezone", "timezone_", help="IANA time zone, e.g. Asia/Almaty.")
@click.option("--language", help="Default language: en, ru, kk or lt.")
@click.option("--database-url", help="SQLAlchemy URL (default: SQLite ./afisha.db).")
@click.option("--force", is_flag=True, help="Overwrite an existing settings file.")
@pass_state
def init(
    state: State,
    organization: str | None,
    timezone_: str | None,
    language: str | None,
    database_url: str | None,
    force: bool,
) -> None:
    """Write afisha.toml with a new secret key and create the database."""
    path = state.config or Path(CONFIG_FILE)
    if path.exists() and not force:
        raise InvalidInput(
            "{path} already exists: keep it, or use --force to replace it (a new secret key "
            "makes stored channel tokens unreadable)",
            path=str(path),
        )
    base = Settings()
    settings = replace(
        base,
        organization=organization or base.organization,
        timezone=zone(timezone_).key if timezone_ else base.timezone,
        language=check_language(language) if language else base.language,
        database_url=database_url or base.database_url,
        secret_key=generate_key(),
    )
    write_settings(settings, path)
    state.config = path
    afisha = state.afisha
    with afisha.installation():
        pass
    click.echo(f"wrote {path} (with a new secret key) and prepared {settings.database_url}")


@cli.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@pass_state
def db_upgrade(state: State) -> None:
    """Apply the schema migrations."""
    engine = make_engine(state.settings.database_url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    click.echo("database schema is up to date")


@cli.group("config")
def config_group() -> None:
    """Settings."""


@config_group.command("show")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@pass_state
def config_show(state: State, as_json: bool) -> None:
    """Show the settings in force (secrets masked) and where each came from."""
    settings = state.settings
    shown = settings.masked()
    if as_json:
        emit_json({"settings": shown, "source": settings.source})
        return
    for key, value in shown.items():
        origin = settings.source.get(key, "default")
        click.echo(f"{key:<18} {value!s:<45} ({origin})")


# --- staff -----------------------------------------------------------------------------------


@cli.group()
def staff() -> None:
    """Staff who may use the bot."""


@staff.command("add")
@click.argument("user_id", type=RecordId("Telegram user"))
@click.option("--name", required=True, help="The person's name.")
@click.option("--role", required=True, help="admin, manager or editor.")
@click.option("--lang", help="Their language: en, ru, kk or lt (default: the organisation's).")
@org_option
@pass_state
def staff_add(
    state: State, user_id: int, name: str, role: str, lang: str | None, org_name: str | None
) -> None:
    """Add a staff member by Telegram user id (one person may be on several libraries' staff)."""
    with state.afisha.transaction(org_name) as (session, org):
        member = registry.add_staff(session, org, user_id, name, role, lang, ACTOR)
        click.echo(f"added {member.name} ({member.role.value}, {member.language})")


@staff.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@org_option
@pass_state
def staff_list(state: State, as_json: bool, org_name: str | None) -> None:
    """List the organisation's staff members."""
    with state.afisha.transaction(org_name) as (session, org):
        members = store.list_staff(session, org)
        if as_json:
            emit_json([staff_json(m) for m in members])
            return
        for m in members:
            click.echo(f"{m.telegram_user_id:>12}  {m.role.value:<8} {m.language}  {m.name}")


@staff.command("set")
@click.argument("user_id", type=RecordId("Telegram user"))
@click.option("--role", required=True, help="admin, manager or editor.")
@click.option("--name", help="A new name.")
@click.option("--lang", help="A new language: en, ru, kk or lt.")
@org_option
@pass_state
def staff_set(
    state: State,
    user_id: int,
    role: str,
    name: str | None,
    lang: str | None,
    org_name: str | None,
) -> None:
    """Change a staff member's role (and name or language) in the organisation, in place."""
    with state.afisha.transaction(org_name) as (session, org):
        member = registry.set_staff(session, org, user_id, role, name, lang, ACTOR)
        click.echo(f"{member.name} ({member.role.value}, {member.language})")


@staff.command("remove")
@click.argument("user_id", type=RecordId("Telegram user"))
@org_option
@pass_state
def staff_remove(state: State, user_id: int, org_name: str | None) -> None:
    """Take a staff member off the organisation's staff: their open conversations end, the
    posts they wrote or reviewed keep their name; off their last staff, the bot treats them as
    a stranger."""
    with state.afisha.transaction(org_name) as (session, org):
        registry.remove_staff(session, org, user_id, ACTOR)
    click.echo(f"removed staff member {user_id}")


# --- channels --------------------------------------------------------------------------------


@cli.group()
def channel() -> None:
    """Telegram channels, Facebook Pages and Instagram accounts."""


@channel.command("add")
@click.argument("name")
@click.option(
    "--platform", required=True, type=click.Choice([p.value for p in Platform]), help="Platform."
)
@click.option("--chat-id", help="Telegram: the channel's chat id or @username.")
@click.option("--page-id", help="Facebook: the Page id; Instagram: the linked Page (optional).")
@click.option("--ig-user-id", help="Instagram: the business account's user id.")
@click.option("--token", help="Facebook/Instagram: the Page access token (stored encrypted).")
@click.option("--lang", help="Language of the channel's audience (default: the organisation's).")
@org_option
@pass_state
def channel_add(
    state: State,
    name: str,
    platform: str,
    chat_id: str | None,
    page_id: str | None,
    ig_user_id: str | None,
    token: str | None,
    lang: str | None,
    org_name: str | None,
) -> None:
    """Register a channel of the organisation to publish to."""
    kind = Platform(platform)
    option, external = {
        Platform.TELEGRAM: ("--chat-id", chat_id),
        Platform.FACEBOOK: ("--page-id", page_id),
        Platform.INSTAGRAM: ("--ig-user-id", ig_user_id),
    }[kind]
    linked_page = page_id if kind is Platform.INSTAGRAM else None
    if not external:
        raise InvalidInput(
            "a {platform} channel needs {option}", platform=kind.value, option=option
        )
    afisha = state.afisha
    with afisha.transaction(org_name) as (session, org):
        created = registry.add_channel(
            session,
            org,
            afisha.cipher,
            name=name,
            platform=kind,
            external_id=external,
            token=token,
            language=lang,
            actor=ACTOR,
            linked_page_id=linked_page,
        )
        click.echo(f"added {kind.value} channel {created.name}")


@channel.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@org_option
@pass_state
def channel_list(state: State, as_json: bool, org_name: str | None) -> None:
    """List the organisation's channels and their status."""
    with state.afisha.transaction(org_name) as (session, org):
        channels = store.list_channels(session, org)
        if as_json:
            emit_json([channel_json(c) for c in channels])
            return
        for c in channels:
            reason = f" ({c.status_reason})" if c.status_reason else ""
            click.echo(
                f"{c.name:<24} {c.platform.value:<10} {c.external_id:<22} {c.language} "
                f"{c.status.value}{reason}"
            )


def _channel_command(verb: str, status: ChannelStatus | None) -> Callable[..., None]:
    @org_option
    @pass_state
    def command(state: State, name: str, org_name: str | None) -> None:
        with state.afisha.transaction(org_name) as (session, org):
            registry.get_channel(session, name, org)  # another library's is not found
            if status is None:
                registry.remove_channel(session, org, name, ACTOR)
            else:
                registry.set_channel_status(session, org, name, status, ACTOR)
        click.echo(f"{verb} channel {name}")

    return command


channel.command("remove", help="Remove a channel that has no publications.")(
    click.argument("name")(_channel_command("removed", None))
)
channel.command("pause", help="Hold a channel's publications until it is resumed.")(
    click.argument("name")(_channel_command("paused", ChannelStatus.PAUSED))
)
channel.command("resume", help="Resume a paused channel.")(
    click.argument("name")(_channel_command("resumed", ChannelStatus.ACTIVE))
)


# --- status ----------------------------------------------------------------------------------


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@org_option
@pass_state
def status(state: State, as_json: bool, org_name: str | None) -> None:
    """The organisation's queue depth, next due publication and counts by state."""
    afisha = state.afisha
    now = afisha.now()
    with afisha.transaction(org_name) as (session, org):
        summary = store.queue_status(session, now, org)
        tz = zone(org.timezone)
    data = status_json(summary, tz, now)
    if as_json:
        emit_json(data)
        return
    click.echo(f"queued:      {summary.queued}")
    click.echo(f"lag:         {data['lag_seconds']:.0f} s")
    click.echo(f"next due:    {local(summary.next_due, tz)}")
    click.echo(f"unconfirmed: {summary.unconfirmed}")
    paused = ", ".join(summary.paused_channels) or "none"
    click.echo(f"paused:      {paused}")
    for name, count in sorted(summary.by_state.items()):
        click.echo(f"  {name:<12} {count}")


# --- sandbox and demo ------------------------------------------------------------------------


@cli.command("sandbox")
@click.option("--host", default="127.0.0.1", show_default=True, help="Loopback address to bind.")
@click.option("--port", default=8700, show_default=True, type=int, help="Port (0: any free one).")
@click.option(
    "--seed", default=0, show_default=True, type=int, help="Seed for fixtures and faults."
)
@click.option("--faults", default="", help="Fault spec, e.g. 'sendMessage:429=0.2;*:5xx=0.05'.")
@click.option(
    "--ig-image-seconds",
    type=click.FloatRange(0, 86_400),
    default=None,
    help="Seconds an Instagram image container takes to process (default 3).",
)
@click.option(
    "--ig-carousel-seconds",
    type=click.FloatRange(0, 86_400),
    default=None,
    help="Seconds an Instagram carousel container takes, after its items (default 6).",
)
def sandbox_command(
    host: str,
    port: int,
    seed: int,
    faults: str,
    ig_image_seconds: float | None,
    ig_carousel_seconds: float | None,
) -> None:
    """Serve the local emulators of Telegram and the Graph API until interrupted."""
    from afisha.sandboxing import serve_sandbox

    processing = {"image_seconds": ig_image_seconds, "carousel_seconds": ig_carousel_seconds}
    serve_sandbox(host, port, seed, faults, click.echo, processing)


@cli.command()
@click.option("--directory", default="demo", show_default=True, type=click.Path(path_type=Path))
@click.option(
    "--keep-running/--no-keep-running",
    default=None,
    help="Keep the sandbox up after seeding (default: when run in a terminal).",
)
@click.option("--port", default=8700, show_default=True, type=int, help="Sandbox port (0: any).")
def demo(directory: Path, keep_running: bool | None, port: int) -> None:
    """Start the sandbox, seed a demo library against it and show its queue."""
    from afisha.demo import run_demo

    if keep_running is None:
        keep_running = sys.stdout.isatty() and sys.stdin.isatty()
    run_demo(directory, port=port, keep_running=keep_running, echo=click.echo)


def main() -> None:
    cli(prog_name="afisha")
