"""Storing snapshots so each publication carries its latest counts (what every report reads).

The engine's collector calls `record_snapshot` instead of adding `EngagementSnapshot` rows
itself; `refresh_latest` rebuilds the copies from the history (after a bulk import, say).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import exists, or_, select, update
from sqlalchemy.orm import Session

from content.analytics.metrics import STORED
from content.models import EngagementSnapshot, Publication

LATEST = ["latest_collected_at", *(f"latest_{name}" for name in STORED)]


def record_snapshot(
    session: Session,
    publication: Publication,
    collected_at: datetime,
    *,
    source: str,
    reactions: int | None = None,
    comments: int | None = None,
    shares: int | None = None,
    views: int | None = None,
    reach: int | None = None,
    saves: int | None = None,
) -> EngagementSnapshot | None:
    """Add a snapshot and, unless a later one is already known, copy it onto the publication.

    Stores nothing and returns None when every count is None: the platform said nothing, and
    unknown is not zero.
    """
    counts = {
        "reactions": reactions,
        "comments": comments,
        "shares": shares,
        "views": views,
        "reach": reach,
        "saves": saves,
    }
    if all(value is None for value in counts.values()):
        return None
    snapshot = EngagementSnapshot(
        publication_id=publication.id, collected_at=collected_at, source=source, **counts
    )
    session.add(snapshot)
    # One conditional UPDATE, so a slower collector cannot put an older snapshot back on top.
    session.execute(
        update(Publication)
        .where(
            Publication.id == publication.id,
            or_(
                Publication.latest_collected_at.is_(None),
                Publication.latest_collected_at <= collected_at,
            ),
        )
        .values(
            latest_collected_at=collected_at,
            **{f"latest_{name}": value for name, value in counts.items()},
        ),
        execution_options={"synchronize_session": False},
    )
    # Whether the row changed is the database's call: read the copies afresh when next used.
    session.expire(publication, [*LATEST, "updated_at"])
    return snapshot


def refresh_latest(session: Session, publication_ids: Collection[int] | None = None) -> None:
    """Recompute the latest counts of these publications (or all) from their snapshots."""
    session.flush()

    def newest(column: str) -> object:
        return (
            select(getattr(EngagementSnapshot, column))
            .where(EngagementSnapshot.publication_id == Publication.id)
            .order_by(EngagementSnapshot.collected_at.desc(), EngagementSnapshot.id.desc())
            .limit(1)
            .scalar_subquery()
        )

    has_snapshots = exists().where(EngagementSnapshot.publication_id == Publication.id)
    statement = update(Publication).values(
        latest_collected_at=newest("collected_at"),
        **{f"latest_{name}": newest(name) for name in STORED},
    )
    if publication_ids is not None:
        statement = statement.where(Publication.id.in_(publication_ids))
    session.execute(
        statement.where(has_snapshots), execution_options={"synchronize_session": False}
    )
    copies = [
        Publication.latest_collected_at,
        *(getattr(Publication, f"latest_{n}") for n in STORED),
    ]
    empty = update(Publication).where(~has_snapshots, or_(*(c.is_not(None) for c in copies)))
    if publication_ids is not None:
        empty = empty.where(Publication.id.in_(publication_ids))
    session.execute(
        empty.values(latest_collected_at=None, **{f"latest_{name}": None for name in STORED}),
        execution_options={"synchronize_session": False},
    )
    session.expire_all()
