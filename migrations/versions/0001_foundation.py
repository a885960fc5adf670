"""foundation

Revision ID: 0001
Revises:
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "bases",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("district", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_bases")),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("dedupe_key", sa.String(length=128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_jobs_dedupe_key")),
    )
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_jobs_done_at"), ["done_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_jobs_due_at"), ["due_at"], unique=False)

    op.create_table(
        "users",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("username", sa.String(length=32), nullable=False),
        sa.Column("display_name", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "applications",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("applicant_id", sa.String(length=40), nullable=False),
        sa.Column("org_kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("org_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["applicant_id"], ["users.id"], name=op.f("fk_applications_applicant_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["base_id"], ["bases.id"], name=op.f("fk_applications_base_id_bases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_applications")),
    )
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_applications_base_id"), ["base_id"], unique=False)

    op.create_table(
        "auth_tokens",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_auth_tokens_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_auth_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_auth_tokens_token_hash")),
    )
    with op.batch_alter_table("auth_tokens", schema=None) as batch_op:
        batch_op.create_index("ix_auth_tokens_user_kind", ["user_id", "kind"], unique=False)

    op.create_table(
        "base_targets",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("metric", sa.String(length=32), nullable=False),
        sa.Column("period", sa.String(length=16), nullable=False),
        sa.Column("target", sa.BigInteger(), nullable=False),
        sa.Column("reported", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"],
            ["bases.id"],
            name=op.f("fk_base_targets_base_id_bases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_base_targets")),
        sa.UniqueConstraint("base_id", "metric", "period", name="uq_base_target"),
    )
    with op.batch_alter_table("base_targets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_base_targets_base_id"), ["base_id"], unique=False)

    op.create_table(
        "organisations",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("incubated", sa.Boolean(), nullable=False),
        sa.Column("launched_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"], ["bases.id"], name=op.f("fk_organisations_base_id_bases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisations")),
    )
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_organisations_base_id"), ["base_id"], unique=False)

    op.create_table(
        "role_grants",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=True),
        sa.Column("org_id", sa.String(length=40), nullable=True),
        sa.Column("counter_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_role_grants_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_grants")),
        sa.UniqueConstraint("user_id", "role", "base_id", "org_id", "counter_id", name="uq_grant"),
    )
    with op.batch_alter_table("role_grants", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_grants_base_id"), ["base_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_role_grants_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_role_grants_user_id"), ["user_id"], unique=False)

    op.create_table(
        "warehouses",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("customs_code", sa.String(length=4), nullable=False),
        sa.Column("ems_no", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"], ["bases.id"], name=op.f("fk_warehouses_base_id_bases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_warehouses")),
    )
    with op.batch_alter_table("warehouses", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_warehouses_base_id"), ["base_id"], unique=False)

    op.create_table(
        "products",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("moderation", sa.JSON(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hs_code", sa.String(length=8), nullable=True),
        sa.Column("origin_country", sa.String(length=2), nullable=True),
        sa.Column("tariff_rate_bp", sa.Integer(), nullable=True),
        sa.Column("vat_rate_bp", sa.Integer(), nullable=True),
        sa.Column("consumption_tax_rate_bp", sa.Integer(), nullable=True),
        sa.Column("warehouse_id", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["base_id"], ["bases.id"], name=op.f("fk_products_base_id_bases")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_products_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["warehouse_id"], ["warehouses.id"], name=op.f("fk_products_warehouse_id_warehouses")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_products")),
    )
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_products_base_id"), ["base_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_products_status"), ["status"], unique=False)

    op.create_table(
        "shows",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("host_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=100), nullable=False),
        sa.Column("cover_path", sa.String(length=255), nullable=True),
        sa.Column("scheduled_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("public_id", sa.String(length=24), nullable=False),
        sa.Column("stream_key", sa.String(length=64), nullable=False),
        sa.Column("explaining_no", sa.Integer(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["base_id"], ["bases.id"], name=op.f("fk_shows_base_id_bases")),
        sa.ForeignKeyConstraint(["host_id"], ["users.id"], name=op.f("fk_shows_host_id_users")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_shows_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shows")),
        sa.UniqueConstraint("public_id", name=op.f("uq_shows_public_id")),
    )
    with op.batch_alter_table("shows", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shows_base_id"), ["base_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shows_host_id"), ["host_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shows_org_id"), ["org_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_shows_scheduled_at"), ["scheduled_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_shows_status"), ["status"], unique=False)

    op.create_table(
        "product_images",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("path", sa.String(length=255), nullable=False),
        sa.Column("thumb_path", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=32), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_product_images_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_product_images")),
    )
    with op.batch_alter_table("product_images", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_product_images_product_id"), ["product_id"], unique=False
        )

    op.create_table(
        "skus",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("product_id", sa.String(length=40), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=True),
        sa.Column("attrs", sa.JSON(), nullable=False),
        sa.Column("price_fen", sa.BigInteger(), nullable=False),
        sa.Column("stock", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["product_id"],
            ["products.id"],
            name=op.f("fk_skus_product_id_products"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_skus")),
        sa.UniqueConstraint("product_id", "code", name="uq_sku_code"),
    )
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_skus_product_id"), ["product_id"], unique=False)

    op.create_table(
        "shelf_items",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("show_id", sa.String(length=40), nullable=False),
        sa.Column("no", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.String(length=40), nullable=False),
        sa.Column("live_price_fen", sa.BigInteger(), nullable=True),
        sa.ForeignKeyConstraint(
            ["show_id"], ["shows.id"], name=op.f("fk_shelf_items_show_id_shows"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["sku_id"], ["skus.id"], name=op.f("fk_shelf_items_sku_id_skus")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shelf_items")),
        sa.UniqueConstraint("show_id", "no", name="uq_shelf_no"),
        sa.UniqueConstraint("show_id", "sku_id", name="uq_shelf_sku"),
    )
    with op.batch_alter_table("shelf_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_shelf_items_show_id"), ["show_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("shelf_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shelf_items_show_id"))

    op.drop_table("shelf_items")
    with op.batch_alter_table("skus", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_skus_product_id"))

    op.drop_table("skus")
    with op.batch_alter_table("product_images", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_product_images_product_id"))

    op.drop_table("product_images")
    with op.batch_alter_table("shows", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_shows_status"))
        batch_op.drop_index(batch_op.f("ix_shows_scheduled_at"))
        batch_op.drop_index(batch_op.f("ix_shows_org_id"))
        batch_op.drop_index(batch_op.f("ix_shows_host_id"))
        batch_op.drop_index(batch_op.f("ix_shows_base_id"))

    op.drop_table("shows")
    with op.batch_alter_table("products", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_products_status"))
        batch_op.drop_index(batch_op.f("ix_products_org_id"))
        batch_op.drop_index(batch_op.f("ix_products_base_id"))

    op.drop_table("products")
    with op.batch_alter_table("warehouses", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_warehouses_base_id"))

    op.drop_table("warehouses")
    with op.batch_alter_table("role_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_role_grants_user_id"))
        batch_op.drop_index(batch_op.f("ix_role_grants_org_id"))
        batch_op.drop_index(batch_op.f("ix_role_grants_base_id"))

    op.drop_table("role_grants")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisations_base_id"))

    op.drop_table("organisations")
    with op.batch_alter_table("base_targets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_base_targets_base_id"))

    op.drop_table("base_targets")
    with op.batch_alter_table("auth_tokens", schema=None) as batch_op:
        batch_op.drop_index("ix_auth_tokens_user_kind")

    op.drop_table("auth_tokens")
    with op.batch_alter_table("applications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_applications_base_id"))

    op.drop_table("applications")
    op.drop_table("users")
    with op.batch_alter_table("jobs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_jobs_due_at"))
        batch_op.drop_index(batch_op.f("ix_jobs_done_at"))

    op.drop_table("jobs")
    op.drop_table("bases")
