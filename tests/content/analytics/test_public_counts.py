"""Counts read from public pages in what people see: a hidden like count is n/a (never 0), the
totals say for how many publications a figure was known, and the source of the figures is kept
and named. Two libraries: the regional one's Instagram refused insights, the district's
Facebook Page gave them."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from afisha.views import publication_json
from bot.reports.xlsx import render_xlsx
from content.analytics.export_csv import snapshots_csv
from content.analytics.latest import record_snapshot
from content.analytics.periods import ending_at
from content.analytics.report import build_monthly_report
from content.analytics.stats import stats_summary, summary_json, summary_text
from content.domain.states import Platform, PublicationKind, PublicationState
from content.storage.db import make_engine, session_factory, upgrade
from content.storage.models import Organization, Publication
from content.storage.registry import add_channel
from content.storage.secrets import CredentialCipher, generate_key

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
TZ = ZoneInfo("Europe/Vilnius")
# (channel, source, reactions, comments): the first post hides its likes from visitors.
FIGURES = [
    ("ig-regional", "instaloader_public", None, 3),
    ("ig-regional", "graph", 10, 2),
    ("fb-district", "graph_insights", 5, 1),
]


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    database = make_engine(database_url)
    upgrade(database)
    made = session_factory(database)
    cipher = CredentialCipher(generate_key())
    with made.begin() as session:
        regional = Organization(name="Regional Library", timezone="Europe/Vilnius", language="lt")
        session.add(regional)
        session.flush()
        district = Organization(
            name="District Library", timezone="Europe/Vilnius", language="ru", parent_id=regional.id
        )
        session.add(district)
        session.flush()
        channels = {
            "ig-regional": add_channel(
                session,
                regional,
                cipher,
                name="ig-regional",
                platform=Platform.INSTAGRAM,
                external_id="17841400000000001",
                token="t0ken-for-tests",
                language=None,
                actor="test",
            ),
            "fb-district": add_channel(
                session,
                district,
                cipher,
                name="fb-district",
                platform=Platform.FACEBOOK,
                external_id="100200300400501",
                token="t0ken-for-tests",
                language=None,
                actor="test",
            ),
        }
        for index, (name, source, reactions, comments) in enumerate(FIGURES):
            sent = NOW - timedelta(days=3 + index)
            publication = Publication(
                kind=PublicationKind.POST,
                channel_id=channels[name].id,
                due_at=sent,
                state=PublicationState.SENT,
                remote_id=f"media-{index}",
                sent_at=sent,
            )
            session.add(publication)
            session.flush()
            record_snapshot(
                session,
                publication,
                sent + timedelta(hours=6),
                source=source,
                reactions=reactions,
                comments=comments,
            )
    yield made
    database.dispose()


@pytest.mark.parametrize("lang", ["en", "ru", "kk", "lt"])
def test_stats_say_n_a_for_hidden_likes_and_name_the_public_source(
    sessions: sessionmaker[Session], lang: str
) -> None:
    with sessions() as session:
        summary = stats_summary(session, NOW, TZ)
        text = summary_text(summary, lang, TZ)
        data = summary_json(summary)

    assert data["totals"]["reactions"] == {"value": 15, "known": 2}  # not 15 of 3
    assert data["totals"]["comments"] == {"value": 6, "known": 3}
    by_channel = {c["channel"]: c for c in data["channels"]}
    assert by_channel["ig-regional"]["sources"] == {"graph": 1, "instaloader_public": 1}
    assert by_channel["fb-district"]["sources"] == {"graph_insights": 1}
    known = {
        "en": "known for 2 of 3",
        "ru": "известно для 2 из 3",
        "kk": "3 жарияланымның 2",
        "lt": "žinoma 2 iš 3",
    }
    reactions_line = next(
        line
        for line in text.splitlines()
        if line.startswith(
            {"en": "Reactions", "ru": "Реакции", "kk": "Реакциялар", "lt": "Reakcijos"}[lang]
        )
    )
    assert known[lang] in reactions_line
    public = {
        "en": "public Instagram page: 1",
        "ru": "публичная страница Instagram: 1",
        "kk": "Instagram-ның ашық беті: 1",
        "lt": "viešas Instagram puslapis: 1",
    }
    sources_lines = [line for line in text.splitlines() if public[lang] in line]
    assert len(sources_lines) == 1  # the regional Instagram's; the district's Page says nothing


def test_exports_write_n_a_for_hidden_likes_and_keep_the_source(
    sessions: sessionmaker[Session],
) -> None:
    period = ending_at(NOW, timedelta(days=30))
    with sessions() as session:
        rows = list(
            csv.DictReader(io.StringIO(snapshots_csv(session, period, "ru").decode("utf-8-sig")))
        )
        hidden = next(p for p in session.query(Publication) if p.remote_id == "media-0")
        shown = publication_json(hidden, TZ)
        org = session.get_one(Organization, hidden.channel.organization_id)
        report = build_monthly_report(session, org, NOW.date().replace(day=1), NOW)
    by_remote = {row["remote_url"] or row["publication_id"]: row for row in rows}
    assert len(by_remote) == 3
    sources = sorted(row["source"] for row in rows)
    assert sources == ["graph", "graph_insights", "instaloader_public"]
    hidden_row = next(row for row in rows if row["source"] == "instaloader_public")
    assert (hidden_row["reactions"], hidden_row["comments"]) == ("н/д", "3")
    assert shown["engagement"]["source"] == "instaloader_public"
    assert shown["engagement"]["reactions"] is None
    assert shown["engagement"]["comments"] == 3

    book = load_workbook(io.BytesIO(render_xlsx(report, "lt")))
    summary = book.worksheets[0]
    reactions = next(
        row for row in summary.iter_rows(values_only=True) if row and row[0] == "Reakcijos"
    )
    # The regional library's own channel only (the district's Page is in its own report): the
    # total, and for how many of its publications it is known (the hidden count is not).
    assert (reactions[1], reactions[-1]) == (10, 1)
