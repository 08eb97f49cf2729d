"""Each query against a direct sum over the raw snapshots, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta

from sqlalchemy import select

from content.analytics import queries
from content.analytics.latest import refresh_latest
from content.analytics.metrics import changes
from content.analytics.queries import Bucket
from content.domain.states import PublicationKind
from content.storage.models import Publication
from tests.content.analytics.conftest import (
    NOVEMBER,
    OCTOBER,
    TZ,
    Seeded,
    as_reference,
    raw,
    reference,
)


def test_month_totals_equal_sums_over_the_latest_snapshots(seeded: Seeded) -> None:
    with seeded.sessions() as session:
        rows = raw(session, NOVEMBER)
        expected = reference(rows)
        found = queries.totals(session, NOVEMBER)
        assert as_reference(found) == expected
        # The seed has unknowns everywhere: no metric was known for every publication.
        assert all(found[m].known < found.publications for m in ("interactions", "reach", "saves"))
        assert found["interactions"].value
        assert found["saves"].value
        for channel in queries.channel_totals(session, NOVEMBER):
            mine = [r for r in rows if r.channel.name == channel.channel]
            assert as_reference(channel.totals) == reference(mine), channel.channel


def test_telegram_only_metrics_are_na_not_zero(seeded: Seeded) -> None:
    with seeded.sessions() as session:
        news = next(c for c in queries.channel_totals(session, NOVEMBER) if c.channel == "news")
        assert news.totals.publications > 0
        for metric in ("comments", "shares", "saves", "views", "reach"):
            assert news.totals[metric].value is None
            assert news.totals[metric].known == 0
        assert news.totals.rate is None


def test_change_against_the_previous_month(seeded: Seeded) -> None:
    with seeded.sessions() as session:
        current, previous = queries.totals(session, NOVEMBER), queries.totals(session, OCTOBER)
        assert as_reference(previous) == reference(raw(session, OCTOBER))
    found = changes(current, previous)
    now, before = current["interactions"].value, previous["interactions"].value
    assert now is not None
    assert before is not None
    assert found["interactions"].delta == now - before
    assert found["interactions"].ratio == (now - before) / before
    assert found["publications"].delta == current.publications - previous.publications
    assert NOVEMBER.previous().end == NOVEMBER.start


def test_per_channel_per_day_week_and_month(seeded: Seeded) -> None:
    with seeded.sessions() as session:
        rows = raw(session, OCTOBER.__class__(OCTOBER.start, NOVEMBER.end))
        span = OCTOBER.__class__(OCTOBER.start, NOVEMBER.end)
        for bucket in Bucket:
            expected_groups = defaultdict(list)
            for r in rows:
                assert r.publication.sent_at is not None
                day = r.publication.sent_at.astimezone(TZ).date()
                expected_groups[(r.channel.name, queries.bucket_start(day, bucket))].append(r)
            points = queries.channel_series(session, span, TZ, bucket)
            assert {(p.channel, p.start) for p in points} == set(expected_groups)
            for point in points:
                expected = reference(expected_groups[(point.channel, point.start)])
                assert as_reference(point.totals) == expected, (bucket, point.channel, point.start)
        months = {p.start for p in queries.channel_series(session, span, TZ, Bucket.MONTH)}
        assert months == {OCTOBER.start.astimezone(TZ).date(), NOVEMBER.start.astimezone(TZ).date()}


def test_top_posts_rank_posts_by_interactions_over_their_channels(seeded: Seeded) -> None:
    with seeded.sessions() as session:
        by_post = defaultdict(list)
        for r in raw(session, NOVEMBER):
            if r.publication.kind is PublicationKind.POST:
                by_post[r.publication.post_id].append(r)
        expected = sorted(
            by_post,
            key=lambda p: (
                reference(by_post[p])["interactions"][0] is None,
                -(reference(by_post[p])["interactions"][0] or 0),
                p,
            ),
        )
        top = queries.top_posts(session, NOVEMBER, limit=5)
        assert [t.post_id for t in top] == expected[:5]
        for item in top:
            assert as_reference(item.totals) == reference(by_post[item.post_id])
            assert sorted(link.channel for link in item.links) == sorted(
                r.channel.name for r in by_post[item.post_id]
            )
            assert all(link.url and link.url.startswith("https://") for link in item.links)
            assert "\n" not in item.title


def test_per_event_counts_announcement_and_reminders_together(seeded: Seeded) -> None:
    with seeded.sessions() as session:
        by_event = defaultdict(list)
        for r in raw(session, NOVEMBER):
            if r.publication.event_id is not None:
                by_event[r.publication.event_id].append(r)
        found = queries.event_totals(session, NOVEMBER)
        assert [e.event_id for e in found] == sorted(by_event)
        for item in found:
            assert as_reference(item.totals) == reference(by_event[item.event_id])
            kinds = {r.publication.kind for r in by_event[item.event_id]}
            assert kinds == {PublicationKind.ANNOUNCEMENT, PublicationKind.REMINDER}
            breakdown = queries.event_breakdown(session, item.event_id)
            assert breakdown is not None
            assert len(breakdown.publications) == 6
        assert queries.event_breakdown(session, 999_999) is None


def test_a_post_across_its_channels_and_single_publications(seeded: Seeded) -> None:
    with seeded.sessions() as session:
        rows = raw(session)
        post_id = next(r.publication.post_id for r in rows if r.publication.post_id)
        mine = [r for r in rows if r.publication.post_id == post_id]
        breakdown = queries.post_breakdown(session, post_id)
        assert breakdown is not None
        assert as_reference(breakdown.totals) == reference(mine)
        assert {p.publication_id for p in breakdown.publications} == {
            r.publication.id for r in mine
        }
        ids = [r.publication.id for r in rows]
        by_id = {r.publication.id: r for r in rows}
        for item in queries.latest_metrics(session, ids):
            expected = by_id[item.publication_id]
            for metric in ("interactions", "reactions", "reach", "saves"):
                assert item.counts.get(metric) == expected.value(metric)
            assert item.collected_at == (expected.latest.collected_at if expected.latest else None)


def test_best_posting_times_by_local_weekday_and_hour(seeded: Seeded) -> None:
    span = OCTOBER.__class__(OCTOBER.start, NOVEMBER.end)  # crosses a daylight-saving change
    with seeded.sessions() as session:
        cells = defaultdict(list)
        for r in raw(session, span):
            assert r.publication.sent_at is not None
            local = r.publication.sent_at.astimezone(TZ)
            cells[(local.weekday(), local.hour)].append(r)
        heatmap = queries.best_times(session, span, TZ)
    assert set(heatmap.cells) == set(cells)
    for key, found in heatmap.cells.items():
        expected = reference(cells[key])
        assert found.publications == expected["publications"], key
        total, known = expected["interactions"]
        assert (found["interactions"].value, found["interactions"].known) == (total, known)
        assert heatmap.mean(*key) == (total / known if known else None)
    best = heatmap.best(3)
    assert len(best) == 3
    assert best[0][2] >= best[1][2] >= best[2][2]
    assert heatmap.mean(6, 3) is None or (6, 3) in cells


def test_refresh_latest_rebuilds_the_copies_from_history(seeded: Seeded) -> None:
    with seeded.sessions.begin() as session:
        before = as_reference(queries.totals(session, NOVEMBER))
        for pub in session.scalars(select(Publication)):
            pub.latest_reactions, pub.latest_collected_at = 999, None
        session.flush()
        refresh_latest(session)
        assert as_reference(queries.totals(session, NOVEMBER)) == before
    with seeded.sessions.begin() as session:
        assert as_reference(queries.totals(session, NOVEMBER)) == before


def test_a_period_with_nothing_sent_is_all_na(seeded: Seeded) -> None:
    empty = NOVEMBER.__class__(
        NOVEMBER.end + timedelta(days=400), NOVEMBER.end + timedelta(days=430)
    )
    with seeded.sessions() as session:
        found = queries.totals(session, empty)
        assert found.publications == 0
        assert found.rate is None
        assert all(found[m].value is None for m in ("interactions", "reach"))
        assert queries.top_posts(session, empty) == []
        assert queries.channel_series(session, empty, TZ) == []
