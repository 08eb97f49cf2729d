"""The monthly management report: its data, gathered once.

The file in a chosen format is made from it by `bot.reports.files.monthly_report_file`, which
the CLI (`afisha report`) and the bot's /report and monthly mailing call.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from content.analytics import queries
from content.analytics.events import EventsSection, events_section
from content.analytics.metrics import Change, Totals, changes
from content.analytics.periods import (
    Period,
    elapsed,
    local_days,
    month_period,
    previous_month,
)
from content.domain.timeparse import zone
from content.storage.models import Organization


class ReportFormat(StrEnum):
    PDF = "pdf"
    XLSX = "xlsx"
    CSV = "csv"


@dataclass(frozen=True)
class ChannelRow:
    channel: queries.ChannelTotals
    previous: Totals

    @property
    def change(self) -> dict[str, Change]:
        return changes(self.channel.totals, self.previous)


@dataclass(frozen=True)
class MonthlyReport:
    organization: str
    month: date
    tz: ZoneInfo
    generated_at: datetime
    period: Period
    previous_period: Period
    totals: Totals
    previous: Totals
    channels: list[ChannelRow]
    top: list[queries.TopPost]
    events: list[queries.EventTotals]  # the engagement of event publications sent in the month
    month_events: EventsSection  # the events held in the month, moved, cancelled
    daily: list[queries.SeriesPoint]
    heatmap: queries.Heatmap

    @property
    def changes(self) -> dict[str, Change]:
        return changes(self.totals, self.previous)


def build_monthly_report(
    session: Session, org: Organization, month: date, now: datetime, top: int = 10
) -> MonthlyReport:
    """Everything the report shows about `org`'s own channels in the month that starts on
    `month`, local to `org`'s time zone (a network head's members are in its network report)."""
    tz = zone(org.timezone)
    orgs = {org.id}
    period = month_period(month, tz)
    before = month_period(previous_month(month), tz)
    current = {c.channel_id: c for c in queries.channel_totals(session, period, orgs)}
    earlier = {c.channel_id: c.totals for c in queries.channel_totals(session, before, orgs)}
    return MonthlyReport(
        organization=org.name,
        month=month,
        tz=tz,
        generated_at=now,
        period=period,
        previous_period=before,
        totals=queries.totals(session, period, orgs=orgs),
        previous=queries.totals(session, before, orgs=orgs),
        channels=[ChannelRow(c, earlier.get(i, Totals())) for i, c in current.items()],
        top=queries.top_posts(session, period, limit=top, orgs=orgs),
        events=queries.event_totals(session, period, orgs),
        month_events=events_section(session, org.id, period, now),
        daily=queries.channel_series(session, period, tz, orgs=orgs),
        # Best times of this month only, and only of the days already past.
        heatmap=queries.best_times(session, elapsed(period, now), tz, orgs),
    )


def report_filename(month: date, lang: str, fmt: ReportFormat) -> str:
    """`afisha-report-2026-11-ru.pdf`."""
    return f"afisha-report-{month:%Y-%m}-{lang}.{fmt.value}"


def events_filename(month: date, lang: str) -> str:
    """`afisha-events-2026-11-ru.csv`: the month's events, beside the raw CSV export."""
    return f"afisha-events-{month:%Y-%m}-{lang}.csv"


def last_day(period: Period, tz: ZoneInfo) -> date:
    return local_days(period, tz)[1]
