"""payments: payments, callback nonces, provider refunds

Revision ID: 0006_payments
Revises: 0005_orders
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_payments"
down_revision = "0005_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("buyer_id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("pay_url", sa.String(length=500), nullable=False),
        sa.Column("provider_ref", sa.String(length=200), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("succeeded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_payments_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["users.id"], name=op.f("fk_payments_buyer_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payments")),
    )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payments_order_id"), ["order_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_payments_buyer_id"), ["buyer_id"], unique=False)
        batch_op.create_index("ix_payments_order_status", ["order_id", "status"], unique=False)

    op.create_table(
        "payment_callback_nonces",
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("provider", "nonce", name=op.f("pk_payment_callback_nonces")),
    )
    with op.batch_alter_table("payment_callback_nonces", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_callback_nonces_seen_at"), ["seen_at"], unique=False
        )

    op.create_table(
        "payment_refunds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("purpose", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=14), nullable=False),
        sa.Column("requested_by", sa.String(length=40), nullable=False),
        sa.Column("provider_ref", sa.String(length=200), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["payment_id"], ["payments.id"], name=op.f("fk_payment_refunds_payment_id_payments")
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_payment_refunds_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment_refunds")),
        sa.UniqueConstraint("payment_id", "purpose", name="uq_refund_purpose"),
    )
    with op.batch_alter_table("payment_refunds", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_payment_refunds_payment_id"), ["payment_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_payment_refunds_order_id"), ["order_id"], unique=False)


def downgrade() -> None:
    op.drop_table("payment_refunds")
    op.drop_table("payment_callback_nonces")
    op.drop_table("payments")
