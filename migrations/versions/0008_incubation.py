"""host incubation: host profiles, cohorts (mentors, members), levels, promotions and the
per-show rollup of the leaderboard

Revision ID: 0008_incubation
Revises: 0007_bonded
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_incubation"
down_revision = "0007_bonded"
branch_labels = None
depends_on = None

TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "incubation_host_profiles",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("specialities", sa.JSON(), nullable=False),
        sa.Column("bio", sa.Text(), nullable=False),
        sa.Column("level_rank", sa.Integer(), nullable=False),
        sa.Column("level_since", TS, nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"], ["bases.id"], name=op.f("fk_incubation_host_profiles_base_id_bases")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organisations.id"],
            name=op.f("fk_incubation_host_profiles_org_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_incubation_host_profiles_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incubation_host_profiles")),
        sa.UniqueConstraint("org_id", "user_id", name="uq_host_profile_org_user"),
    )
    for col in ("base_id", "org_id", "user_id"):
        op.create_index(
            op.f(f"ix_incubation_host_profiles_{col}"), "incubation_host_profiles", [col]
        )

    op.create_table(
        "incubation_cohorts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("goals", sa.Text(), nullable=False),
        sa.Column("goal_gmv_fen", sa.BigInteger(), nullable=True),
        sa.Column("goal_hours", sa.Integer(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"], ["bases.id"], name=op.f("fk_incubation_cohorts_base_id_bases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incubation_cohorts")),
    )
    op.create_index(op.f("ix_incubation_cohorts_base_id"), "incubation_cohorts", ["base_id"])
    op.create_index(op.f("ix_incubation_cohorts_ends_on"), "incubation_cohorts", ["ends_on"])

    op.create_table(
        "incubation_cohort_mentors",
        sa.Column("cohort_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["incubation_cohorts.id"],
            name=op.f("fk_incubation_cohort_mentors_cohort_id_incubation_cohorts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_incubation_cohort_mentors_user_id_users")
        ),
        sa.PrimaryKeyConstraint("cohort_id", "user_id", name=op.f("pk_incubation_cohort_mentors")),
    )

    op.create_table(
        "incubation_cohort_members",
        sa.Column("cohort_id", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("added_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["cohort_id"],
            ["incubation_cohorts.id"],
            name=op.f("fk_incubation_cohort_members_cohort_id_incubation_cohorts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["incubation_host_profiles.id"],
            name="fk_incubation_cohort_members_profile",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "cohort_id", "profile_id", name=op.f("pk_incubation_cohort_members")
        ),
    )
    op.create_index(
        op.f("ix_incubation_cohort_members_profile_id"),
        "incubation_cohort_members",
        ["profile_id"],
    )

    op.create_table(
        "incubation_levels",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("name_en", sa.String(length=40), nullable=False),
        sa.Column("min_hours", sa.Integer(), nullable=False),
        sa.Column("min_gmv_fen", sa.BigInteger(), nullable=False),
        sa.Column("min_shows", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"], ["bases.id"], name=op.f("fk_incubation_levels_base_id_bases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incubation_levels")),
        sa.UniqueConstraint("base_id", "rank", name="uq_incubation_level_rank"),
    )
    op.create_index(op.f("ix_incubation_levels_base_id"), "incubation_levels", ["base_id"])

    op.create_table(
        "incubation_promotions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("profile_id", sa.String(length=40), nullable=False),
        sa.Column("from_rank", sa.Integer(), nullable=False),
        sa.Column("to_rank", sa.Integer(), nullable=False),
        sa.Column("from_name", sa.String(length=40), nullable=False),
        sa.Column("to_name", sa.String(length=40), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"], ["bases.id"], name=op.f("fk_incubation_promotions_base_id_bases")
        ),
        sa.ForeignKeyConstraint(
            ["profile_id"],
            ["incubation_host_profiles.id"],
            name=op.f("fk_incubation_promotions_profile_id_incubation_host_profiles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incubation_promotions")),
    )
    op.create_index(op.f("ix_incubation_promotions_base_id"), "incubation_promotions", ["base_id"])
    op.create_index(
        op.f("ix_incubation_promotions_profile_id"), "incubation_promotions", ["profile_id"]
    )

    op.create_table(
        "incubation_show_rollups",
        sa.Column("show_id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("host_id", sa.String(length=40), nullable=False),
        sa.Column("started_at", TS, nullable=False),
        sa.Column("ended_at", TS, nullable=True),
        sa.Column("live_seconds", sa.Integer(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("gmv_fen", sa.BigInteger(), nullable=False),
        sa.Column("buyers", sa.Integer(), nullable=False),
        sa.Column("peak_viewers", sa.Integer(), nullable=False),
        sa.Column("watch_seconds", sa.Float(), nullable=False),
        sa.Column("refreshed_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["show_id"],
            ["shows.id"],
            name=op.f("fk_incubation_show_rollups_show_id_shows"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("show_id", name=op.f("pk_incubation_show_rollups")),
    )
    op.create_index(
        "ix_incubation_rollups_base_started", "incubation_show_rollups", ["base_id", "started_at"]
    )
    op.create_index(
        "ix_incubation_rollups_host_started", "incubation_show_rollups", ["host_id", "started_at"]
    )
    op.create_index(
        op.f("ix_incubation_show_rollups_refreshed_at"),
        "incubation_show_rollups",
        ["refreshed_at"],
    )


def downgrade() -> None:
    for table in (
        "incubation_show_rollups",
        "incubation_promotions",
        "incubation_levels",
        "incubation_cohort_members",
        "incubation_cohort_mentors",
        "incubation_cohorts",
        "incubation_host_profiles",
    ):
        op.drop_table(table)
