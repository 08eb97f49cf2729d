"""follower news: a move or cancellation a follower who asked to be reminded must still be told

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("event_subscription") as batch:
        batch.add_column(sa.Column("news", sa.String(length=24), nullable=True))
        batch.add_column(sa.Column("news_since", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("event_subscription") as batch:
        batch.drop_column("news_since")
        batch.drop_column("news")
