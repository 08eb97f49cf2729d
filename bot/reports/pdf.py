"""The monthly report as PDF (reportlab), in DejaVu Sans so every alphabet Afisha speaks renders."""

from __future__ import annotations

import io
from collections.abc import Collection, Sequence
from functools import cache
from xml.sax.saxutils import escape, quoteattr

from matplotlib.figure import Figure
from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    Image,
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from bot.reports import charts
from bot.reports.fonts import BOLD, REGULAR, printable
from content.analytics import events, labels
from content.analytics.metrics import METRICS
from content.analytics.report import MonthlyReport, last_day
from content.i18n import N_, gettext_for, translate

FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"
MARGIN = 16 * mm
WIDTH = A4[0] - 2 * MARGIN
DEFINITIONS = (
    N_("Totals count the publications sent in the month, each with its latest collected numbers."),
    N_(
        "Interactions are reactions, comments, shares and saves added up, from the parts each "
        "platform reports; n/a means the platform does not report a number (it is not zero)."
    ),
    N_(
        "Where some publications lack a number, the total adds the known ones and says for how "
        "many publications it was known."
    ),
    N_(
        "The engagement rate divides interactions by reach, over the publications whose reach "
        "is known."
    ),
)


@cache
def register_fonts() -> None:
    pdfmetrics.registerFont(TTFont(FONT, str(REGULAR)))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(BOLD)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=FONT_BOLD)


def styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=7.5, leading=9.5),
        "cell": ParagraphStyle("cell", parent=body, fontSize=8, leading=10),
        "title": ParagraphStyle("title", parent=body, fontName=FONT_BOLD, fontSize=16, leading=20),
        "h2": ParagraphStyle(
            "h2",
            parent=body,
            fontName=FONT_BOLD,
            fontSize=12,
            leading=15,
            spaceBefore=10,
            spaceAfter=4,
        ),
    }


HEADER_SIZE = 7
_HEADER_LEFT = ParagraphStyle("header", fontName=FONT_BOLD, fontSize=HEADER_SIZE, leading=8.5)
_HEADER_RIGHT = ParagraphStyle("header-right", parent=_HEADER_LEFT, alignment=TA_RIGHT)


def text(value: str) -> str:
    """`value` as Paragraph markup in the reports' font."""
    return escape(printable(value))


def table(
    rows: Sequence[Sequence[object]], widths: Sequence[float], left: Collection[int] = (0,)
) -> Table:
    """A table whose header wraps; columns not in `left` hold numbers and align right."""
    header = [
        Paragraph(text(str(name)), _HEADER_LEFT if index in left else _HEADER_RIGHT)
        for index, name in enumerate(rows[0])
    ]
    made = Table([header, *(list(r) for r in rows[1:])], colWidths=list(widths), repeatRows=1)
    style = [
        ("FONT", (0, 0), (-1, -1), FONT, 8),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef8")),
        ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor("#7a8fb3")),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, colors.HexColor("#d0d0d0")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
    ]
    style += [("ALIGN", (i, 1), (i, -1), "RIGHT") for i in range(len(widths)) if i not in left]
    made.setStyle(TableStyle(style))
    return made


def _chart(figure: Figure) -> Image:
    width, height = figure.get_size_inches()
    png = charts.to_png(figure, dpi=150)
    return Image(io.BytesIO(png), width=WIDTH, height=WIDTH * height / width)


