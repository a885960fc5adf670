"""training: courses, sessions, enrolments with a waiting list, certificates

Revision ID: 0008_training
Revises: 0007_bonded
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_training"
down_revision = "0007_bonded"
branch_labels = None
depends_on = None

ACTIVE = sa.text("status IN ('confirmed', 'waitlisted')")


def upgrade() -> None:
    op.create_table(
        "training_certificate_counters",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("year", name=op.f("pk_training_certificate_counters")),
    )
    op.create_table(
        "training_courses",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("hours", sa.Integer(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("pass_mark", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"], ["bases.id"], name=op.f("fk_training_courses_base_id_bases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_courses")),
    )
    op.create_index(op.f("ix_training_courses_base_id"), "training_courses", ["base_id"])
    op.create_table(
        "training_sessions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("course_id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("teacher_name", sa.String(length=100), nullable=False),
        sa.Column("teacher_user_id", sa.String(length=40), nullable=True),
        sa.Column("room", sa.String(length=120), nullable=False),
        sa.Column("studio_id", sa.String(length=40), nullable=True),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("seats_taken", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "seats_taken >= 0 AND seats_taken <= capacity",
            name=op.f("ck_training_sessions_seats"),
        ),
        sa.CheckConstraint("starts_at < ends_at", name=op.f("ck_training_sessions_times")),
        sa.ForeignKeyConstraint(
            ["base_id"], ["bases.id"], name=op.f("fk_training_sessions_base_id_bases")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["training_courses.id"],
            name=op.f("fk_training_sessions_course_id_training_courses"),
        ),
        sa.ForeignKeyConstraint(
            ["teacher_user_id"],
            ["users.id"],
            name=op.f("fk_training_sessions_teacher_user_id_users"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_sessions")),
    )
    op.create_index(op.f("ix_training_sessions_base_id"), "training_sessions", ["base_id"])
    op.create_index(op.f("ix_training_sessions_course_id"), "training_sessions", ["course_id"])
    op.create_table(
        "training_enrolments",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("session_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("queue_no", sa.Integer(), nullable=False),
        sa.Column("attended", sa.Boolean(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "score IS NULL OR (score >= 0 AND score <= 100)",
            name=op.f("ck_training_enrolments_score"),
        ),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["training_sessions.id"],
            name=op.f("fk_training_enrolments_session_id_training_sessions"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_training_enrolments_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_enrolments")),
    )
    op.create_index(
        "ix_training_enrolments_queue", "training_enrolments", ["session_id", "status", "queue_no"]
    )
    op.create_index(op.f("ix_training_enrolments_user_id"), "training_enrolments", ["user_id"])
    op.create_index(
        "uq_training_enrolments_active",
        "training_enrolments",
        ["session_id", "user_id"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )
    op.create_table(
        "training_certificates",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("number", sa.String(length=20), nullable=False),
        sa.Column("enrolment_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("base_id", sa.String(length=40), nullable=False),
        sa.Column("course_id", sa.String(length=40), nullable=False),
        sa.Column("holder_name", sa.String(length=100), nullable=False),
        sa.Column("course_title", sa.String(length=120), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=40), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.Text(), nullable=True),
        sa.Column("revoked_by", sa.String(length=40), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["base_id"], ["bases.id"], name=op.f("fk_training_certificates_base_id_bases")
        ),
        sa.ForeignKeyConstraint(
            ["course_id"],
            ["training_courses.id"],
            name=op.f("fk_training_certificates_course_id_training_courses"),
        ),
        sa.ForeignKeyConstraint(
            ["enrolment_id"],
            ["training_enrolments.id"],
            name=op.f("fk_training_certificates_enrolment_id_training_enrolments"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_training_certificates_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_training_certificates")),
        sa.UniqueConstraint("enrolment_id", name=op.f("uq_training_certificates_enrolment_id")),
        sa.UniqueConstraint("number", name=op.f("uq_training_certificates_number")),
    )
    op.create_index(
        "ix_training_certificates_base_issued", "training_certificates", ["base_id", "issued_at"]
    )
    op.create_index(op.f("ix_training_certificates_user_id"), "training_certificates", ["user_id"])


def downgrade() -> None:
    op.drop_table("training_certificates")
    op.drop_table("training_enrolments")
    op.drop_table("training_sessions")
    op.drop_table("training_courses")
    op.drop_table("training_certificate_counters")
