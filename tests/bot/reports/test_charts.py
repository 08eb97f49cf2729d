"""Charts render as PNG with localized labels, and never draw n/a as zero."""

from __future__ import annotations

import io
import math
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from PIL import Image

from bot.reports import charts
from content.analytics.metrics import Counts, total_of
from content.analytics.periods import Period
from content.analytics.queries import Heatmap, Link, SeriesPoint, TopPost
from content.domain.states import Platform

KNOWN = total_of([Counts(reactions=10, comments=2)])
UNKNOWN = total_of([Counts(views=100)])  # a publication, but no interaction was reported
PERIOD = Period(datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC))
UTC_ZONE = ZoneInfo("UTC")


def png_size(data: bytes) -> tuple[int, int]:
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    with Image.open(io.BytesIO(data)) as image:
        assert image.format == "PNG"
        return image.size


def test_interactions_over_time_breaks_the_line_where_na() -> None:
    points = [
        SeriesPoint("news", date(2026, 11, 1), KNOWN),
        SeriesPoint("news", date(2026, 11, 2), UNKNOWN),
        SeriesPoint("news", date(2026, 11, 3), KNOWN),
        SeriesPoint("page", date(2026, 11, 2), KNOWN),
    ]
    figure = charts.interactions_over_time(points, "ru", PERIOD, UTC_ZONE)
    axes = figure.axes[0]
    assert axes.get_title() == "Взаимодействия по дням и каналам"
    news = next(line for line in axes.get_lines() if line.get_label().startswith("news"))
    values = list(news.get_ydata())  # type: ignore[arg-type]
    assert values[0] == 12
    assert math.isnan(values[1])
    assert values[2] == 12
    assert news.get_label() == "news (н/д: 1)"
    width, height = png_size(charts.to_png(figure))
    assert width > 600
    assert height > 300


def test_top_posts_leave_out_the_bar_of_an_na_post() -> None:
    top = [
        TopPost(1, "Вечер поэзии 📚", KNOWN, [Link("news", Platform.TELEGRAM, "https://t.me/x/1")]),
        TopPost(2, "Knygų mugė", UNKNOWN, []),
    ]
    figure = charts.top_posts_chart(top, "lt")
    axes = figure.axes[0]
    assert len(axes.patches) == 1  # one bar: the n/a post has none, not a zero-length one
    assert sorted(t.get_text() for t in axes.texts) == ["12", "n/d"]
    assert [t.get_text() for t in axes.get_yticklabels()] == ["1. Вечер поэзии", "2. Knygų mugė"]
    png_size(charts.to_png(figure))


def test_heatmap_leaves_unknown_cells_empty() -> None:
    heatmap = Heatmap(PERIOD, {(0, 10): KNOWN, (4, 18): UNKNOWN})
    figure = charts.heatmap_chart(heatmap, "kk")
    image = figure.axes[0].get_images()[0]
    grid = image.get_array()
    assert grid is not None
    assert grid[0, 10] == 12
    assert bool(grid.mask[4, 18])  # type: ignore[union-attr]
    assert bool(grid.mask[2, 3])  # type: ignore[union-attr]
    assert [t.get_text() for t in figure.axes[0].get_yticklabels()][0] == "дс"
    png_size(charts.to_png(figure))


def test_empty_charts_say_nothing_was_published() -> None:
    for figure, said in (
        (charts.interactions_over_time([], "en", PERIOD, UTC_ZONE), "Nothing was published"),
        (charts.top_posts_chart([], "en"), "No posts were published"),
    ):
        assert figure.axes[0].texts[0].get_text().startswith(said)
        png_size(charts.to_png(figure))
