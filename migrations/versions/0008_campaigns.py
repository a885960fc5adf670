"""campaigns, brand tags, incubation rule and overrides, launches, demonstration scenes

Revision ID: 0008_campaigns
Revises: 0007_bonded
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_campaigns"
down_revision = "0007_bonded"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("banner_color", sa.String(length=7), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["base_id"], ["bases.id"], name=op.f("fk_campaigns_base_id_bases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    op.create_index(op.f("ix_campaigns_base_id"), "campaigns", ["base_id"], unique=False)
    op.create_index(op.f("ix_campaigns_starts_at"), "campaigns", ["starts_at"], unique=False)
    op.create_table(
        "incubation_rules",
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("min_shows", sa.Integer(), nullable=False),
        sa.Column("min_gmv_fen", sa.BigInteger(), nullable=False),
        sa.Column("window_days", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"],
            ["bases.id"],
            name=op.f("fk_incubation_rules_base_id_bases"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("base_id", name=op.f("pk_incubation_rules")),
    )
    op.create_table(
        "incubation_overrides",
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("override", sa.String(length=3), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("set_by", sa.String(length=64), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_incubation_overrides_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_incubation_overrides")),
    )
    op.create_table(
        "org_tags",
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("tag", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_org_tags_org_id_organisations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "tag", name=op.f("pk_org_tags")),
    )
    op.create_index(op.f("ix_org_tags_tag"), "org_tags", ["tag"], unique=False)
    op.create_table(
        "scenes",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("address", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("photo_path", sa.String(length=255), nullable=True),
        sa.Column("org_id", sa.String(length=40), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["base_id"], ["bases.id"], name=op.f("fk_scenes_base_id_bases")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_scenes_org_id_organisations")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenes")),
    )
    op.create_index(op.f("ix_scenes_base_id"), "scenes", ["base_id"], unique=False)
    op.create_table(
        "campaign_shows",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("campaign_id", sa.String(length=40), nullable=False),
        sa.Column("show_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("requested_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_shows_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["show_id"],
            ["shows.id"],
            name=op.f("fk_campaign_shows_show_id_shows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_shows")),
        sa.UniqueConstraint("show_id", name="uq_campaign_shows_show"),
    )
    op.create_index(
        op.f("ix_campaign_shows_campaign_id"), "campaign_shows", ["campaign_id"], unique=False
    )
    op.create_table(
        "launches",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("launch_date", sa.Date(), nullable=False),
        sa.Column("show_id", sa.String(length=40), nullable=True),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["base_id"], ["bases.id"], name=op.f("fk_launches_base_id_bases")),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_launches_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["show_id"], ["shows.id"], name=op.f("fk_launches_show_id_shows"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_launches")),
    )
    op.create_index(op.f("ix_launches_base_id"), "launches", ["base_id"], unique=False)
    op.create_index(op.f("ix_launches_launch_date"), "launches", ["launch_date"], unique=False)
    op.create_index(op.f("ix_launches_org_id"), "launches", ["org_id"], unique=False)
    op.create_table(
        "scene_shows",
        sa.Column("scene_id", sa.String(length=40), nullable=False),
        sa.Column("show_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["scene_id"],
            ["scenes.id"],
            name=op.f("fk_scene_shows_scene_id_scenes"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["show_id"], ["shows.id"], name=op.f("fk_scene_shows_show_id_shows"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("scene_id", "show_id", name=op.f("pk_scene_shows")),
        sa.UniqueConstraint("show_id", name="uq_scene_shows_show"),
    )


def downgrade() -> None:
    for table in (
        "scene_shows",
        "launches",
        "campaign_shows",
        "scenes",
        "org_tags",
        "incubation_overrides",
        "incubation_rules",
        "campaigns",
    ):
        op.drop_table(table)
