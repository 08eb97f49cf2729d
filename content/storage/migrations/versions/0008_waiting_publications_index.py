"""a partial index of the publications waiting to be claimed, in due order

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 02:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

# As content.storage.models.WAITING_SQL on the day of this revision (a migration never follows later
# changes of the model).
WAITING = "state IN ('scheduled', 'retry_wait')"


def upgrade() -> None:
    op.create_index(
        "ix_publication_waiting",
        "publication",
        ["due_at", "id"],
        postgresql_where=sa.text(WAITING),
        sqlite_where=sa.text(WAITING),
    )


def downgrade() -> None:
    op.drop_index("ix_publication_waiting", table_name="publication")
