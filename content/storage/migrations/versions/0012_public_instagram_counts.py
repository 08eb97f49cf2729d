"""public Instagram counts: when a channel's token was last refused insights, and where a
publication's latest counts came from

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("insights_refused_at", sa.DateTime(timezone=True), nullable=True)
        )
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.add_column(sa.Column("latest_source", sa.String(length=50), nullable=True))
    # The copies of counts stored before now get their snapshot's source.
    op.execute(
        "UPDATE publication SET latest_source = (SELECT s.source FROM engagement_snapshot s "
        "WHERE s.publication_id = publication.id "
        "ORDER BY s.collected_at DESC, s.id DESC LIMIT 1) "
        "WHERE latest_collected_at IS NOT NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.drop_column("latest_source")
    with op.batch_alter_table("channel", schema=None) as batch_op:
        batch_op.drop_column("insights_refused_at")