def month_events(
    report: MonthlyReport, lang: str, style: dict[str, ParagraphStyle]
) -> list[Flowable]:
    """The events of the month: the totals in a line, a row per event, the note on attendance."""
    _ = gettext_for(lang)
    section = report.month_events
    story: list[Flowable] = [
        Paragraph(text(_("Events of the month")), style["h2"]),
        Paragraph(
            text(
                " · ".join(
                    f"{label}: {labels.number(value, lang)}"
                    for label, value in events.figures(section, lang)
                )
            ),
            style["body"],
        ),
        Spacer(1, 4),
    ]
    if section.rows:
        rows: list[list[object]] = [[translate(lang, c) for c in events.COLUMN_NAMES]]
        for row in section.rows:
            rows.append(
                [
                    Paragraph(text(events.local_when(row, report.tz, lang)), style["cell"]),
                    Paragraph(text(row.place or "—"), style["cell"]),
                    Paragraph(text(row.title), style["cell"]),
                    Paragraph(text(events.status_text(row, lang)), style["cell"]),
                    labels.number(row.attendance, lang),
                    labels.number(row.reminder_requests, lang),
                    labels.total(row.announcement_reach, lang),
                    labels.total(row.reminder_reach, lang),
                ]
            )
        widths = [24 * mm, 20 * mm, 28 * mm, 24 * mm, 20 * mm, 19 * mm, 19 * mm, 24 * mm]
        made = table(rows, widths, left=(0, 1, 2, 3))
        # Eight columns: narrower padding, so the headers' longest words fit unbroken.
        made.setStyle(
            TableStyle(
                [("LEFTPADDING", (0, 0), (-1, -1), 3), ("RIGHTPADDING", (0, 0), (-1, -1), 3)]
            )
        )
        story.append(made)
    else:
        story.append(Paragraph(text(_("No events this month.")), style["body"]))
    note = _("Times are local to {zone}.", zone=report.tz.key)
    story.append(Spacer(1, 3))
    story.append(
        Paragraph(text(f"{note} {translate(lang, events.ATTENDANCE_NOTE)}"), style["small"])
    )
    return story


