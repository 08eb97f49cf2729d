"""The monthly report's data and the /stats summary: every total is a direct sum over the
snapshots, and n/a reads as n/a (the files themselves: tests/bot/reports/test_files.py)."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta

from bot.reports.files import stats_charts
from content.analytics.labels import number
from content.analytics.report import ReportFormat, build_monthly_report, report_filename
from content.analytics.stats import stats_summary, summary_json, summary_text
from tests.content.analytics.conftest import (
    MONTH,
    NOVEMBER,
    STORED,
    TZ,
    Seeded,
    central,
    raw,
    reference,
)

NOW = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)


def test_report_file_names() -> None:
    assert report_filename(MONTH, "ru", ReportFormat.PDF) == "afisha-report-2026-11-ru.pdf"


def test_report_data_per_channel_and_event(seeded: Seeded) -> None:
    with seeded.sessions() as session:
        report = build_monthly_report(session, central(session), MONTH, NOW)
        rows = raw(session, NOVEMBER)
    assert report.organization == "Central Library"
    assert [c.channel.channel for c in report.channels] == ["insta", "news", "page"]
    by_event = defaultdict(list)
    for r in rows:
        if r.publication.event_id:
            by_event[r.publication.event_id].append(r)
    assert {e.event_id: e.totals.publications for e in report.events} == {
        k: len(v) for k, v in by_event.items()
    }
    # Best times of the report's month only (November is past at NOW, so all of it).
    assert report.heatmap.period == NOVEMBER


def test_stats_summary_as_text_and_json(seeded: Seeded) -> None:
    with seeded.sessions() as session:
        summary = stats_summary(session, NOW, TZ, timedelta(days=30))
        period = summary.period
        expected = reference(raw(session, period))
        previous = reference(raw(session, period.previous()))
        pictures = stats_charts(session, summary, TZ, "ru")
    assert [name for name, _png in pictures] == [
        "interactions.png",
        "top-posts.png",
        "best-times.png",
    ]
    assert all(png.startswith(b"\x89PNG") for _name, png in pictures)
    data = summary_json(summary)
    assert data["totals"]["publications"] == expected["publications"]
    for metric in ("interactions", *STORED):
        assert (data["totals"][metric]["value"], data["totals"][metric]["known"]) == expected[
            metric
        ]
        assert data["previous"][metric]["value"] == previous[metric][0]
    news = next(c for c in data["channels"] if c["channel"] == "news")
    assert news["reach"] == {"value": None, "known": 0}
    text = summary_text(summary, "ru", TZ)
    assert f"Взаимодействия: {number(expected['interactions'][0], 'ru')}" in text
    assert "news (Telegram): отправлено:" in text
    assert "охват н/д" in text
    assert "Лучшее время для публикаций:" in text
