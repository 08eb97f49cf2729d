"""The network report as CSV: one row per library, then the network's totals.

Column names are fixed identifiers (tools read them); an unknown count is n/a in the reader's
language, never 0; a change is n/a when the month before had nothing to compare with. UTF-8 with
a byte-order mark, so spreadsheet programs read Cyrillic and Lithuanian letters.
"""

from __future__ import annotations

import csv
import io

from content.analytics.labels import na
from content.analytics.metrics import Change, Totals
from content.analytics.network import NetworkReport
from content.i18n import N_, translate

NETWORK_METRICS = ("reactions", "comments", "shares", "views", "interactions")
COLUMNS = (
    "row",
    "organization_id",
    "library",
    "member_of",
    "posts",
    "posts_previous",
    "events",
    "events_previous",
    "publications",
    *NETWORK_METRICS,
    "interactions_previous",
    "interactions_change",
    "interactions_change_ratio",
)
NETWORK_TOTAL = N_("The whole network")


def _cells(
    posts: tuple[int, int], events: tuple[int, int], found: Totals, previous: Totals, lang: str
) -> list[object]:
    missing = na(lang)
    change = Change(found["interactions"].value, previous["interactions"].value)

    def shown(value: float | None, digits: int = 0) -> object:
        return missing if value is None else (round(value, digits) if digits else value)

    return [
        *posts,
        *events,
        found.publications,
        *(shown(found[metric].value) for metric in NETWORK_METRICS),
        shown(previous["interactions"].value),
        shown(change.delta),
        shown(change.ratio, 4),
    ]


def network_csv(report: NetworkReport, lang: str) -> bytes:
    """The report's libraries and totals as CSV."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    for row in report.libraries:
        writer.writerow(
            [
                "library",
                row.organization_id,
                row.name,
                row.parent or "",
                *_cells(
                    (row.posts, row.previous_posts),
                    (row.events, row.previous_events),
                    row.totals,
                    row.previous,
                    lang,
                ),
            ]
        )
    change = report.change
    writer.writerow(
        [
            "network",
            "",
            translate(lang, NETWORK_TOTAL),
            "",
            *_cells(
                (report.posts, int(change["posts"].previous or 0)),
                (report.events, int(change["events"].previous or 0)),
                report.totals,
                report.previous,
                lang,
            ),
        ]
    )
    return buffer.getvalue().encode("utf-8-sig")