def render_pdf(report: MonthlyReport, lang: str) -> bytes:
    """The report as a PDF document."""
    register_fonts()
    _ = gettext_for(lang)
    style = styles()
    tz = report.tz
    month = labels.month_title(report.month, lang)
    before = labels.month_title(report.previous_period.start.astimezone(tz).date(), lang)
    story: list[Flowable] = [
        Paragraph(
            text(
                _(
                    "{organization}: engagement report, {month}",
                    organization=report.organization,
                    month=month,
                )
            ),
            style["title"],
        ),
        Spacer(1, 4),
        Paragraph(
            text(
                _(
                    "Publications sent from {start} to {end} ({zone}), compared with {previous}. "
                    "Prepared on {today}",
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

    # Totals against last month.
    change = report.changes
    rows: list[list[object]] = [
        [_("Metric"), month, before, _("Change"), _("Known for")],
        [
            labels.metric_name("publications", lang),
            labels.number(report.totals.publications, lang),
            labels.number(report.previous.publications, lang),
            labels.signed(change["publications"], lang),
            "",
        ],
    ]
    for metric in METRICS:
        found = report.totals[metric]
        rows.append(
            [
                labels.metric_name(metric, lang),
                labels.total(found, lang),
                labels.total(report.previous[metric], lang),
                labels.signed(change[metric], lang),
                f"{found.known} / {report.totals.publications}",
            ]
        )
    rows.append(
        [
            labels.metric_name("rate", lang),
            labels.percent(report.totals.rate, lang),
            labels.percent(report.previous.rate, lang),
            labels.signed(change["rate"], lang, rate=True),
            f"{report.totals.rate_publications} / {report.totals.publications}",
        ]
    )
    story += [
        Paragraph(text(_("Summary")), style["h2"]),
        table(rows, [44 * mm, 30 * mm, 30 * mm, 40 * mm, 30 * mm]),
    ]

    # Channels.
    rows = [
        [
            _("Channel"),
            _("Platform"),
            labels.metric_name("publications", lang),
            labels.metric_name("interactions", lang),
            labels.metric_name("reach", lang),
            labels.metric_name("rate", lang),
            _("Interactions vs last month"),
        ]
    ]
    for row in report.channels:
        sums = row.channel.totals
        rows.append(
            [
                Paragraph(text(row.channel.channel), style["cell"]),
                labels.PLATFORM_NAMES[row.channel.platform],
                labels.number(sums.publications, lang),
                labels.total(sums["interactions"], lang),
                labels.total(sums["reach"], lang),
                labels.percent(sums.rate, lang),
                labels.signed(row.change["interactions"], lang),
            ]
        )
    story += [
        Paragraph(text(_("Channels")), style["h2"]),
        table(rows, [24 * mm, 21 * mm, 21 * mm, 28 * mm, 18 * mm, 28 * mm, 34 * mm], left=(0, 1)),
        Spacer(1, 6),
        _chart(charts.interactions_over_time(report.daily, lang, report.period, tz)),
    ]

    # Top posts, with links to where they were published.
    story.append(Paragraph(text(_("Top posts")), style["h2"]))
    if report.top:
        rows = [
            [
                "#",
                _("Post"),
                labels.metric_name("interactions", lang),
                labels.metric_name("reach", lang),
                _("Links"),
            ]
        ]
        for rank, post in enumerate(report.top, 1):
            links = ", ".join(
                f"<a href={quoteattr(link.url)} color='#1a56c4'>{text(link.channel)}</a>"
                if link.url
                else text(link.channel)
                for link in post.links
            )
            rows.append(
                [
                    str(rank),
                    Paragraph(text(post.title), style["cell"]),
                    labels.total(post.totals["interactions"], lang),
                    labels.total(post.totals["reach"], lang),
                    Paragraph(links, style["cell"]),
                ]
            )
        story += [
            table(rows, [8 * mm, 74 * mm, 28 * mm, 22 * mm, 42 * mm], left=(0, 1, 4)),
            Spacer(1, 6),
            _chart(charts.top_posts_chart(report.top, lang)),
        ]
    else:
        story.append(Paragraph(text(translate(lang, charts.NO_POSTS)), style["body"]))

    story += month_events(report, lang, style)

    # Event publications: the announcement and reminders together.
    story.append(Paragraph(text(_("Event publications")), style["h2"]))
    if report.events:
        rows = [
            [
                _("Event"),
                _("Starts"),
                labels.metric_name("publications", lang),
                labels.metric_name("interactions", lang),
                labels.metric_name("reach", lang),
            ]
        ]
        for event in report.events:
            rows.append(
                [
                    Paragraph(text(event.title), style["cell"]),
                    labels.long_date(event.starts_at.astimezone(tz).date(), lang),
                    labels.number(event.totals.publications, lang),
                    labels.total(event.totals["interactions"], lang),
                    labels.total(event.totals["reach"], lang),
                ]
            )
        story.append(table(rows, [66 * mm, 36 * mm, 22 * mm, 28 * mm, 22 * mm]))
    else:
        story.append(Paragraph(text(_("No event publications this month.")), style["body"]))

    history = report.heatmap.period
    story.append(
        KeepTogether(
            [
                Paragraph(text(_("Best posting times")), style["h2"]),
                Paragraph(
                    text(
                        _(
                            "Average interactions per publication by local weekday and hour, "
                            "from {start} to {end}",
                            start=labels.long_date(history.start.astimezone(tz).date(), lang),
                            end=labels.long_date(last_day(history, tz), lang),
                        )
                    ),
                    style["body"],
                ),
                _chart(charts.heatmap_chart(report.heatmap, lang)),
            ]
        )
    )
    story.append(Paragraph(text(_("How the numbers are counted")), style["h2"]))
    story += [Paragraph(text(translate(lang, d)), style["small"]) for d in DEFINITIONS]

    return build_document(story, A4, report.organization, month, lang)


def build_document(
    story: list[Flowable], pagesize: tuple[float, float], name: str, month: str, lang: str
) -> bytes:
    """The PDF of `story`, each page footed with its number and "Afisha · `name` · `month`"."""
    _ = gettext_for(lang)
    buffer = io.BytesIO()

    def footer(canvas: Canvas, document: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.drawRightString(
            pagesize[0] - MARGIN, 9 * mm, printable(_("Page {number}", number=document.page))
        )
        canvas.drawString(MARGIN, 9 * mm, printable(f"Afisha · {name} · {month}"))
        canvas.restoreState()

    document = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN + 4 * mm,
        title=f"{name} — {month}",
        author="Afisha",
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
