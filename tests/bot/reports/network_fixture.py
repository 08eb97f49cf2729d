"""A network report of 300 libraries, made up without a database: long Kazakh and Lithuanian
names, three levels, to see how the files hold up at a region's size."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from content.analytics.metrics import Total, Totals
from content.analytics.network import LibraryRow, NetworkPost, NetworkReport
from content.analytics.periods import month_period
from content.analytics.queries import Link, TopPost
from content.domain.states import Platform

TZ = ZoneInfo("Asia/Almaty")
HEAD = "Қарағанды облыстық әмбебап ғылыми кітапханасы"


def library_name(number: int) -> str:
    if number % 3 == 0:
        return (
            f"Kauno rajono savivaldybės viešosios bibliotekos Vilkijos miesto filialas nr. {number}"
        )
    if number % 3 == 1:
        return (
            f"Ақтоғай ауданы орталықтандырылған кітапхана жүйесінің ауылдық кітапханасы №{number}"
        )
    return f"Village library {number}"


def _totals(rng: random.Random, publications: int) -> Totals:
    values = {
        m: Total(rng.randint(0, 900), publications)
        for m in ("reactions", "comments", "shares", "views", "interactions", "reach")
    }
    return Totals(publications=publications, values=values)


def big_network(libraries: int = 300, seed: int = 1) -> NetworkReport:
    rng = random.Random(seed)
    rows = [LibraryRow(1, HEAD, None, 0, 20, 3, _totals(rng, 40), 18, 2, _totals(rng, 36))]
    for number in range(2, libraries + 1):
        rows.append(
            LibraryRow(
                number,
                library_name(number),
                HEAD,
                1 + (number % 5 == 0),
                rng.randint(0, 25),
                rng.randint(0, 4),
                _totals(rng, rng.randint(0, 60)),
                rng.randint(0, 25),
                rng.randint(0, 4),
                _totals(rng, rng.randint(0, 60)),
            )
        )
    links = [
        Link("news", Platform.TELEGRAM, "https://t.me/news/1"),
        Link("page", Platform.FACEBOOK, None),
    ]
    top = [
        NetworkPost(
            rows[i].name,
            TopPost(
                i, f"Қазақ әдебиеті күні: кездесу және кітап көрмесі #{i}", _totals(rng, 3), links
            ),
        )
        for i in range(1, 11)
    ]
    month = date(2026, 11, 1)
    return NetworkReport(
        HEAD,
        month,
        TZ,
        datetime(2026, 12, 1, 5, tzinfo=UTC),
        month_period(month, TZ),
        month_period(date(2026, 10, 1), TZ),
        rows,
        top,
    )
