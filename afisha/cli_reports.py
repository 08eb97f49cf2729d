"""`afisha report` and `afisha stats`: engagement as files to hand on and as a quick summary."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import click

from afisha.cli_support import State, emit_json, org_option, pass_state
from bot.reports.files import monthly_events_file, monthly_report_file
from content.analytics.periods import parse_month, parse_span
from content.analytics.report import ReportFormat
from content.analytics.stats import stats_summary, summary_json, summary_text
from content.domain.languages import check_language
from content.domain.timeparse import zone
from content.errors import InvalidInput


@click.group("report", invoke_without_command=True)
@click.option("--month", help="The month to report on, e.g. 2026-11.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice([f.value for f in ReportFormat]),
    default=ReportFormat.PDF.value,
    show_default=True,
    help="pdf: the management report; xlsx: its tables; csv: every snapshot, raw, and the "
    "month's events in a second file (afisha-events-<month>-<lang>.csv, or <output>-events.csv).",
)
@click.option("--lang", help="Language: en, ru, kk or lt (default: the organisation's).")
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="File to write (default: afisha-report-<month>-<lang>.<format> here).",
)
@org_option
@click.pass_context
def report(
    ctx: click.Context,
    month: str | None,
    fmt: str,
    lang: str | None,
    output: Path | None,
    org_name: str | None,
) -> None:
    """Write the monthly engagement report (`report network`: a network head's report)."""
    if ctx.invoked_subcommand is not None:
        return
    if month is None:
        raise click.UsageError("Missing option '--month'.")
    first = parse_month(month)
    afisha = cast(State, ctx.find_object(State)).afisha
    with afisha.transaction(org_name) as (session, org):
        language = check_language(lang) if lang else org.language
        name, contents = monthly_report_file(
            session, org, first, afisha.now(), ReportFormat(fmt), language
        )
        events = None
        if ReportFormat(fmt) is ReportFormat.CSV:
            events = monthly_events_file(session, org, first, afisha.now(), language)
    path = output or Path(name)
    write_file(path, contents)
    if events is not None:
        events_name, events_contents = events
        write_file(
            path.with_name(f"{path.stem}-events.csv") if output else Path(events_name),
            events_contents,
        )


def write_file(path: Path, contents: bytes) -> None:
    """Write a report, or InvalidInput saying why it cannot be written."""
    try:
        path.write_bytes(contents)
    except OSError as exc:
        raise InvalidInput(
            "cannot write {path}: {reason}", path=str(path), reason=exc.strerror or str(exc)
        ) from None
    click.echo(f"wrote {path}")


@click.command("stats")
@click.option(
    "--period", default="30d", show_default=True, help="How far back, in days or weeks: 30d, 4w."
)
@click.option("--lang", help="Language: en, ru, kk or lt (default: the organisation's).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (n/a is null).")
@org_option
@pass_state
def stats(state: State, period: str, lang: str | None, as_json: bool, org_name: str | None) -> None:
    """Engagement of what was sent in the period, against the period before."""
    span = parse_span(period)
    afisha = state.afisha
    with afisha.transaction(org_name) as (session, org):
        language = check_language(lang) if lang else org.language
        tz = zone(org.timezone)
        summary = stats_summary(session, afisha.now(), tz, span, orgs={org.id})
    if as_json:
        emit_json(summary_json(summary))
    else:
        click.echo(summary_text(summary, language, tz))


def register(cli: click.Group) -> None:
    """Add the reporting commands to the `afisha` group."""
    from afisha.cli_network import network

    report.add_command(network)
    cli.add_command(report)
    cli.add_command(stats)
