"""The network report as PDF: A4 landscape, so one library's row fits on one line; the libraries'
table runs over as many pages as it needs, its header repeated on each."""

from __future__ import annotations

from xml.sax.saxutils import quoteattr

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.platypus import Flowable, Paragraph, Spacer

from bot.reports.pdf import (
    DEFINITIONS,
    FONT,
    FONT_BOLD,
    HEADER_SIZE,
    MARGIN,
    build_document,
    register_fonts,
    styles,
    table,
)
from bot.reports.pdf import text as _text
from content.analytics import labels
from content.analytics.network import NetworkReport
from content.analytics.network_csv import NETWORK_METRICS, NETWORK_TOTAL
from content.analytics.report import last_day
from content.i18n import N_, gettext_for, translate

PAGE = landscape(A4)
CELL_PADDING = 3  # points; half reportlab's default, so ten columns leave room for names
WIDTH = PAGE[0] - 2 * MARGIN
NETWORK_DEFINITIONS = (
    N_(
        "Each library's row counts the publications on its own channels; the month is the "
        "calendar month in the network head's time zone, for every library."
    ),
    N_("Posts are the posts published in the month; events are those that start in it."),
)


def _widths(rows: list[list[object]]) -> list[float]:
    """Number columns as wide as their header's longest word and their longest figure (so no
    word breaks, in any language), the rest for the library's name."""
    padding = 2 * CELL_PADDING + 4  # the cell's own padding, both sides, and a little air
    numbers = []
    for column in range(1, len(rows[0])):
        words = str(rows[0][column]).split()
        widest = max(stringWidth(w, FONT_BOLD, HEADER_SIZE) for w in words)
        figures = max(stringWidth(str(r[column]), FONT, 8) for r in rows[1:])
        numbers.append(max(14 * mm, widest + padding, figures + padding))
    return [WIDTH - sum(numbers), *numbers]


def _indented(name: str, depth: int, style: ParagraphStyle) -> Paragraph:
    # A member's member is indented under its own district library.
    shifted = ParagraphStyle(f"depth-{depth}", parent=style, leftIndent=min(depth, 4) * 3 * mm)
    return Paragraph(_text(name), shifted)


def render_network_pdf(report: NetworkReport, lang: str) -> bytes:
    """The network report as a PDF document."""
    register_fonts()
    _ = gettext_for(lang)
    style = styles()
    # A heading never ends a page alone (the top posts after 300 libraries' rows, say).
    style["h2"] = ParagraphStyle("h2-kept", parent=style["h2"], keepWithNext=1)
    bold_cell = ParagraphStyle("cell-bold", parent=style["cell"], fontName=FONT_BOLD)
    tz = report.tz
    month = labels.month_title(report.month, lang)
    before = labels.month_title(report.previous_period.start.astimezone(tz).date(), lang)
    story: list[Flowable] = [
        Paragraph(
            _text(_("{network}: network report, {month}", network=report.head, month=month)),
            style["title"],
        ),
        Spacer(1, 4),
        Paragraph(
            _text(
                _(
                    "{count} libraries. Publications sent from {start} to {end} ({zone}), "
                    "compared with {previous}. Prepared on {today}",
                    count=len(report.libraries),
                    start=labels.long_date(report.period.start.astimezone(tz).date(), lang),
                    end=labels.long_date(last_day(report.period, tz), lang),
                    zone=tz.key,
                    previous=before,
                    today=labels.long_date(report.generated_at.astimezone(tz).date(), lang),
                )
            ),
            style["body"],
        ),
    ]

    # The network's totals against last month.
    change = report.change
    found, previous = report.totals, report.previous
    rows: list[list[object]] = [[_("Metric"), month, before, _("Change")]]
    counted = (
        ("posts", _("Posts")),
        ("events", _("Events")),
        ("publications", labels.metric_name("publications", lang)),
    )
    for key, name in counted:
        rows.append(
            [
                name,
                labels.number(change[key].current, lang),
                labels.number(change[key].previous, lang),
                labels.signed(change[key], lang),
            ]
        )
    for metric in NETWORK_METRICS:
        rows.append(
            [
                labels.metric_name(metric, lang),
                labels.total(found[metric], lang),
                labels.total(previous[metric], lang),
                labels.signed(change[metric], lang),
            ]
        )
    story += [
        Paragraph(_text(_("The whole network")), style["h2"]),
        table(rows, [60 * mm, 40 * mm, 40 * mm, 50 * mm]),
    ]

    # One row per library, the network's total last.
    header: list[object] = [
        _("Library"),
        _("Posts"),
        _("Events"),
        labels.metric_name("publications", lang),
        *(labels.metric_name(m, lang) for m in NETWORK_METRICS),
        _("Interactions vs last month"),
    ]
    rows = [header]
    for row in report.libraries:
        rows.append(
            [
                _indented(row.name, row.depth, style["cell"]),
                labels.number(row.posts, lang),
                labels.number(row.events, lang),
                labels.number(row.totals.publications, lang),
                *(labels.total(row.totals[m], lang) for m in NETWORK_METRICS),
                labels.signed(row.change["interactions"], lang),
            ]
        )
    rows.append(
        [
            Paragraph(_text(translate(lang, NETWORK_TOTAL)), bold_cell),
            labels.number(report.posts, lang),
            labels.number(report.events, lang),
            labels.number(found.publications, lang),
            *(labels.total(found[m], lang) for m in NETWORK_METRICS),
            labels.signed(change["interactions"], lang),
        ]
    )
    libraries = table(rows, _widths(rows))
    libraries.setStyle(
        [
            ("FONT", (1, -1), (-1, -1), FONT_BOLD, 8),
            ("LINEABOVE", (0, -1), (-1, -1), 0.6, colors.HexColor("#7a8fb3")),
            ("LEFTPADDING", (0, 0), (-1, -1), CELL_PADDING),
            ("RIGHTPADDING", (0, 0), (-1, -1), CELL_PADDING),
        ]
    )
    story += [Paragraph(_text(_("Libraries")), style["h2"]), libraries]

    # The network's top posts, whichever library published them.
    story.append(Paragraph(_text(_("Top posts")), style["h2"]))
    if report.top:
        rows = [
            [
                "#",
                _("Post"),
                _("Library"),
                labels.metric_name("interactions", lang),
                labels.metric_name("reach", lang),
                _("Links"),
            ]
        ]
        for rank, item in enumerate(report.top, 1):
            links = ", ".join(
                f"<a href={quoteattr(link.url)} color='#1a56c4'>{_text(link.channel)}</a>"
                if link.url
                else _text(link.channel)
                for link in item.post.links
            )
            rows.append(
                [
                    str(rank),
                    Paragraph(_text(item.post.title), style["cell"]),
                    Paragraph(_text(item.library), style["cell"]),
                    labels.total(item.post.totals["interactions"], lang),
                    labels.total(item.post.totals["reach"], lang),
                    Paragraph(links, style["cell"]),
                ]
            )
        story.append(
            table(
                rows,
                [8 * mm, 95 * mm, 62 * mm, 26 * mm, 22 * mm, WIDTH - 213 * mm],
                left=(0, 1, 2, 5),
            )
        )
    else:
        story.append(Paragraph(_text(_("Nothing was published in this period")), style["body"]))

    story.append(Paragraph(_text(_("How the numbers are counted")), style["h2"]))
    story += [
        Paragraph(_text(translate(lang, d)), style["small"])
        for d in (*NETWORK_DEFINITIONS, *DEFINITIONS)
    ]

    return build_document(story, PAGE, report.head, month, lang)
