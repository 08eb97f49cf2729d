"""the names of authors and reviewers taken off staff, kept on their posts

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-04 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.add_column(sa.Column("author_name", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("reviewer_name", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("post", schema=None) as batch_op:
        batch_op.drop_column("reviewer_name")
        batch_op.drop_column("author_name")
