"""`afisha report network`: a network head's monthly report on every member library."""

from __future__ import annotations

from pathlib import Path

import click

from afisha.cli_support import State, pass_state
from bot.reports.files import network_report_file
from content.analytics.periods import parse_month
from content.analytics.report import ReportFormat
from content.domain.languages import check_language


@click.command("network")
@click.option("--org", "org_name", help="The network head (optional if there is one library).")
@click.option("--month", required=True, help="The month to report on, e.g. 2026-11.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice([f.value for f in ReportFormat]),
    default=ReportFormat.PDF.value,
    show_default=True,
    help="pdf: to read and print; xlsx: the tables; csv: one row per library.",
)
@click.option("--lang", help="Language: en, ru, kk or lt (default: the head's).")
@click.option(
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="File to write (default: afisha-network-<month>-<lang>.<format> here).",
)
@pass_state
def network(
    state: State,
    org_name: str | None,
    month: str,
    fmt: str,
    lang: str | None,
    output: Path | None,
) -> None:
    """Write a network head's report: one row per member library, totals, top posts."""
    from afisha.cli_reports import write_file

    first = parse_month(month)
    afisha = state.afisha
    with afisha.transaction(org_name) as (session, head):
        language = check_language(lang) if lang else head.language
        name, contents = network_report_file(
            session, head, first, afisha.now(), ReportFormat(fmt), language
        )
    write_file(output or Path(name), contents)
