"""analytics: latest engagement on the publication, index on sent_at

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

METRICS = ('reactions', 'comments', 'shares', 'views', 'reach', 'saves')


def upgrade() -> None:
    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.add_column(sa.Column('latest_collected_at', sa.DateTime(timezone=True), nullable=True))
        for metric in METRICS:
            batch_op.add_column(sa.Column(f'latest_{metric}', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('latest_interactions', sa.Integer(), nullable=True))
        batch_op.create_index('ix_publication_sent_at', ['sent_at'], unique=False)

    # Copy each publication's most recent snapshot (ties: the later row) onto it.
    latest = (
        "(SELECT s.{column} FROM engagement_snapshot s WHERE s.publication_id = publication.id "
        "ORDER BY s.collected_at DESC, s.id DESC LIMIT 1)"
    )
    assignments = ", ".join(
        f"latest_{column} = {latest.format(column=column)}"
        for column in ('collected_at', *METRICS)
    )
    op.execute(
        f"UPDATE publication SET {assignments} "  # noqa: S608 - fixed column names only
        "WHERE EXISTS (SELECT 1 FROM engagement_snapshot s WHERE s.publication_id = publication.id)"
    )
    # Interactions: the parts given added up, NULL when none is (content.analytics.metrics).
    parts = ('latest_reactions', 'latest_comments', 'latest_shares', 'latest_saves')
    op.execute(
        "UPDATE publication SET latest_interactions = CASE WHEN "
        + " AND ".join(f"{p} IS NULL" for p in parts)
        + " THEN NULL ELSE "
        + " + ".join(f"COALESCE({p}, 0)" for p in parts)
        + " END WHERE latest_collected_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.drop_index('ix_publication_sent_at')
        batch_op.drop_column('latest_interactions')
        for metric in reversed(METRICS):
            batch_op.drop_column(f'latest_{metric}')
        batch_op.drop_column('latest_collected_at')
