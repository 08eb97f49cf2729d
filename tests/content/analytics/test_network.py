"""Reports per library and for the network: each library's figures are its own channels' only,
and the network report's rows, totals, changes and top posts add up to what was seeded."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from content.analytics.export_csv import snapshots_csv
from content.analytics.metrics import Totals
from content.analytics.network import build_network_report
from content.analytics.network_csv import COLUMNS, network_csv
from content.analytics.periods import month_period
from content.analytics.report import build_monthly_report
from content.analytics.stats import stats_summary
from content.errors import InvalidInput
from content.i18n import translate
from content.storage.models import Channel
from tests.content.analytics.network_seed import (
    FIGURES,
    HEAD,
    KK,
    LIBRARIES,
    LT,
    NOVEMBER,
    OCTOBER,
    TZ,
    VILLAGE,
    Network,
    network,
)

__all__ = ["network"]
NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def figures(totals: Totals) -> dict[str, int]:
    found = {"publications": totals.publications}
    found |= {m: totals[m].value or 0 for m in FIGURES if m != "publications"}
    return found


def seeded(net: Network, name: str, month: date) -> dict[str, int]:
    counter = net.expected.get((name, month), Counter())
    return {m: counter[m] for m in FIGURES}


@pytest.mark.parametrize("name", [HEAD, LT, KK, VILLAGE])
def test_each_library_s_monthly_report_shows_only_its_own_channels(
    network: Network, name: str
) -> None:
    with network.sessions() as session:
        org = network.org(session, name)
        report = build_monthly_report(session, org, NOVEMBER, NOW)
        own = {c.name for c in org_channels(session, org.id)}
    assert report.organization == name
    assert report.tz.key == LIBRARIES[name][1]  # the library's own zone
    assert {row.channel.channel for row in report.channels} == own
    assert figures(report.totals) == seeded(network, name, NOVEMBER)
    assert figures(report.previous) == seeded(network, name, OCTOBER)
    assert all(post.title in network.titles[name] for post in report.top)
    assert len(report.top) == LIBRARIES[name][3]


def org_channels(session: Session, org_id: int) -> list[Channel]:
    return list(session.scalars(select(Channel).where(Channel.organization_id == org_id)))


def test_stats_and_the_raw_export_of_one_library_leave_the_others_out(network: Network) -> None:
    with network.sessions() as session:
        lt, kk = network.org(session, LT), network.org(session, KK)
        lt_stats = stats_summary(session, NOW, TZ, orgs={lt.id})
        everyone = stats_summary(session, NOW, TZ)
        kk_rows = list(
            csv.DictReader(
                io.StringIO(
                    snapshots_csv(session, month_period(NOVEMBER, TZ), "kk", {kk.id}).decode(
                        "utf-8-sig"
                    )
                )
            )
        )
        kk_channels = {c.name for c in org_channels(session, kk.id)}
    assert {c.channel for c in lt_stats.channels} == {
        "telegram-1",
        "facebook-1",
    }
    assert lt_stats.totals.publications < everyone.totals.publications
    assert kk_rows
    assert {row["channel"] for row in kk_rows} == kk_channels
    # Two snapshots per publication, every one of the library's November publications.
    assert len(kk_rows) == 2 * seeded(network, KK, NOVEMBER)["publications"]


def test_the_network_report_has_a_row_per_library_in_tree_order(network: Network) -> None:
    with network.sessions() as session:
        head = network.org(session, HEAD)
        report = build_network_report(session, head, NOVEMBER, NOW, top=20)
    # The head first; each member followed by its own; siblings by name (Latin before Cyrillic).
    assert [(row.name, row.depth, row.parent) for row in report.libraries] == [
        (HEAD, 0, None),
        (LT, 1, HEAD),
        (KK, 1, HEAD),
        (VILLAGE, 2, KK),
    ]
    by_name = {row.name: row for row in report.libraries}
    for name in LIBRARIES:
        row = by_name[name]
        assert figures(row.totals) == seeded(network, name, NOVEMBER), name
        assert figures(row.previous) == seeded(network, name, OCTOBER), name
        assert row.posts == seeded_posts(network, name, NOVEMBER)
        assert row.previous_posts == seeded_posts(network, name, OCTOBER)
        assert row.events == LIBRARIES[name][5]  # cancelled events are not counted
    total = {m: sum(seeded(network, n, NOVEMBER)[m] for n in LIBRARIES) for m in FIGURES}
    assert figures(report.totals) == total
    assert report.posts == sum(LIBRARIES[n][3] for n in LIBRARIES)
    change = by_name[KK].change["interactions"]
    assert change.delta == (
        seeded(network, KK, NOVEMBER)["interactions"] - seeded(network, KK, OCTOBER)["interactions"]
    )
    assert by_name[VILLAGE].change["interactions"].ratio is None  # nothing in October
    # The top posts span the network, each with its library.
    assert {item.library for item in report.top} == set(LIBRARIES)
    for item in report.top:
        assert item.post.title in network.titles[item.library]
    ranked = [item.post.totals["interactions"].value or 0 for item in report.top]
    assert ranked == sorted(ranked, reverse=True)


def seeded_posts(network: Network, name: str, month: date) -> int:
    return network.expected.get((name, month), Counter())["posts"]


def test_a_district_library_s_network_is_its_own_members(network: Network) -> None:
    with network.sessions() as session:
        report = build_network_report(session, network.org(session, KK), NOVEMBER, NOW)
    assert [row.name for row in report.libraries] == [KK, VILLAGE]
    assert report.head == KK
    assert report.tz.key == "Asia/Almaty"


@pytest.mark.parametrize("language", ["en", "ru", "kk", "lt"])
def test_a_library_without_members_has_no_network_report(network: Network, language: str) -> None:
    with network.sessions() as session, pytest.raises(InvalidInput) as refused:
        build_network_report(session, network.org(session, LT), NOVEMBER, NOW)
    message = translate(language, refused.value.template, **refused.value.params)
    assert LT in message
    if language != "en":
        assert "no member libraries" not in message  # translated


def test_the_network_csv_has_a_row_per_library_and_the_total(network: Network) -> None:
    with network.sessions() as session:
        report = build_network_report(session, network.org(session, HEAD), NOVEMBER, NOW)
    rows = list(csv.DictReader(io.StringIO(network_csv(report, "lt").decode("utf-8-sig"))))
    assert tuple(rows[0]) == COLUMNS
    assert [r["library"] for r in rows[:-1]] == [row.name for row in report.libraries]
    assert rows[-1]["row"] == "network"
    assert rows[-1]["library"] == "Visas tinklas"
    for row in rows[:-1]:
        expected = seeded(network, row["library"], NOVEMBER)
        assert int(row["publications"]) == expected["publications"]
        assert int(row["reactions"]) == expected["reactions"]
        assert int(row["interactions"]) == expected["interactions"]
    assert int(rows[-1]["interactions"]) == sum(
        seeded(network, n, NOVEMBER)["interactions"] for n in LIBRARIES
    )
    village = next(r for r in rows if r["library"] == VILLAGE)
    assert village["interactions_change_ratio"] == "n/d"  # nothing to compare with
    assert village["member_of"] == KK
