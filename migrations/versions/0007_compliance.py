"""compliance: text inside pictures (OCR status of product images and show covers, image on a queue item)

Revision ID: 0007_compliance
Revises: 0006_payments
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_compliance"
down_revision = "0006_payments"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("product_images") as batch:
        batch.add_column(
            sa.Column(
                "ocr_status", sa.String(length=10), nullable=False, server_default="unchecked"
            )
        )
        batch.add_column(sa.Column("ocr_text", sa.Text(), nullable=True))
    with op.batch_alter_table("moderation_items") as batch:
        batch.add_column(sa.Column("image_path", sa.String(length=255), nullable=True))
    with op.batch_alter_table("shows") as batch:
        batch.add_column(
            sa.Column(
                "cover_ocr_status", sa.String(length=10), nullable=False, server_default="unchecked"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("shows") as batch:
        batch.drop_column("cover_ocr_status")
    with op.batch_alter_table("moderation_items") as batch:
        batch.drop_column("image_path")
    with op.batch_alter_table("product_images") as batch:
        batch.drop_column("ocr_text")
        batch.drop_column("ocr_status")
