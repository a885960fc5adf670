"""dashboard: monthly rollups of every metric, and the indexes its counters read by

Revision ID: 0008_dashboard
Revises: 0007_bonded
Create Date: 2026-12-02 13:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_dashboard"
down_revision = "0007_bonded"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "metric_months",
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("month", sa.String(length=7), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"],
            ["bases.id"],
            name=op.f("fk_metric_months_base_id_bases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("base_id", "metric", "month", name=op.f("pk_metric_months")),
    )
    op.create_index("ix_orders_base_paid", "orders", ["base_id", "paid_at", "status", "total_fen"])
    op.create_index("ix_shows_base_started", "shows", ["base_id", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_shows_base_started", table_name="shows")
    op.drop_index("ix_orders_base_paid", table_name="orders")
    op.drop_table("metric_months")
