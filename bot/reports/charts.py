"""Charts as PNG: interactions over time per channel, top posts, the weekday × hour heatmap.

Drawn with matplotlib's Agg canvas (no display, no pyplot state). n/a is never drawn as zero:
a line breaks, a bar is left out and labelled n/a, a heatmap cell stays grey.
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
from collections.abc import Sequence

import numpy as np
from matplotlib import colormaps
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import date2num, num2date
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from bot.reports.fonts import printable
from content.analytics import labels
from content.analytics.queries import Heatmap, SeriesPoint, TopPost
from content.domain.text import shorten
from content.i18n import N_, translate


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)
    return figure


def to_png(figure: Figure, dpi: int = 120) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()


def interactions_over_time(points: Sequence[SeriesPoint], lang: str) -> Figure:
    """One line per channel: interactions of what it sent each day (gaps where n/a)."""
    figure = _figure(8, 3.6)
    axes = figure.add_subplot()
    axes.set_title(translate(lang, N_("Interactions per day, by channel")))
    by_channel: dict[str, list[SeriesPoint]] = defaultdict(list)
    for point in points:
        by_channel[point.channel].append(point)
    for channel, mine in sorted(by_channel.items()):
        mine.sort(key=lambda p: p.start)
        days = [p.start for p in mine]
        values = [
            float(v) if (v := p.totals["interactions"].value) is not None else math.nan
            for p in mine
        ]
        unknown = sum(math.isnan(v) for v in values)
        label = printable(channel)
        if unknown:
            label += f" ({labels.na(lang)}: {unknown})"
        axes.plot(date2num(days), values, marker="o", markersize=3, linewidth=1.4, label=label)
    if by_channel:
        axes.legend(loc="upper left", fontsize="small")
    else:
        _nothing(axes, lang)
    axes.set_ylabel(labels.metric_name("interactions", lang))
    axes.set_ylim(bottom=0)
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.xaxis.set_major_formatter(
        FuncFormatter(lambda x, _pos: labels.short_date(num2date(x).date(), lang))
    )
    axes.grid(alpha=0.3)
    return figure


def top_posts_chart(top: Sequence[TopPost], lang: str) -> Figure:
    """Horizontal bars of the top posts' interactions, the best at the top (n/a: no bar)."""
    figure = _figure(8, 0.9 + 0.42 * max(len(top), 1))
    axes = figure.add_subplot()
    axes.set_title(translate(lang, N_("Top posts by interactions")))
    if not top:
        _nothing(axes, lang)
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
    axes.margins(x=0.12)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    return figure


def heatmap_chart(heatmap: Heatmap, lang: str) -> Figure:
    """Average interactions per publication by local weekday and hour; grey where no data."""
    grid = np.full((7, 24), np.nan)
    for weekday, hour in heatmap.cells:
        mean = heatmap.mean(weekday, hour)
        if mean is not None:
            grid[weekday, hour] = mean
    figure = _figure(8, 3.4)
    axes = figure.add_subplot()
    axes.set_title(translate(lang, N_("Best posting times (average interactions)")))
    palette = colormaps["YlOrRd"].with_extremes(bad="#e6e6e6")
    image = axes.imshow(np.ma.masked_invalid(grid), cmap=palette, aspect="auto")
    axes.set_yticks(range(7), labels.weekday_names(lang))
    axes.set_xticks(range(0, 24, 2), [f"{h:02d}" for h in range(0, 24, 2)])
    axes.set_xlabel(translate(lang, N_("Hour (local time); grey: no data")))
    colorbar = figure.colorbar(image, ax=axes)
    colorbar.set_label(translate(lang, N_("Interactions per publication")))
    return figure


def _nothing(axes: Axes, lang: str) -> None:
    message = translate(lang, N_("Nothing was published in this period"))
    axes.text(0.5, 0.5, message, ha="center", va="center", transform=axes.transAxes)
