"""compliance queue and show scripts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:

    op.create_table(
        "moderation_stats",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.String(length=10), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("show_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("verdict", sa.String(length=8), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_stats")),
        sa.UniqueConstraint(
            "day", "base_id", "show_id", "kind", "label", "verdict", name="uq_moderation_stat"
        ),
    )
    op.create_table(
        "moderation_terms",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("term", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=16), nullable=False),
        sa.Column("options", sa.String(length=128), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_terms")),
        sa.UniqueConstraint("term", "label", name="uq_moderation_term"),
    )
    op.create_table(
        "moderation_items",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=True),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("subject_type", sa.String(length=16), nullable=False),
        sa.Column("subject_id", sa.String(length=40), nullable=False),
        sa.Column("show_id", sa.String(length=40), nullable=True),
        sa.Column("author_id", sa.String(length=40), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("verdict", sa.JSON(), nullable=False),
        sa.Column("labels", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"], ["bases.id"], name=op.f("fk_moderation_items_base_id_bases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_items")),
    )
    with op.batch_alter_table("moderation_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_moderation_items_base_id"), ["base_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_moderation_items_show_id"), ["show_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_moderation_items_status"), ["status"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_moderation_items_subject_id"), ["subject_id"], unique=False
        )

    op.create_table(
        "show_scripts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("show_id", sa.String(length=40), nullable=False),
        sa.Column("author_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("moderation", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["users.id"], name=op.f("fk_show_scripts_author_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["show_id"],
            ["shows.id"],
            name=op.f("fk_show_scripts_show_id_shows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_show_scripts")),
    )
    with op.batch_alter_table("show_scripts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_show_scripts_show_id"), ["show_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("show_scripts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_show_scripts_show_id"))

    op.drop_table("show_scripts")
    with op.batch_alter_table("moderation_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_moderation_items_subject_id"))
        batch_op.drop_index(batch_op.f("ix_moderation_items_status"))
        batch_op.drop_index(batch_op.f("ix_moderation_items_show_id"))
        batch_op.drop_index(batch_op.f("ix_moderation_items_base_id"))

    op.drop_table("moderation_items")
    op.drop_table("moderation_terms")
    op.drop_table("moderation_stats")
