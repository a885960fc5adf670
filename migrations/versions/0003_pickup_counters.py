"""pickup counters

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "pickup_counters",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("warehouse_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("customs_code", sa.String(length=4), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"], ["bases.id"], name=op.f("fk_pickup_counters_base_id_bases")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_pickup_counters_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pickup_counters")),
    )
    with op.batch_alter_table("pickup_counters", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pickup_counters_base_id"), ["base_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("pickup_counters", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pickup_counters_base_id"))

    op.drop_table("pickup_counters")
