"""Charts as PNG: interactions over time per channel, top posts, the weekday × hour heatmap.

Drawn with matplotlib's Agg canvas (no display, no pyplot state). n/a is never drawn as zero:
a line breaks, a bar is left out and labelled n/a, a heatmap cell stays grey.
"""

from __future__ import annotations

import io
import math
import textwrap
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.axis import Axis
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import date2num
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from bot.reports.fonts import printable
from content.analytics import labels
from content.analytics.periods import Period, local_days
from content.analytics.queries import Heatmap, SeriesPoint, TopPost
from content.domain.text import shorten
from content.i18n import N_, translate

NO_POSTS = N_("No posts were published in this period")
# The height of a chart with nothing to draw: its title and one line saying so.
EMPTY_HEIGHT = 1.4


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def to_png(figure: Figure, dpi: int = 120) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def interactions_over_time(
    points: Sequence[SeriesPoint], lang: str, period: Period, tz: ZoneInfo
) -> Figure:
    """One line per channel: interactions of what it sent each local day of `period` (gaps
    where n/a); the x-axis spans the period's local days whether or not anything was sent."""
    span = local_days(period, tz)
    figure = _figure(8, 3.6 if points else EMPTY_HEIGHT)
    axes = figure.add_subplot()
    axes.set_title(translate(lang, N_("Interactions per day, by channel")))
    _day_axis(axes, span, lang)
    if not points:
        first, last = (labels.short_date(d, lang) for d in span)
        _nothing(axes, lang, dates=f"{first} – {last}")
        return figure
    by_channel: dict[str, list[SeriesPoint]] = defaultdict(list)
    for point in points:
        by_channel[point.channel].append(point)
    for channel, mine in sorted(by_channel.items()):
        mine.sort(key=lambda p: p.start)
        values = [_value(p.totals["interactions"].value) for p in mine]
        unknown = sum(math.isnan(v) for v in values)
        label = printable(channel)
        if unknown:
            label += f" ({labels.na(lang)}: {unknown})"
        days = [_day(p.start) for p in mine]
        axes.plot(days, values, marker="o", markersize=4, linewidth=1.4, label=label)
    axes.legend(loc="best", fontsize="small")
    axes.set_ylabel(labels.metric_name("interactions", lang))
    counts = [p.totals["interactions"].value for p in points]
    # Headroom above the highest point, so the legend finds a place off the lines.
    _count_axis(axes.yaxis, axes.set_ylim, counts, lang, headroom=1.25)
    axes.grid(alpha=0.3)
    return figure


def top_posts_chart(top: Sequence[TopPost], lang: str) -> Figure:
    """Horizontal bars of the top posts' interactions, the best at the top (n/a: no bar)."""
    figure = _figure(8, 0.9 + 0.42 * len(top) if top else EMPTY_HEIGHT)
    axes = figure.add_subplot()
    axes.set_title(translate(lang, N_("Top posts by interactions")))
    if not top:
        # Event announcements and reminders may have gone out: it is posts there were none of.
        _nothing(axes, lang, why=NO_POSTS)
        return figure
    names = [f"{i}. {shorten(printable(t.title), 48)}" for i, t in enumerate(top, 1)]
    values = [t.totals["interactions"].value for t in top]
    positions = list(range(len(top)))[::-1]
    known = [(y, v) for y, v in zip(positions, values, strict=True) if v is not None]
    axes.barh([y for y, _ in known], [v for _, v in known], color="#3b7dd8")
    for y, value in zip(positions, values, strict=True):
        text = labels.number(value, lang)
        axes.annotate(
            text,
            (value or 0, y),
            xytext=(4, 0),
            textcoords="offset points",
            va="center",
            fontsize="small",
        )
    axes.set_yticks(positions, names, fontsize="small")
    axes.set_xlabel(labels.metric_name("interactions", lang))
    # Room on the right for the largest bar's label.
    _count_axis(axes.xaxis, axes.set_xlim, values, lang, headroom=1.15)
    return figure


def heatmap_chart(heatmap: Heatmap, lang: str) -> Figure:
    """Average interactions per publication by local weekday and hour; grey where no data."""
    grid = np.full((7, 24), np.nan)
    for weekday, hour in heatmap.cells:
        mean = heatmap.mean(weekday, hour)
        if mean is not None:
            grid[weekday, hour] = mean
    empty = bool(np.isnan(grid).all())
    figure = _figure(8, EMPTY_HEIGHT if empty else 3.4)
    axes = figure.add_subplot()
    axes.set_title(translate(lang, N_("Best posting times (average interactions)")))
    if empty:
        why = N_("No interactions were reported in this period") if heatmap.cells else None
        _nothing(axes, lang, why=why)
        return figure
    palette = colormaps["YlOrRd"].with_extremes(bad="#e6e6e6")
    top = max(float(np.nanmax(grid)), 1.0)
    image = axes.imshow(np.ma.masked_invalid(grid), cmap=palette, aspect="auto", vmin=0, vmax=top)
    axes.set_yticks(range(7), labels.weekday_names(lang))
    axes.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    axes.set_xlabel(translate(lang, N_("Hour (local time); grey: no data")))
    colorbar = figure.colorbar(image, ax=axes)
    # Wrapped: in Kazakh the label runs longer than the bar is tall.
    label = textwrap.fill(translate(lang, N_("Interactions per publication")), 22)
    colorbar.set_label(label, fontsize="small")
    colorbar.locator = MaxNLocator(integer=True)
    colorbar.formatter = _count_format(lang)
    colorbar.update_ticks()
    return figure


def _day(day: date) -> float:
    return float(date2num(day))


def _value(value: int | None) -> float:
    return math.nan if value is None else float(value)


def _day_axis(axes: Axes, days: tuple[date, date], lang: str) -> None:
    """The x-axis from the first local day to the last, at most eight labelled days."""
    first, last = days
    count = (last - first).days + 1
    # Every day in a week, else weekly from the first day (a month reads 1, 8, 15, 22, 29).
    step = 1 if count <= 8 else 7 * math.ceil(count / 56)
    ticks = [first + timedelta(days=i) for i in range(0, count, step)]
    axes.set_xlim(_day(first) - 0.5, _day(last) + 0.5)
    axes.set_xticks([_day(d) for d in ticks], [labels.short_date(d, lang) for d in ticks])


def _count_axis(
    axis: Axis,
    set_limits: Callable[[float, float], object],
    values: Sequence[int | None],
    lang: str,
    headroom: float = 1.1,
) -> None:
    """A count axis from zero, in whole numbers, however few or small the values."""
    top = max([v for v in values if v is not None], default=0)
    set_limits(0, max(top, 1) * headroom)
    axis.set_major_locator(MaxNLocator(integer=True, min_n_ticks=2))
    axis.set_major_formatter(_count_format(lang))


def _count_format(lang: str) -> FuncFormatter:
    return FuncFormatter(lambda x, _pos: labels.number(round(x), lang))


def _nothing(axes: Axes, lang: str, *, why: str | None = None, dates: str = "") -> None:
    """Say there is nothing to draw (and over which days), instead of drawing empty axes."""
    message = translate(lang, why or N_("Nothing was published in this period"))
    if dates:
        message += f"\n{dates}"
    axes.set_axis_off()
    axes.text(
        0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes, color="#555555"
    )
