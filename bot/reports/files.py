"""The files /stats, /report, the monthly mailing and `afisha report` send: the monthly report
in a chosen format, and the charts that go with a period's summary.

Rendering lives here, with the bot, not in `content`: the core holds the figures, and the
drawing libraries (reportlab, openpyxl, matplotlib) stay out of it. Each renderer is imported
only when its format is asked for, so importing this module costs nothing heavy.
"""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from content.analytics import queries
from content.analytics.periods import month_period
from content.analytics.report import (
    ReportFormat,
    build_monthly_report,
    events_filename,
    report_filename,
)
from content.analytics.stats import StatsSummary
from content.domain.timeparse import zone
from content.storage.models import Organization


def monthly_report_file(
    session: Session,
    org: Organization,
    month: date,
    now: datetime,
    fmt: ReportFormat,
    lang: str,
) -> tuple[str, bytes]:
    """`org`'s report on `month` as (default file name, contents)."""
    # Imported here: each renderer pulls in a heavy library only the chosen format needs.
    if fmt is ReportFormat.CSV:
        from content.analytics.export_csv import snapshots_csv

        period = month_period(month, zone(org.timezone))
        contents = snapshots_csv(session, period, lang, orgs={org.id})
    else:
        report = build_monthly_report(session, org, month, now)
        if fmt is ReportFormat.PDF:
            from bot.reports.pdf import render_pdf

            contents = render_pdf(report, lang)
        else:
            from bot.reports.xlsx import render_xlsx

            contents = render_xlsx(report, lang)
    return report_filename(month, lang, fmt), contents


def monthly_events_file(
    session: Session, org: Organization, month: date, now: datetime, lang: str
) -> tuple[str, bytes]:
    """`org`'s events of `month` as a CSV of their own (file name, contents): written beside the
    raw CSV export, whose fixed snapshot columns the tools reading it expect alone."""
    from content.analytics.events import events_csv, events_section

    tz = zone(org.timezone)
    section = events_section(session, org.id, month_period(month, tz), now)
    return events_filename(month, lang), events_csv(section, tz, lang)


def stats_charts(
    session: Session, summary: StatsSummary, tz: ZoneInfo, lang: str
) -> list[tuple[str, bytes]]:
    """The PNGs sent with /stats: (file name, bytes), over the same organisations."""
    # Imported here, as the report renderers are: matplotlib (with numpy) weighs some 40 MB,
    # which every process that merely imports this module (the CLI, the bot) would carry.
    from bot.reports import charts

    orgs = summary.orgs
    series = queries.channel_series(session, summary.period, tz, orgs=orgs)
    heatmap = queries.best_times(session, summary.period, tz, orgs)
    return [
        (
            "interactions.png",
            charts.to_png(charts.interactions_over_time(series, lang, summary.period, tz)),
        ),
        ("top-posts.png", charts.to_png(charts.top_posts_chart(summary.top, lang))),
        ("best-times.png", charts.to_png(charts.heatmap_chart(heatmap, lang))),
    ]


def network_report_file(
    session: Session,
    head: Organization,
    month: date,
    now: datetime,
    fmt: ReportFormat,
    lang: str,
) -> tuple[str, bytes]:
    """The network report of `head` on `month` as (default file name, contents).

    Raises:
        InvalidInput: `head` has no member libraries.
    """
    from content.analytics.network import build_network_report, network_filename

    report = build_network_report(session, head, month, now)
    if fmt is ReportFormat.CSV:
        from content.analytics.network_csv import network_csv

        contents = network_csv(report, lang)
    elif fmt is ReportFormat.PDF:
        from bot.reports.network_pdf import render_network_pdf

        contents = render_network_pdf(report, lang)
    else:
        from bot.reports.network_xlsx import render_network_xlsx

        contents = render_network_xlsx(report, lang)
    return network_filename(month, lang, fmt), contents
