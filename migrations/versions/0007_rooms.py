"""rooms: settings (slow mode, notice), mutes and bans, held chat lines, post-show figures

Revision ID: 0007_rooms
Revises: 0006_flash_buyers
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = "0007_rooms"
down_revision = "0006_flash_buyers"
branch_labels = None
depends_on = None


def _show_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["show_id"], ["shows.id"], name=op.f(f"fk_{table}_show_id_shows"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "room_settings",
        sa.Column("show_id", sa.String(length=40), nullable=False),
        sa.Column("slow_mode_seconds", sa.Integer(), nullable=False),
        sa.Column("notice", sa.Text(), nullable=True),
        sa.Column("notice_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _show_fk("room_settings"),
        sa.PrimaryKeyConstraint("show_id", name=op.f("pk_room_settings")),
    )
    op.create_table(
        "room_sanctions",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("show_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _show_fk("room_sanctions"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_room_sanctions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_sanctions")),
        sa.UniqueConstraint("show_id", "user_id", "kind", name="uq_room_sanction"),
    )
    op.create_index(op.f("ix_room_sanctions_show_id"), "room_sanctions", ["show_id"])
    op.create_table(
        "room_held_lines",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("show_id", sa.String(length=40), nullable=False),
        sa.Column("user_id", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("verdict", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("moderation_item_id", sa.String(length=40), nullable=True),
        sa.Column("decided_by", sa.String(length=40), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _show_fk("room_held_lines"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_room_held_lines_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_room_held_lines")),
    )
    op.create_index(op.f("ix_room_held_lines_show_id"), "room_held_lines", ["show_id"])
    op.create_index(op.f("ix_room_held_lines_status"), "room_held_lines", ["status"])
    op.create_table(
        "room_figures",
        sa.Column("show_id", sa.String(length=40), nullable=False),
        sa.Column("peak_viewers", sa.Integer(), nullable=False),
        sa.Column("avg_viewers", sa.Float(), nullable=False),
        sa.Column("watch_seconds", sa.Float(), nullable=False),
        sa.Column("likes", sa.Integer(), nullable=False),
        sa.Column("chat_lines", sa.Integer(), nullable=False),
        sa.Column("held_lines", sa.Integer(), nullable=False),
        sa.Column("blocked_lines", sa.Integer(), nullable=False),
        sa.Column("timeline", sa.JSON(), nullable=False),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        _show_fk("room_figures"),
        sa.PrimaryKeyConstraint("show_id", name=op.f("pk_room_figures")),
    )


def downgrade() -> None:
    op.drop_table("room_figures")
    op.drop_index(op.f("ix_room_held_lines_status"), table_name="room_held_lines")
    op.drop_index(op.f("ix_room_held_lines_show_id"), table_name="room_held_lines")
    op.drop_table("room_held_lines")
    op.drop_index(op.f("ix_room_sanctions_show_id"), table_name="room_sanctions")
    op.drop_table("room_sanctions")
    op.drop_table("room_settings")
