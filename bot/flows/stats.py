"""/stats (a period's engagement by channel, top posts and charts, or one post's) and /report
(the monthly report file), built on content.analytics."""

from __future__ import annotations

from datetime import timedelta

from bot.access import Permission
from bot.flows.network import network_buttons, send_network_report
from bot.reports.files import monthly_events_file, monthly_report_file, stats_charts
from bot.router import Router
from bot.turn import Turn
from content.analytics import labels
from content.analytics.periods import last_month, local_midnight, parse_month, parse_span
from content.analytics.queries import Breakdown, event_breakdown, post_breakdown
from content.analytics.report import ReportFormat
from content.analytics.stats import DEFAULT_SPAN, stats_summary, summary_text
from content.domain.callback_data import LARGEST_INT
from content.errors import InvalidInput, NotFound
from content.i18n import N_

MONTH = "month"
NETWORK = "network"  # /report network: a network head's report on its member libraries

routes = Router()


def _breakdown_text(turn: Turn, heading: str, found: Breakdown) -> str:
    lang = turn.language
    lines = [heading, ""]
    if not found.publications:
        lines.append(turn._("Not published yet, so there is nothing to count."))
        return "\n".join(lines)
    for row in found.publications:
        counts = row.counts
        parts = [
            f"{labels.metric_name(metric, lang).lower()} {labels.number(counts.get(metric), lang)}"
            for metric in ("interactions", "views", "reach")
        ]
        line = f"• {row.channel} ({labels.PLATFORM_NAMES[row.platform]}): " + ", ".join(parts)
        lines.append(line + (f"\n  {row.remote_url}" if row.remote_url else ""))
    totals = found.totals
    lines += [
        "",
        turn._("Together:")
        + " "
        + ", ".join(
            f"{labels.metric_name(m, lang).lower()} {labels.total(totals[m], lang)}"
            for m in ("interactions", "views", "reach")
        ),
    ]
    return "\n".join(lines)


def _span(turn: Turn, arg: str) -> timedelta:
    if not arg:
        return DEFAULT_SPAN
    if arg == MONTH:  # this calendar month so far, in the library's zone
        first = turn.now().astimezone(turn.tz).date().replace(day=1)
        return turn.now() - local_midnight(first, turn.tz)
    try:
        return parse_span(arg)
    except InvalidInput:
        raise InvalidInput(
            "cannot read {arg!r}: send /stats 7d, /stats 30d, /stats month, or /stats and a "
            "post number, e.g. /stats 12",
            arg=arg,
        ) from None


@routes.command(
    "stats",
    Permission.STATS,
    N_("Engagement: /stats 7d, 30d, month or a post"),
    per_organization=True,
)
async def stats(turn: Turn) -> None:
    args = turn.incoming.args.lower().split()
    kind, number = (args[0], args[1]) if len(args) == 2 else ("post", args[0] if args else "")
    # ASCII digits only (str.isdigit also takes "１" and "١"), and no id is past 64 bits.
    if number.isascii() and number.isdigit() and kind in ("post", "event"):
        reached = int(number) <= LARGEST_INT and turn.reaches(
            "post" if kind == "post" else "event", int(number)
        )
        if reached and not turn.require(Permission.STATS):
            return  # reached, but their role in that library shows no figures
        found = (
            None
            if not reached
            else post_breakdown(turn.session, int(number))
            if kind == "post"
            else event_breakdown(turn.session, int(number))
        )
        if found is None:
            raise NotFound("no {kind} has id {id}", kind=kind, id=int(number))
        heading = (
            turn._("Post #{id} “{title}”", id=number, title=found.title)
            if kind == "post"
            else turn._("Event #{id} “{title}”", id=number, title=found.title)
        )
        turn.say(_breakdown_text(turn, heading, found))
        return
    span = _span(turn, " ".join(args))
    summary = stats_summary(turn.session, turn.now(), turn.tz, span, orgs={turn.organization.id})
    turn.say(summary_text(summary, turn.language, turn.tz))
    if summary.totals.publications:
        for _name, png in stats_charts(turn.session, summary, turn.tz, turn.language):
            turn.say("", photo=png)


@routes.command(
    "report",
    Permission.STATS,
    N_("Monthly report: /report 2026-11 pdf|xlsx|csv"),
    per_organization=True,
)
async def report(turn: Turn) -> None:
    month = last_month(turn.now(), turn.tz)
    fmt = ReportFormat.PDF
    args = turn.incoming.args.lower().split()
    network = NETWORK in args
    for arg in args:
        if arg in {f.value for f in ReportFormat}:
            fmt = ReportFormat(arg)
        elif arg != NETWORK:
            month = parse_month(arg)
    org = turn.organization
    if network:
        send_network_report(turn, org, month, fmt)
        return
    name, contents = monthly_report_file(turn.session, org, month, turn.now(), fmt, turn.language)
    turn.say(
        turn._("The report for {month}.", month=labels.month_title(month, turn.language)),
        network_buttons(turn, org, month),
        document=(name, contents),
    )
    if fmt is ReportFormat.CSV:  # the events go in a file of their own, beside the raw export
        events = monthly_events_file(turn.session, org, month, turn.now(), turn.language)
        turn.say("", document=events)
