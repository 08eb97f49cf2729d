"""channel names per library: two libraries of a network may each have a channel named "news"

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 22:05:00
"""

from __future__ import annotations

from alembic import op


revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("channel") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_channel_name"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_channel_organization_id"), ["organization_id", "name"]
        )


def downgrade() -> None:
    # Refused by the database where two libraries share a channel name: rename one first.
    with op.batch_alter_table("channel") as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_channel_organization_id"), type_="unique")
        batch_op.create_unique_constraint(batch_op.f("uq_channel_name"), ["name"])
