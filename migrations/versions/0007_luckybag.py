"""lucky bags and follows: follows, lucky_bags, lucky_bag_entries, lucky_bag_winners

Revision ID: 0007_luckybag
Revises: 0006_payments
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_luckybag"
down_revision = "0006_payments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "follows",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("follower_id", sa.String(length=40), nullable=False),
        sa.Column("host_id", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["follower_id"],
            ["users.id"],
            name=op.f("fk_follows_follower_id_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["host_id"], ["users.id"], name=op.f("fk_follows_host_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follows")),
        sa.UniqueConstraint("follower_id", "host_id", name="uq_follow"),
    )
    op.create_index("ix_follows_host", "follows", ["host_id", "follower_id"])
    op.create_table(
        "lucky_bags",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("show_id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("host_id", sa.String(length=40), nullable=False),
        sa.Column("prize", sa.String(length=100), nullable=False),
        sa.Column("winners_count", sa.Integer(), nullable=False),
        sa.Column("condition", sa.String(length=10), nullable=False),
        sa.Column("phrase", sa.String(length=40), nullable=True),
        sa.Column("duration_s", sa.Integer(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("seed", sa.String(length=64), nullable=False),
        sa.Column("seed_hash", sa.String(length=64), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cutoff_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entrants_count", sa.Integer(), nullable=True),
        sa.Column("entrants_digest", sa.String(length=64), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["show_id"], ["shows.id"], name=op.f("fk_lucky_bags_show_id_shows")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lucky_bags")),
    )
    op.create_index(op.f("ix_lucky_bags_show_id"), "lucky_bags", ["show_id"])
    op.create_index(
        "uq_lucky_bags_one_open",
        "lucky_bags",
        ["show_id"],
        unique=True,
        sqlite_where=sa.text("status = 'open'"),
        postgresql_where=sa.text("status = 'open'"),
    )
    op.create_table(
        "lucky_bag_entries",
        sa.Column("bag_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("eligible", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(
            ["bag_id"], ["lucky_bags.id"], name=op.f("fk_lucky_bag_entries_bag_id_lucky_bags")
        ),
        sa.PrimaryKeyConstraint("bag_id", "user_id", name=op.f("pk_lucky_bag_entries")),
    )
    op.create_table(
        "lucky_bag_winners",
        sa.Column("bag_id", sa.String(length=40), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["bag_id"], ["lucky_bags.id"], name=op.f("fk_lucky_bag_winners_bag_id_lucky_bags")
        ),
        sa.PrimaryKeyConstraint("bag_id", "rank", name=op.f("pk_lucky_bag_winners")),
    )
    op.create_index("ix_lucky_bag_winners_user", "lucky_bag_winners", ["user_id"])


def downgrade() -> None:
    op.drop_table("lucky_bag_winners")
    op.drop_table("lucky_bag_entries")
    op.drop_index("uq_lucky_bags_one_open", table_name="lucky_bags")
    op.drop_table("lucky_bags")
    op.drop_table("follows")
