"""Storing snapshots so each publication carries its latest counts (what every report reads).

The engine's collector calls `record_snapshot` instead of adding `EngagementSnapshot` rows
itself; `refresh_latest` rebuilds the copies from the history (after a bulk import, say).
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, or_, select, update
from sqlalchemy.orm import Session

from content.analytics.metrics import INTERACTION_PARTS, STORED, interactions
from content.storage.models import EngagementSnapshot, Publication

COPIES = ("collected_at", *STORED, "interactions")


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
            latest_interactions=interactions(reactions, comments, shares, saves),
            latest_source=source,
            **{f"latest_{name}": value for name, value in counts.items()},
        ),
        execution_options={"synchronize_session": False},
    )
    # Whether the row changed is the database's call: read the copies afresh when next used.
    session.expire(
        publication, [*(f"latest_{name}" for name in COPIES), "latest_source", "updated_at"]
    )
    return snapshot


def interactions_sql() -> ColumnElement[Any]:
    """`metrics.interactions` over a publication's copied counts, in SQL."""
    parts = [getattr(Publication, f"latest_{name}") for name in INTERACTION_PARTS]
    added = functools.reduce(operator.add, [func.coalesce(part, 0) for part in parts])
    return case((and_(*(part.is_(None) for part in parts)), None), else_=added)


def refresh_latest(session: Session, publication_ids: Collection[int] | None = None) -> None:
    """Recompute the latest counts of these publications (or all) from their snapshots."""
    session.flush()

    def newest(column: str) -> Any:
        return (
            select(getattr(EngagementSnapshot, column))
            .where(EngagementSnapshot.publication_id == Publication.id)
            .order_by(EngagementSnapshot.collected_at.desc(), EngagementSnapshot.id.desc())
            .limit(1)
            .scalar_subquery()
        )

    def run(statement: Any) -> None:
        if publication_ids is not None:
            statement = statement.where(Publication.id.in_(publication_ids))
        session.execute(statement, execution_options={"synchronize_session": False})

    has_snapshots = exists().where(EngagementSnapshot.publication_id == Publication.id)
    copied = {f"latest_{name}": newest(name) for name in ("collected_at", *STORED, "source")}
    run(update(Publication).where(has_snapshots).values(**copied))
    run(update(Publication).where(has_snapshots).values(latest_interactions=interactions_sql()))
    columns = [getattr(Publication, f"latest_{name}") for name in COPIES]
    run(
        update(Publication)
        .where(~has_snapshots, or_(*(column.is_not(None) for column in columns)))
        .values(**{f"latest_{name}": None for name in (*COPIES, "source")})
    )
    session.expire_all()
