"""What reports and charts say, in the reader's language: metric names, numbers and n/a."""

from __future__ import annotations

from datetime import date

from babel.dates import format_date, get_day_names
from babel.numbers import format_decimal, format_percent

from content.analytics.metrics import Change, Total
from content.domain.states import Platform
from content.i18n import N_, translate

NA = N_("n/a")
METRIC_NAMES = {
    "interactions": N_("Interactions"),
    "reactions": N_("Reactions"),
    "comments": N_("Comments"),
    "shares": N_("Shares"),
    "saves": N_("Saves"),
    "views": N_("Views"),
    "reach": N_("Reach"),
    "publications": N_("Publications"),
    "rate": N_("Engagement rate"),
}
# Where figures came from (a snapshot's source); a source not named here is shown as stored.
SOURCE_NAMES = {
    "graph": N_("Graph API"),
    "graph_insights": N_("Graph API with insights"),
    "instaloader_public": N_("public Instagram page"),
    "graph+instaloader_public": N_("Graph API and public Instagram page"),
}
PUBLIC_SOURCE = "instaloader_public"
PLATFORM_NAMES = {
    Platform.TELEGRAM: "Telegram",
    Platform.FACEBOOK: "Facebook",
    Platform.INSTAGRAM: "Instagram",
}


def na(lang: str) -> str:
    return translate(lang, NA)


def source_name(source: str, lang: str) -> str:
    known = SOURCE_NAMES.get(source)
    return translate(lang, known) if known else source


def metric_name(metric: str, lang: str) -> str:
    return translate(lang, METRIC_NAMES[metric])


def number(value: float | None, lang: str) -> str:
    """A count as the reader writes it (`12 345`), or n/a."""
    if value is None:
        return na(lang)
    pattern = "#,##0" if float(value).is_integer() else "#,##0.0"
    return format_decimal(value, format=pattern, locale=lang)


def percent(value: float | None, lang: str) -> str:
    return na(lang) if value is None else format_percent(value, "#,##0.0%", locale=lang)


def total(found: Total, lang: str) -> str:
    return number(found.value, lang)


def signed(change: Change, lang: str, *, rate: bool = False) -> str:
    """`+12 (+5.0%)`, or n/a when either side is; a rate changes in percentage points."""
    delta = change.delta
    if delta is None:
        return na(lang)
    sign = "+" if delta > 0 else ("−" if delta < 0 else "±")
    if rate:
        points = format_decimal(abs(delta) * 100, format="#,##0.0", locale=lang)
        unit = translate(lang, N_("pp"))  # percentage points
        return f"{sign}{points} {unit}"
    shown = f"{sign}{number(abs(delta), lang)}"
    ratio = change.ratio
    return f"{shown} ({sign}{percent(abs(ratio), lang)})" if ratio is not None else shown


def weekday_names(lang: str) -> list[str]:
    """Abbreviated weekday names, Monday first."""
    names = get_day_names("abbreviated", locale=lang)
    return [str(names[day]) for day in range(7)]


def short_date(day: date, lang: str) -> str:
    return format_date(day, "d MMM", locale=lang)


def long_date(day: date, lang: str) -> str:
    return format_date(day, "long", locale=lang)


def month_title(first: date, lang: str) -> str:
    """`November 2026`, `ноябрь 2026`."""
    return format_date(first, "LLLL yyyy", locale=lang).capitalize()
