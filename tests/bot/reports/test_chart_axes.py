"""Each chart's axes, read back from the Figure it built, for an empty period, one point and a
full month, in two languages and two libraries' zones: the x-axis is the period's local days,
counts are whole numbers from zero, and an empty chart says so instead of drawing axes."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from matplotlib.axes import Axes
from matplotlib.dates import date2num
from matplotlib.figure import Figure

from bot.reports import charts
from content.analytics.metrics import Counts, Totals, total_of
from content.analytics.periods import Period, local_midnight
from content.analytics.queries import Heatmap, SeriesPoint, TopPost

# Two libraries far apart: a UTC period's days are not their local days.
ALMATY, VILNIUS = ZoneInfo("Asia/Almaty"), ZoneInfo("Europe/Vilnius")
EMPTY_TEXT = {
    "ru": "За этот период ничего не опубликовано",
    "lt": "Per šį laikotarpį nieko nepaskelbta",
}
NO_POSTS = {
    "ru": "За этот период посты не публиковались",
    "lt": "Per šį laikotarpį įrašų nepaskelbta",
}
SHORT = {
    "ru": {
        date(2026, 11, 25): "25 нояб.",
        date(2026, 12, 1): "1 дек.",
        date(2026, 11, 1): "1 нояб.",
    },
    "lt": {
        date(2026, 11, 25): "25 lapkr.",
        date(2026, 12, 1): "1 gruod.",
        date(2026, 11, 1): "1 lapkr.",
    },
}


def found(interactions: int) -> Totals:
    return total_of([Counts(reactions=interactions, comments=0)])


@dataclass(frozen=True)
class Case:
    period: Period
    first: date
    last: date
    points: list[SeriesPoint]
    top: list[TopPost]
    heatmap: Heatmap


def week(tz: ZoneInfo) -> tuple[Period, date, date]:
    """The local week 25 November – 1 December 2026 in `tz`."""
    first, last = date(2026, 11, 25), date(2026, 12, 1)
    return Period(local_midnight(first, tz), local_midnight(date(2026, 12, 2), tz)), first, last


def empty(tz: ZoneInfo) -> Case:
    period, first, last = week(tz)
    return Case(period, first, last, [], [], Heatmap(period, {}))


def one_point(tz: ZoneInfo) -> Case:
    # A single publication, with no interaction yet: all the counts it has are zero.
    period, first, last = week(tz)
    zero = found(0)
    return Case(
        period,
        first,
        last,
        [SeriesPoint("library-news", date(2026, 11, 28), zero)],
        [TopPost(1, "Poetry evening", zero, [])],
        Heatmap(period, {(5, 18): zero}),
    )


def month(tz: ZoneInfo) -> Case:
    first, last = date(2026, 11, 1), date(2026, 11, 30)
    period = Period(local_midnight(first, tz), local_midnight(date(2026, 12, 1), tz))
    points = [
        SeriesPoint(channel, first + timedelta(days=d), found(d * 3 + shift))
        for channel, shift in (("library-news", 0), ("library-page", 5))
        for d in range(30)
    ]
    top = [TopPost(i, f"Post {i}", found(100 - i * 7), []) for i in range(1, 8)]
    cells = {(d, h): found(d + h) for d in range(7) for h in (10, 13, 17)}
    return Case(period, first, last, points, top, Heatmap(period, cells))


def drawn(figure: Figure) -> Axes:
    charts.to_png(figure)  # tick labels exist once the figure is drawn
    return figure.axes[0]


def whole(ticks: object) -> list[float]:
    values = [float(t) for t in ticks]  # type: ignore[attr-defined]
    assert all(v.is_integer() for v in values), values
    return values


def tick_texts(labels: object) -> list[str]:
    return [t.get_text() for t in labels]  # type: ignore[attr-defined]


def assert_says_empty(axes: Axes, said: str) -> None:
    assert not axes.axison  # no empty frame, ticks or axis
    assert axes.texts[0].get_text().startswith(said)
    assert axes.get_lines() == []
    assert axes.get_images() == []


def assert_counts_from_zero(axes: Axes, which: str, highest: int, lang: str) -> None:
    low, high = axes.get_ylim() if which == "y" else axes.get_xlim()
    assert low == 0
    assert high >= max(highest, 1)
    ticks = axes.get_yticks() if which == "y" else axes.get_xticks()
    shown = [t for t in whole(ticks) if low <= t <= high]
    assert len(shown) >= 2
    assert min(shown) == 0
    texts = tick_texts(axes.get_yticklabels() if which == "y" else axes.get_xticklabels())
    assert all(t.replace("\xa0", "").replace(" ", "").isdigit() for t in texts if t), texts
    assert "0" in texts


LANGS = ("ru", "lt")
ZONES = (ALMATY, VILNIUS)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("tz", ZONES, ids=str)
@pytest.mark.parametrize("make", [empty, one_point, month], ids=lambda f: f.__name__)
def test_daily_line_spans_the_local_days_asked_for(lang: str, tz: ZoneInfo, make: object) -> None:
    case: Case = make(tz)  # type: ignore[operator]
    axes = drawn(charts.interactions_over_time(case.points, lang, case.period, tz))
    assert axes.get_xlim() == (date2num(case.first) - 0.5, date2num(case.last) + 0.5)
    ticks = whole(axes.get_xticks())  # one tick per whole day, never between days
    assert ticks[0] == date2num(case.first)
    texts = tick_texts(axes.get_xticklabels())
    assert texts[0] == SHORT[lang][case.first]
    if case.last - case.first < timedelta(days=8):
        assert len(texts) == 7
        assert texts[-1] == SHORT[lang][case.last]
    else:
        assert [t[:2].strip() for t in texts] == ["1", "8", "15", "22", "29"]  # weekly
    if not case.points:
        assert_says_empty(axes, EMPTY_TEXT[lang])
        assert SHORT[lang][case.first] in axes.texts[0].get_text()
        return
    highest = max(p.totals["interactions"].value or 0 for p in case.points)
    assert_counts_from_zero(axes, "y", highest, lang)
    assert len(axes.get_lines()) == len({p.channel for p in case.points})


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("make", [empty, one_point, month], ids=lambda f: f.__name__)
def test_top_posts_bars_count_from_zero(lang: str, make: object) -> None:
    case: Case = make(VILNIUS)  # type: ignore[operator]
    axes = drawn(charts.top_posts_chart(case.top, lang))
    if not case.top:
        # Not "nothing was published": event announcements may have gone out.
        assert_says_empty(axes, NO_POSTS[lang])
        return
    highest = max(t.totals["interactions"].value or 0 for t in case.top)
    assert_counts_from_zero(axes, "x", highest, lang)
    assert len(axes.patches) == len(case.top)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("make", [empty, one_point, month], ids=lambda f: f.__name__)
def test_heatmap_scale_is_whole_counts_from_zero(lang: str, make: object) -> None:
    case: Case = make(ALMATY)  # type: ignore[operator]
    figure = charts.heatmap_chart(case.heatmap, lang)
    axes = drawn(figure)
    if not case.heatmap.cells:
        assert_says_empty(axes, EMPTY_TEXT[lang])
        assert len(figure.axes) == 1  # no colour bar
        return
    assert axes.get_xlim() == (-0.5, 23.5)
    assert axes.get_ylim() == (6.5, -0.5)
    low, high = axes.get_images()[0].get_clim()
    assert low == 0
    means = [case.heatmap.mean(*cell) for cell in case.heatmap.cells]
    assert high == max([m for m in means if m is not None] + [1])
    colorbar = figure.axes[1]
    shown = [t for t in whole(colorbar.get_yticks()) if low <= t <= high]
    assert len(shown) >= 2
    assert min(shown) == 0


@pytest.mark.parametrize("lang", LANGS)
def test_heatmap_without_known_interactions_says_so(lang: str) -> None:
    period, _first, _last = week(ALMATY)
    unknown = total_of([Counts(views=40)])
    figure = charts.heatmap_chart(Heatmap(period, {(2, 11): unknown}), lang)
    axes = drawn(figure)
    assert not axes.axison
    assert len(figure.axes) == 1
    said = {
        "ru": "За этот период взаимодействия не получены",
        "lt": "Per šį laikotarpį sąveikų duomenų negauta",
    }
    assert axes.texts[0].get_text() == said[lang]


def test_a_utc_day_is_not_a_local_day() -> None:
    # 24 November 20:00 UTC is already the 25th in Almaty, still the 24th in Vilnius.
    period = Period(datetime(2026, 11, 24, 20, tzinfo=UTC), datetime(2026, 11, 25, 20, tzinfo=UTC))
    almaty = drawn(charts.interactions_over_time([], "ru", period, ALMATY))
    vilnius = drawn(charts.interactions_over_time([], "ru", period, VILNIUS))
    assert tick_texts(almaty.get_xticklabels()) == ["25 нояб.", "26 нояб."]
    assert tick_texts(vilnius.get_xticklabels()) == ["24 нояб.", "25 нояб."]


@pytest.mark.parametrize("lang", ["en", "ru", "kk", "lt"])
def test_heatmap_colour_bar_label_fits_the_picture(lang: str) -> None:
    figure = charts.heatmap_chart(month(ALMATY).heatmap, lang)
    drawn(figure)
    label = figure.axes[1].yaxis.label.get_window_extent()
    picture = figure.bbox
    assert picture.y0 <= label.y0
    assert label.y1 <= picture.y1  # in Kazakh it ran off the top before it was wrapped
