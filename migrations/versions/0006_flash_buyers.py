"""flash sales: units per buyer per sale (the per-buyer limit, checked in the batch too)

Revision ID: 0006_flash_buyers
Revises: 0005_orders
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_flash_buyers"
down_revision = "0005_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "flash_sale_buyers",
        sa.Column("sale_id", sa.String(length=40), nullable=False),
        sa.Column("buyer_id", sa.String(length=40), nullable=False),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["sale_id"], ["flash_sales.id"], name=op.f("fk_flash_sale_buyers_sale_id_flash_sales")
        ),
        sa.PrimaryKeyConstraint("sale_id", "buyer_id", name=op.f("pk_flash_sale_buyers")),
    )


def downgrade() -> None:
    op.drop_table("flash_sale_buyers")
