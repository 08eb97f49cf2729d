"""shares: a publication that shares another (a member library's post shared up its network)

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 21:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.add_column(sa.Column("shared_from_id", sa.Integer(), nullable=True))
        batch_op.add_column(
            sa.Column(
                "share_mode",
                sa.Enum("copy", "forward", "link", name="sharemode", native_enum=False, length=24),
                nullable=True,
            )
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_publication_shared_from_id_publication"),
            "publication",
            ["shared_from_id"],
            ["id"],
        )
        batch_op.create_index(batch_op.f("ix_publication_shared_from_id"), ["shared_from_id"])


def downgrade() -> None:
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_publication_shared_from_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_publication_shared_from_id_publication"), type_="foreignkey"
        )
        batch_op.drop_column("share_mode")
        batch_op.drop_column("shared_from_id")
