"""bonded: identities (sealed), positive list, district rules, yearly quota, bonded orders,
customs messages and receipts, pickup attempts, the sandbox customs' scripts

Revision ID: 0007_bonded
Revises: 0006_payments
Create Date: 2026-12-02 01:07:14.479892
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0007_bonded"
down_revision = "0006_payments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "bonded_district_rules",
        sa.Column("customs_code", sa.String(length=4), nullable=False),
        sa.Column("per_order_fen", sa.BigInteger(), nullable=False),
        sa.Column("per_year_fen", sa.BigInteger(), nullable=False),
        sa.Column("reduced_bp", sa.Integer(), nullable=False),
        sa.Column("return_days", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("customs_code", name=op.f("pk_bonded_district_rules")),
    )
    op.create_table(
        "bonded_quotas",
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("used_fen", sa.BigInteger(), nullable=False),
        sa.CheckConstraint("used_fen >= 0", name=op.f("ck_bonded_quotas_used_nonneg")),
        sa.PrimaryKeyConstraint("id_hash", "year", name=op.f("pk_bonded_quotas")),
    )
    op.create_table(
        "bonded_sandbox_scripts",
        sa.Column("order_no", sa.String(length=60), nullable=False),
        sa.Column("steps", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("order_no", name=op.f("pk_bonded_sandbox_scripts")),
    )
    op.create_table(
        "bonded_identities",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("id_sealed", sa.LargeBinary(length=64), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("masked", sa.String(length=18), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_bonded_identities_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bonded_identities")),
        sa.UniqueConstraint("user_id", "id_hash", name="uq_bonded_identity_user"),
    )
    with op.batch_alter_table("bonded_identities", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bonded_identities_id_hash"), ["id_hash"], unique=False)
        batch_op.create_index(batch_op.f("ix_bonded_identities_user_id"), ["user_id"], unique=False)

    op.create_table(
        "bonded_pickup_attempts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("clerk_id", sa.String(length=40), nullable=False),
        sa.Column("counter_id", sa.String(length=40), nullable=True),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["clerk_id"], ["users.id"], name=op.f("fk_bonded_pickup_attempts_clerk_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bonded_pickup_attempts")),
    )
    with op.batch_alter_table("bonded_pickup_attempts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bonded_pickup_attempts_clerk_id"), ["clerk_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_bonded_pickup_attempts_counter_id"), ["counter_id"], unique=False
        )

    op.create_table(
        "bonded_positive_lines",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("hs_code", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("allowed", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"], ["bases.id"], name=op.f("fk_bonded_positive_lines_base_id_bases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bonded_positive_lines")),
        sa.UniqueConstraint("base_id", "hs_code", name="uq_bonded_positive_line"),
    )
    with op.batch_alter_table("bonded_positive_lines", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_bonded_positive_lines_base_id"), ["base_id"], unique=False
        )

    op.create_table(
        "bonded_positive_modes",
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("replaces_common", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"], ["bases.id"], name=op.f("fk_bonded_positive_modes_base_id_bases")
        ),
        sa.PrimaryKeyConstraint("base_id", name=op.f("pk_bonded_positive_modes")),
    )
    op.create_table(
        "bonded_messages",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("guid", sa.String(length=36), nullable=False),
        sa.Column("xml", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_bonded_messages_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bonded_messages")),
        sa.UniqueConstraint("guid", name=op.f("uq_bonded_messages_guid")),
    )
    with op.batch_alter_table("bonded_messages", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bonded_messages_order_id"), ["order_id"], unique=False)

    op.create_table(
        "bonded_orders",
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("identity_id", sa.String(length=40), nullable=False),
        sa.Column("id_hash", sa.String(length=64), nullable=False),
        sa.Column("buyer_id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("warehouse_id", sa.String(length=40), nullable=False),
        sa.Column("customs_code", sa.String(length=4), nullable=False),
        sa.Column("pickup_counter_id", sa.String(length=40), nullable=True),
        sa.Column("order_no", sa.String(length=60), nullable=False),
        sa.Column("goods_fen", sa.BigInteger(), nullable=False),
        sa.Column("freight_fen", sa.BigInteger(), nullable=False),
        sa.Column("insurance_fen", sa.BigInteger(), nullable=False),
        sa.Column("discount_fen", sa.BigInteger(), nullable=False),
        sa.Column("taxable_fen", sa.BigInteger(), nullable=False),
        sa.Column("tariff_fen", sa.BigInteger(), nullable=False),
        sa.Column("vat_fen", sa.BigInteger(), nullable=False),
        sa.Column("ct_fen", sa.BigInteger(), nullable=False),
        sa.Column("tax_fen", sa.BigInteger(), nullable=False),
        sa.Column("full_tax", sa.Boolean(), nullable=False),
        sa.Column("quota_year", sa.Integer(), nullable=False),
        sa.Column("quota_fen", sa.BigInteger(), nullable=False),
        sa.Column("quota_state", sa.String(length=10), nullable=False),
        sa.Column("hold_reason", sa.Text(), nullable=True),
        sa.Column("last_reason", sa.Text(), nullable=True),
        sa.Column("lines", sa.JSON(), nullable=False),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("pickup_code_hash", sa.String(length=64), nullable=True),
        sa.Column("pickup_code_sealed", sa.LargeBinary(length=64), nullable=True),
        sa.Column("pickup_key_id", sa.String(length=16), nullable=True),
        sa.Column("code_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("code_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("picked_up_by", sa.String(length=40), nullable=True),
        sa.Column("picked_up_counter_id", sa.String(length=40), nullable=True),
        sa.Column("picked_up_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("declarations", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"], ["bases.id"], name=op.f("fk_bonded_orders_base_id_bases")
        ),
        sa.ForeignKeyConstraint(
            ["buyer_id"], ["users.id"], name=op.f("fk_bonded_orders_buyer_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["identity_id"],
            ["bonded_identities.id"],
            name=op.f("fk_bonded_orders_identity_id_bonded_identities"),
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_bonded_orders_order_id_orders")
        ),
        sa.ForeignKeyConstraint(
            ["pickup_counter_id"],
            ["pickup_counters.id"],
            name=op.f("fk_bonded_orders_pickup_counter_id_pickup_counters"),
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"],
            ["warehouses.id"],
            name=op.f("fk_bonded_orders_warehouse_id_warehouses"),
        ),
        sa.PrimaryKeyConstraint("order_id", name=op.f("pk_bonded_orders")),
        sa.UniqueConstraint("order_no", name=op.f("uq_bonded_orders_order_no")),
        sa.UniqueConstraint("pickup_code_hash", name=op.f("uq_bonded_orders_pickup_code_hash")),
    )
    with op.batch_alter_table("bonded_orders", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bonded_orders_base_id"), ["base_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bonded_orders_buyer_id"), ["buyer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_bonded_orders_id_hash"), ["id_hash"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_bonded_orders_identity_id"), ["identity_id"], unique=False
        )

    op.create_table(
        "bonded_receipts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("return_status", sa.Integer(), nullable=False),
        sa.Column("return_info", sa.Text(), nullable=False),
        sa.Column("receipt_key", sa.String(length=80), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["order_id"], ["orders.id"], name=op.f("fk_bonded_receipts_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bonded_receipts")),
        sa.UniqueConstraint("receipt_key", name=op.f("uq_bonded_receipts_receipt_key")),
    )
    with op.batch_alter_table("bonded_receipts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_bonded_receipts_order_id"), ["order_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("bonded_receipts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bonded_receipts_order_id"))

    op.drop_table("bonded_receipts")
    with op.batch_alter_table("bonded_orders", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bonded_orders_identity_id"))
        batch_op.drop_index(batch_op.f("ix_bonded_orders_id_hash"))
        batch_op.drop_index(batch_op.f("ix_bonded_orders_buyer_id"))
        batch_op.drop_index(batch_op.f("ix_bonded_orders_base_id"))

    op.drop_table("bonded_orders")
    with op.batch_alter_table("bonded_messages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bonded_messages_order_id"))

    op.drop_table("bonded_messages")
    op.drop_table("bonded_positive_modes")
    with op.batch_alter_table("bonded_positive_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bonded_positive_lines_base_id"))

    op.drop_table("bonded_positive_lines")
    with op.batch_alter_table("bonded_pickup_attempts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bonded_pickup_attempts_counter_id"))
        batch_op.drop_index(batch_op.f("ix_bonded_pickup_attempts_clerk_id"))

    op.drop_table("bonded_pickup_attempts")
    with op.batch_alter_table("bonded_identities", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_bonded_identities_user_id"))
        batch_op.drop_index(batch_op.f("ix_bonded_identities_id_hash"))

    op.drop_table("bonded_identities")
    op.drop_table("bonded_sandbox_scripts")
    op.drop_table("bonded_quotas")
    op.drop_table("bonded_district_rules")
