"""The monthly report as an XLSX workbook (openpyxl): one sheet per table.

Known numbers are numeric cells, so they add up in the spreadsheet; n/a is the text n/a.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence
from datetime import date, datetime

from openpyxl import Workbook
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from content.analytics import events, labels
from content.analytics.metrics import METRICS, Change, Total
from content.analytics.report import MonthlyReport
from content.i18n import gettext_for, translate

HEADER = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="E8EEF8")
Cell = str | int | float | date | datetime | None


def value_of(found: Total | float | int | None, lang: str) -> Cell:
    value = found.value if isinstance(found, Total) else found
    return labels.na(lang) if value is None else value


def _delta(change: Change, lang: str) -> Cell:
    return value_of(change.delta, lang)


def sheet_of(
    book: Workbook, title: str, header: Sequence[str], rows: Sequence[Sequence[Cell]]
) -> Worksheet:
    # Sheet names: at most 31 characters, none of []:*?/\ .
    sheet = book.create_sheet(re.sub(r"[\[\]:*?/\\]", " ", title)[:31])
    sheet.append(list(header))
    for cell in sheet[1]:
        cell.font, cell.fill = HEADER, HEADER_FILL
    for row in rows:
        sheet.append(list(row))
    for index, name in enumerate(header, 1):
        width = max([len(str(name)), *(len(str(r[index - 1])) for r in rows if len(r) >= index)])
        sheet.column_dimensions[get_column_letter(index)].width = min(max(10, width + 2), 60)
    sheet.freeze_panes = "A2"
    return sheet


def render_xlsx(report: MonthlyReport, lang: str) -> bytes:
    """The report as an XLSX workbook: summary, channels, top posts, events, per day, best times."""
    _ = gettext_for(lang)
    name = labels.metric_name
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    change = report.changes
    month = labels.month_title(report.month, lang)
    before = labels.month_title(report.previous_period.start.astimezone(report.tz).date(), lang)

    summary: list[list[Cell]] = [
        [
            name("publications", lang),
            report.totals.publications,
            report.previous.publications,
            _delta(change["publications"], lang),
            value_of(change["publications"].ratio, lang),
            None,
        ]
    ]
    for metric in METRICS:
        summary.append(
            [
                name(metric, lang),
                value_of(report.totals[metric], lang),
                value_of(report.previous[metric], lang),
                _delta(change[metric], lang),
                value_of(change[metric].ratio, lang),
                report.totals[metric].known,
            ]
        )
    summary.append(
        [
            name("rate", lang),
            value_of(report.totals.rate, lang),
            value_of(report.previous.rate, lang),
            _delta(change["rate"], lang),
            None,
            report.totals.rate_publications,
        ]
    )
    sheet = sheet_of(
        book,
        _("Summary"),
        [_("Metric"), month, before, _("Change"), _("Change, %"), _("Known for")],
        summary,
    )
    for row in sheet.iter_rows(min_row=2, min_col=5, max_col=5):
        row[0].number_format = "0.0%"
    sheet.cell(row=len(summary) + 1, column=2).number_format = "0.00%"
    sheet.cell(row=len(summary) + 1, column=3).number_format = "0.00%"

    metrics_header = [name(m, lang) for m in METRICS]
    sheet_of(
        book,
        _("Channels"),
        [
            _("Channel"),
            _("Platform"),
            name("publications", lang),
            *metrics_header,
            name("rate", lang),
            _("Interactions vs last month"),
        ],
        [
            [
                row.channel.channel,
                labels.PLATFORM_NAMES[row.channel.platform],
                row.channel.totals.publications,
                *(value_of(row.channel.totals[m], lang) for m in METRICS),
                value_of(row.channel.totals.rate, lang),
                _delta(row.change["interactions"], lang),
            ]
            for row in report.channels
        ],
    )

    sheet = sheet_of(
        book,
        _("Top posts"),
        ["#", _("Post"), name("publications", lang), *metrics_header, _("Links")],
        [
            [
                rank,
                post.title,
                post.totals.publications,
                *(value_of(post.totals[m], lang) for m in METRICS),
                " ".join(link.url for link in post.links if link.url),
            ]
            for rank, post in enumerate(report.top, 1)
        ],
    )
    links_column = 4 + len(METRICS)
    for rank, post in enumerate(report.top, 1):
        first = next((link.url for link in post.links if link.url), None)
        if first:
            sheet.cell(row=rank + 1, column=links_column).hyperlink = first

    month_events(book, report, lang)

    sheet_of(
        book,
        _("Event publications"),
        [_("Event"), _("Starts"), name("publications", lang), *metrics_header],
        [
            [
                event.title,
                event.starts_at.astimezone(report.tz).replace(tzinfo=None),
                event.totals.publications,
                *(value_of(event.totals[m], lang) for m in METRICS),
            ]
            for event in report.events
        ],
    )

    sheet_of(
        book,
        _("Per day"),
        [_("Day"), _("Channel"), name("publications", lang), *metrics_header],
        [
            [
                point.start,
                point.channel,
                point.totals.publications,
                *(value_of(point.totals[m], lang) for m in METRICS),
            ]
            for point in report.daily
        ],
    )

    days = labels.weekday_names(lang)
    sheet_of(
        book,
        _("Best posting times"),
        [_("Weekday"), *(f"{h:02d}" for h in range(24))],
        [
            [days[d], *(value_of(_round(report.heatmap.mean(d, h)), lang) for h in range(24))]
            for d in range(7)
        ],
    )

    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def month_events(book: Workbook, report: MonthlyReport, lang: str) -> None:
    """Two sheets: the month's events in numbers, and a row per event (its start local)."""
    _ = gettext_for(lang)
    section = report.month_events
    totals: list[list[Cell]] = [
        [label, value_of(value, lang)] for label, value in events.figures(section, lang)
    ]
    totals.append([_("Time zone"), report.tz.key])
    sheet = sheet_of(book, _("Events in numbers"), [_("Metric"), month_title(report, lang)], totals)
    sheet.append([])
    sheet.append([translate(lang, events.ATTENDANCE_NOTE)])
    sheet = sheet_of(
        book,
        _("Events of the month"),
        [translate(lang, c) for c in events.COLUMN_NAMES],
        [
            [
                row.starts_at.astimezone(report.tz).replace(tzinfo=None),
                row.place or "",
                row.title,
                events.status_text(row, lang),
                value_of(row.attendance, lang),
                row.reminder_requests,
                value_of(row.announcement_reach, lang),
                value_of(row.reminder_reach, lang),
            ]
            for row in section.rows
        ],
    )
    for (cell,) in sheet.iter_rows(min_row=2, max_col=1):
        cell.number_format = "yyyy-mm-dd hh:mm"


def month_title(report: MonthlyReport, lang: str) -> str:
    return labels.month_title(report.month, lang)


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)
