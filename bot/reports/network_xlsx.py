"""The network report as an XLSX workbook: the libraries (with the network's total last), the
network's summary, and its top posts, one sheet each; printed landscape, one page wide, the
header row repeated on every page."""

from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from bot.reports.xlsx import Cell, sheet_of, value_of
from content.analytics import labels
from content.analytics.network import NetworkReport
from content.analytics.network_csv import NETWORK_METRICS, NETWORK_TOTAL
from content.i18n import gettext_for, translate

BOLD = Font(bold=True)


def _printable(sheet: Worksheet) -> None:
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    sheet.print_title_rows = "1:1"
    sheet.auto_filter.ref = sheet.dimensions


def render_network_xlsx(report: NetworkReport, lang: str) -> bytes:
    """The network report as an XLSX workbook."""
    _ = gettext_for(lang)
    name = labels.metric_name
    book = Workbook()
    book.remove(book.active)  # type: ignore[arg-type]
    month = labels.month_title(report.month, lang)
    before = labels.month_title(report.previous_period.start.astimezone(report.tz).date(), lang)

    rows: list[list[Cell]] = []
    for row in report.libraries:
        change = row.change["interactions"]
        rows.append(
            [
                row.name,
                row.parent or "",
                row.posts,
                row.events,
                row.totals.publications,
                *(value_of(row.totals[m], lang) for m in NETWORK_METRICS),
                value_of(row.previous["interactions"], lang),
                value_of(change.delta, lang),
                value_of(change.ratio, lang),
            ]
        )
    change = report.change["interactions"]
    rows.append(
        [
            translate(lang, NETWORK_TOTAL),
            "",
            report.posts,
            report.events,
            report.totals.publications,
            *(value_of(report.totals[m], lang) for m in NETWORK_METRICS),
            value_of(report.previous["interactions"], lang),
            value_of(change.delta, lang),
            value_of(change.ratio, lang),
        ]
    )
    sheet = sheet_of(
        book,
        _("Libraries"),
        [
            _("Library"),
            _("Member of"),
            _("Posts"),
            _("Events"),
            name("publications", lang),
            *(name(m, lang) for m in NETWORK_METRICS),
            f"{name('interactions', lang)}, {before}",
            _("Change"),
            _("Change, %"),
        ],
        rows,
    )
    for column in ("A", "B"):
        for cell in sheet[column][1:]:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for cell in sheet[sheet.max_row]:
        cell.font = BOLD
    sheet.freeze_panes = "B2"  # the library's name stays in view, as the header does
    for row_cells in sheet.iter_rows(min_row=2, min_col=sheet.max_column):
        row_cells[0].number_format = "0.0%"
    _printable(sheet)

    summary: list[list[Cell]] = []
    every = report.change
    for key, label in (
        ("posts", _("Posts")),
        ("events", _("Events")),
        ("publications", name("publications", lang)),
        *((m, name(m, lang)) for m in NETWORK_METRICS),
    ):
        found = every[key]
        summary.append(
            [
                label,
                value_of(found.current, lang),
                value_of(found.previous, lang),
                value_of(found.delta, lang),
                value_of(found.ratio, lang),
            ]
        )
    sheet = sheet_of(
        book, _("Summary"), [_("Metric"), month, before, _("Change"), _("Change, %")], summary
    )
    for row_cells in sheet.iter_rows(min_row=2, min_col=5, max_col=5):
        row_cells[0].number_format = "0.0%"
    book.move_sheet(sheet, offset=-1)

    sheet = sheet_of(
        book,
        _("Top posts"),
        ["#", _("Post"), _("Library"), *(name(m, lang) for m in NETWORK_METRICS), _("Links")],
        [
            [
                rank,
                item.post.title,
                item.library,
                *(value_of(item.post.totals[m], lang) for m in NETWORK_METRICS),
                " ".join(link.url for link in item.post.links if link.url),
            ]
            for rank, item in enumerate(report.top, 1)
        ],
    )
    links_column = 4 + len(NETWORK_METRICS)
    for rank, item in enumerate(report.top, 1):
        first = next((link.url for link in item.post.links if link.url), None)
        if first:
            sheet.cell(row=rank + 1, column=links_column).hyperlink = first
    _printable(sheet)
    book.active = 0
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
