"""media: publishes, recordings, chapters, clips

Revision ID: 0007_media
Revises: 0006_payments
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_media"
down_revision = "0006_payments"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def _fk(
    table: str, col: str, target: str, ondelete: str | None = "CASCADE"
) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [col],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{col}_{target}"),
        ondelete=ondelete,
    )


def upgrade() -> None:
    op.create_table(
        "media_publishes",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("show_id", sa.String(40), nullable=False),
        sa.Column("client_id", sa.String(40), nullable=False),
        sa.Column("addr", sa.String(64), nullable=False),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("ended_at", TZ, nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        _fk("media_publishes", "show_id", "shows"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_publishes")),
    )
    op.create_index(op.f("ix_media_publishes_show_id"), "media_publishes", ["show_id"])
    op.create_table(
        "media_recordings",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("show_id", sa.String(40), nullable=False),
        sa.Column("publish_id", sa.String(40), nullable=True),
        sa.Column("flv_path", sa.String(500), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("mp4_path", sa.String(500), nullable=True),
        sa.Column("poster_path", sa.String(500), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("started_at", TZ, nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        _fk("media_recordings", "show_id", "shows"),
        _fk("media_recordings", "publish_id", "media_publishes", None),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_recordings")),
        sa.UniqueConstraint("flv_path", name="uq_media_recordings_flv"),
    )
    op.create_index(op.f("ix_media_recordings_show_id"), "media_recordings", ["show_id"])
    op.create_table(
        "media_chapters",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("show_id", sa.String(40), nullable=False),
        sa.Column("recording_id", sa.String(40), nullable=False),
        sa.Column("start_s", sa.Float(), nullable=False),
        sa.Column("end_s", sa.Float(), nullable=False),
        sa.Column("no", sa.Integer(), nullable=False),
        sa.Column("sku_id", sa.String(40), nullable=False),
        sa.Column("product_id", sa.String(40), nullable=False),
        _fk("media_chapters", "show_id", "shows"),
        _fk("media_chapters", "recording_id", "media_recordings"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_chapters")),
    )
    op.create_index(op.f("ix_media_chapters_show_id"), "media_chapters", ["show_id"])
    op.create_index(op.f("ix_media_chapters_recording_id"), "media_chapters", ["recording_id"])
    op.create_index(op.f("ix_media_chapters_product_id"), "media_chapters", ["product_id"])
    op.create_table(
        "media_clips",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("show_id", sa.String(40), nullable=False),
        sa.Column("chapter_id", sa.String(40), nullable=False),
        sa.Column("sku_id", sa.String(40), nullable=False),
        sa.Column("product_id", sa.String(40), nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("path", sa.String(500), nullable=True),
        sa.Column("duration_s", sa.Float(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        _fk("media_clips", "show_id", "shows"),
        _fk("media_clips", "chapter_id", "media_chapters"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_media_clips")),
        sa.UniqueConstraint("show_id", "sku_id", name="uq_media_clips_show_sku"),
    )
    op.create_index(op.f("ix_media_clips_show_id"), "media_clips", ["show_id"])
    op.create_index(op.f("ix_media_clips_product_id"), "media_clips", ["product_id"])


def downgrade() -> None:
    for table in ("media_clips", "media_chapters", "media_recordings", "media_publishes"):
        op.drop_table(table)
