"""organisations as a tree, and one person on the staff of several of them

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-04 05:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.add_column(sa.Column("parent_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("grace_minutes", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_organization_parent_id_organization"),
            "organization",
            ["parent_id"],
            ["id"],
        )
        batch_op.create_index(batch_op.f("ix_organization_parent_id"), ["parent_id"])
        batch_op.create_unique_constraint(batch_op.f("uq_organization_name"), ["name"])
    with op.batch_alter_table("staff_member", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_staff_member_telegram_user_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_staff_member_organization_id"), ["organization_id", "telegram_user_id"]
        )
        batch_op.create_index(
            batch_op.f("ix_staff_member_telegram_user_id"), ["telegram_user_id"]
        )


def downgrade() -> None:
    with op.batch_alter_table("staff_member", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_staff_member_telegram_user_id"))
        batch_op.drop_constraint(batch_op.f("uq_staff_member_organization_id"), type_="unique")
        batch_op.create_unique_constraint(
            batch_op.f("uq_staff_member_telegram_user_id"), ["telegram_user_id"]
        )
    with op.batch_alter_table("organization", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_organization_name"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_organization_parent_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_organization_parent_id_organization"), type_="foreignkey"
        )
        batch_op.drop_column("grace_minutes")
        batch_op.drop_column("parent_id")
