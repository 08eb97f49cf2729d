"""The raw export: every snapshot of the publications sent in a period, one row each.

Column names are fixed identifiers (tools read them); an unknown count is written as n/a in the
reader's language, never 0. UTF-8 with a byte-order mark, so spreadsheet programs read Cyrillic.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.analytics.labels import na
from content.analytics.metrics import STORED
from content.analytics.periods import Period
from content.storage.models import Channel, EngagementSnapshot, Publication

COLUMNS = (
    "snapshot_id",
    "publication_id",
    "channel",
    "platform",
    "kind",
    "post_id",
    "event_id",
    "sent_at",
    "remote_url",
    "collected_at",
    *STORED,
    "source",
)


def snapshots_csv(
    session: Session, period: Period, lang: str, orgs: Collection[int] | None = None
) -> bytes:
    """CSV of every snapshot of the publications sent in `period` (on these organisations'
    channels, if given), oldest first."""
    missing = na(lang)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    statement = (
        select(EngagementSnapshot, Publication, Channel.name, Channel.platform)
        .join(Publication, Publication.id == EngagementSnapshot.publication_id)
        .join(Channel, Channel.id == Publication.channel_id)
        .where(Publication.sent_at >= period.start, Publication.sent_at < period.end)
    )
    if orgs is not None:
        statement = statement.where(Channel.organization_id.in_(sorted(orgs)))
    rows = session.execute(
        statement.order_by(
            Publication.sent_at,
            Publication.id,
            EngagementSnapshot.collected_at,
            EngagementSnapshot.id,
        ).execution_options(yield_per=2000)
    )
    for snapshot, publication, channel, platform in rows:
        writer.writerow(
            [
                snapshot.id,
                publication.id,
                channel,
                platform.value,
                publication.kind.value,
                publication.post_id or "",
                publication.event_id or "",
                publication.sent_at.isoformat() if publication.sent_at else "",
                publication.remote_url or "",
                snapshot.collected_at.isoformat(),
                *(missing if (v := getattr(snapshot, m)) is None else v for m in STORED),
                snapshot.source,
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")
