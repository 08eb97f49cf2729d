"""pacing_window: the platforms' rate limits shared by every worker on one database

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-04 20:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pacing_window",
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("state", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_pacing_window")),
    )


def downgrade() -> None:
    op.drop_table("pacing_window")
