"""studios and studio_bookings, with the no-overlap rule in the database

Revision ID: 0008_studios
Revises: 0007_bonded

PostgreSQL: btree_gist and an exclusion constraint over tstzrange(starts_at, ends_at) of
active bookings per studio. SQLite: triggers refusing an overlapping active row. (A copy
of livebase.studios.models' DDL: a migration keeps what it did when it was written.)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_studios"
down_revision = "0007_bonded"
branch_labels = None
depends_on = None

_OVERLAP = (
    "SELECT RAISE(ABORT, 'slot_taken') WHERE EXISTS ("
    "SELECT 1 FROM studio_bookings b WHERE b.studio_id = NEW.studio_id "
    "AND b.status = 'active' AND b.id != NEW.id "
    "AND b.starts_at < NEW.ends_at AND b.ends_at > NEW.starts_at)"
)


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "studios",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("equipment", sa.JSON(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("opening_hours", sa.JSON(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["base_id"], ["bases.id"], name=op.f("fk_studios_base_id_bases")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studios")),
    )
    op.create_index(op.f("ix_studios_base_id"), "studios", ["base_id"])
    op.create_table(
        "studio_bookings",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("studio_id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("org_id", sa.String(length=40), nullable=False),
        sa.Column("booked_by", sa.String(length=64), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("show_id", sa.String(length=40), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_by", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_studio_bookings_slot_order")),
        sa.ForeignKeyConstraint(
            ["studio_id"], ["studios.id"], name=op.f("fk_studio_bookings_studio_id_studios")
        ),
        sa.ForeignKeyConstraint(
            ["base_id"], ["bases.id"], name=op.f("fk_studio_bookings_base_id_bases")
        ),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organisations.id"], name=op.f("fk_studio_bookings_org_id_organisations")
        ),
        sa.ForeignKeyConstraint(
            ["show_id"], ["shows.id"], name=op.f("fk_studio_bookings_show_id_shows")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_studio_bookings")),
    )
    op.create_index(
        "ix_studio_bookings_studio_start", "studio_bookings", ["studio_id", "starts_at"]
    )
    op.create_index("ix_studio_bookings_base_start", "studio_bookings", ["base_id", "starts_at"])
    op.create_index("ix_studio_bookings_org_start", "studio_bookings", ["org_id", "starts_at"])
    if dialect == "postgresql":
        op.execute(
            "ALTER TABLE studio_bookings ADD CONSTRAINT ex_studio_bookings_no_overlap "
            "EXCLUDE USING gist (studio_id WITH =, tstzrange(starts_at, ends_at) WITH &&) "
            "WHERE (status = 'active')"
        )
    else:
        op.execute(
            "CREATE TRIGGER trg_studio_bookings_no_overlap_insert BEFORE INSERT ON "
            f"studio_bookings WHEN NEW.status = 'active' BEGIN {_OVERLAP}; END"
        )
        op.execute(
            "CREATE TRIGGER trg_studio_bookings_no_overlap_update "
            "BEFORE UPDATE OF studio_id, starts_at, ends_at, status ON studio_bookings "
            f"WHEN NEW.status = 'active' BEGIN {_OVERLAP}; END"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS trg_studio_bookings_no_overlap_update")
        op.execute("DROP TRIGGER IF EXISTS trg_studio_bookings_no_overlap_insert")
    op.drop_table("studio_bookings")
    op.drop_table("studios")
