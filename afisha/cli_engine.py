"""`afisha run` and `afisha worker`: the engine (and bot) as long-running processes."""

from __future__ import annotations

import asyncio

import click

from afisha.cli_support import State, emit_json, pass_state
from afisha.logs import setup_logging
from afisha.runtime import serve


@click.command("worker")
@click.option("--once", is_flag=True, help="Publish and collect what is due, then exit (for cron).")
@click.option("--json", "as_json", is_flag=True, help="With --once: print the report as JSON.")
@pass_state
def worker_command(state: State, once: bool, as_json: bool) -> None:
    """Run the publishing engine (several workers may share one PostgreSQL database)."""
    afisha = state.afisha
    setup_logging(state.log_level, afisha.settings.secrets())
    report = asyncio.run(serve(afisha, once=once))
    if report is not None:
        if as_json:
            emit_json(report)
        else:
            for key, value in report.items():
                click.echo(f"{key}: {value}")


@click.command("run")
@pass_state
def run_command(state: State) -> None:
    """Run the engine, the bot and the web server (media files, events.ics, healthz)."""
    # Imported here: the web port and the webhook (aiohttp, telegram.ext: some 15 MB) are no
    # business of `afisha worker`, whose memory they would add to.
    from afisha.services import run_services

    afisha = state.afisha
    setup_logging(state.log_level, afisha.settings.secrets())
    services = run_services(afisha, lambda text: click.echo(text, err=True))
    asyncio.run(serve(afisha, services=services))


def register(cli: click.Group) -> None:
    """Add the engine's commands to the `afisha` group."""
    cli.add_command(worker_command)
    cli.add_command(run_command)
