"""public Instagram counts: when a channel's token was last refused insights, and where a
publication's latest counts came from; partner libraries' public accounts and their posts

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
    op.create_table(
        "partner_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organization_id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=30), nullable=False),
        sa.Column("full_name", sa.String(length=200), nullable=True),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["organization_id"],
            ["organization.id"],
            name=op.f("fk_partner_account_organization_id_organization"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_account")),
        sa.UniqueConstraint(
            "organization_id", "username", name=op.f("uq_partner_account_organization_id")
        ),
    )
    op.create_index(
        op.f("ix_partner_account_organization_id"),
        "partner_account",
        ["organization_id"],
        unique=False,
    )
    op.create_table(
        "partner_post",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partner_id", sa.Integer(), nullable=False),
        sa.Column("shortcode", sa.String(length=40), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("caption", sa.String(length=200), nullable=True),
        sa.Column("reactions", sa.Integer(), nullable=True),
        sa.Column("comments", sa.Integer(), nullable=True),
        sa.Column("views", sa.Integer(), nullable=True),
        sa.Column("collected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partner_account.id"],
            name=op.f("fk_partner_post_partner_id_partner_account"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_partner_post")),
        sa.UniqueConstraint("partner_id", "shortcode", name=op.f("uq_partner_post_partner_id")),
    )


def downgrade() -> None:
    op.drop_table("partner_post")
    op.drop_index(op.f("ix_partner_account_organization_id"), table_name="partner_account")
    op.drop_table("partner_account")
    with op.batch_alter_table("publication", schema=None) as batch_op:
        batch_op.drop_column("latest_source")
    with op.batch_alter_table("channel", schema=None) as batch_op:
        batch_op.drop_column("insights_refused_at")
