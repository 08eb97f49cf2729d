"""What /stats and `afisha stats` show: a period's summary as text and JSON-ready data.

The bot calls `stats_summary`, then `summary_text` for the message and
`bot.reports.files.stats_charts` for the PNGs it sends with it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from content.analytics import labels, queries
from content.analytics.metrics import METRICS, Change, Totals, changes
from content.analytics.periods import Period, ending_at
from content.i18n import gettext_for

DEFAULT_SPAN = timedelta(days=30)


@dataclass(frozen=True)
class StatsSummary:
    period: Period
    totals: Totals
    previous: Totals
    channels: list[queries.ChannelTotals]
    top: list[queries.TopPost]
    best: list[tuple[int, int, float]]
    # Whose channels it covers (None: every organisation's); the charts drawn with it read it.
    orgs: frozenset[int] | None = None

    @property
    def changes(self) -> dict[str, Change]:
        return changes(self.totals, self.previous)


def stats_summary(
    session: Session,
    now: datetime,
    tz: ZoneInfo,
    span: timedelta = DEFAULT_SPAN,
    top: int = 5,
    *,
    orgs: Collection[int] | None = None,
) -> StatsSummary:
    """Totals of the publications sent in the last `span`, against the `span` before it, on
    these organisations' channels (None: every organisation's, for an installation-wide view)."""
    period = ending_at(now, span)
    return StatsSummary(
        period=period,
        totals=queries.totals(session, period, orgs=orgs),
        previous=queries.totals(session, period.previous(), orgs=orgs),
        channels=queries.channel_totals(session, period, orgs=orgs),
        top=queries.top_posts(session, period, limit=top, orgs=orgs),
        best=queries.best_times(session, period, tz, orgs=orgs).best(3),
        orgs=None if orgs is None else frozenset(orgs),
    )


def without_reactions(found: Totals) -> int:
    """How many publications' interactions lack their reactions (hidden like counts)."""
    return found["interactions"].known - found["reactions"].known


def summary_text(summary: StatsSummary, lang: str, tz: ZoneInfo) -> str:
    """The summary as a chat message or terminal output, in `lang`."""
    _ = gettext_for(lang)
    first = labels.long_date(summary.period.start.astimezone(tz).date(), lang)
    last = labels.long_date((summary.period.end - timedelta(seconds=1)).astimezone(tz).date(), lang)
    found, change = summary.totals, summary.changes
    lines = [_("Engagement from {start} to {end}", start=first, end=last), ""]
    lines.append(
        f"{labels.metric_name('publications', lang)}: {found.publications} "
        f"({labels.signed(change['publications'], lang)})"
    )
    for metric in METRICS:
        known = found[metric].known
        line = (
            f"{labels.metric_name(metric, lang)}: {labels.total(found[metric], lang)}"
            f" ({labels.signed(change[metric], lang)})"
        )
        if 0 < known < found.publications:
            line += " — " + _("known for {known} of {count}", known=known, count=found.publications)
        if metric == "interactions" and (lacking := without_reactions(found)):
            # A hidden like count: the sum holds the other parts only, and says so.
            line += " — " + _("without reactions for {count}", count=lacking)
        lines.append(line)
    lines.append(
        f"{labels.metric_name('rate', lang)}: {labels.percent(found.rate, lang)}"
        f" ({labels.signed(change['rate'], lang, rate=True)})"
    )
    lines += ["", _("By channel:")]
    for channel in summary.channels:
        lines.append(
            f"  {channel.channel} ({labels.PLATFORM_NAMES[channel.platform]}): "
            + _("{count} sent", count=channel.totals.publications)
            + f", {labels.metric_name('interactions', lang).lower()} "
            f"{labels.total(channel.totals['interactions'], lang)}, "
            f"{labels.metric_name('reach', lang).lower()} "
            f"{labels.total(channel.totals['reach'], lang)}"
        )
        if any(labels.PUBLIC_SOURCE in source for source in channel.sources):
            # Said where public counts stand in for what the platform's API refused.
            named = ", ".join(
                f"{labels.source_name(source, lang)}: {count}"
                for source, count in channel.sources.items()
            )
            lines.append("    " + _("figures from {sources}", sources=named))
    if summary.top:
        lines += ["", _("Top posts:")]
        for rank, post in enumerate(summary.top, 1):
            lines.append(
                f"  {rank}. {post.title} — {labels.total(post.totals['interactions'], lang)}"
            )
    if summary.best:
        days = labels.weekday_names(lang)
        slots = ", ".join(f"{days[d]} {h:02d}:00" for d, h, _mean in summary.best)
        lines += ["", _("Best posting times: {slots}", slots=slots)]
    return "\n".join(lines)


def summary_json(summary: StatsSummary) -> dict[str, Any]:
    """The summary as plain data: every n/a is null, with how many publications were known."""

    def totals_json(found: Totals) -> dict[str, Any]:
        return {
            "publications": found.publications,
            **{m: {"value": found[m].value, "known": found[m].known} for m in METRICS},
            "interactions_without_reactions": without_reactions(found),
            "engagement_rate": found.rate,
        }

    return {
        "period": {
            "start": summary.period.start.isoformat(),
            "end": summary.period.end.isoformat(),
        },
        "totals": totals_json(summary.totals),
        "previous": totals_json(summary.previous),
        "change": {
            name: {"delta": c.delta, "ratio": c.ratio} for name, c in summary.changes.items()
        },
        "channels": [
            {
                "channel": c.channel,
                "platform": c.platform.value,
                **totals_json(c.totals),
                "sources": c.sources,
            }
            for c in summary.channels
        ],
        "top_posts": [
            {
                "post_id": t.post_id,
                "title": t.title,
                **totals_json(t.totals),
                "links": [{"channel": link.channel, "url": link.url} for link in t.links],
            }
            for t in summary.top
        ],
        "best_times": [
            {"weekday": d, "hour": h, "average_interactions": m} for d, h, m in summary.best
        ],
    }
