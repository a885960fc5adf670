"""moderation terms per base

Revision ID: 0004_pages_terms_base
Revises: 0003
Create Date: 2026-12-01

A term belongs to one base ("" = every base: the admins' shared terms). Terms that exist
already were shared by every base, so they stay shared (base_id "") and only admins edit
them from now on.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_pages_terms_base"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("moderation_terms", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("base_id", sa.String(length=40), nullable=False, server_default="")
        )
        batch_op.drop_constraint("uq_moderation_term", type_="unique")
        batch_op.create_unique_constraint("uq_moderation_term", ["term", "label", "base_id"])
        batch_op.create_index(batch_op.f("ix_moderation_terms_base_id"), ["base_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("moderation_terms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_moderation_terms_base_id"))
        batch_op.drop_constraint("uq_moderation_term", type_="unique")
        batch_op.execute(sa.text("DELETE FROM moderation_terms WHERE base_id <> ''"))
        batch_op.create_unique_constraint("uq_moderation_term", ["term", "label"])
        batch_op.drop_column("base_id")
