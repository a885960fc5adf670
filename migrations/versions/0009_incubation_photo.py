"""host profile photos: the picture and the outcome of the check of the text inside it

Revision ID: 0009_incubation_photo
Revises: 0008_incubation
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_incubation_photo"
down_revision = "0008_incubation"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("incubation_host_profiles") as batch:
        batch.add_column(sa.Column("photo_path", sa.String(length=255), nullable=True))
        batch.add_column(
            sa.Column(
                "photo_ocr_status", sa.String(length=10), nullable=False, server_default="unchecked"
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("incubation_host_profiles") as batch:
        batch.drop_column("photo_ocr_status")
        batch.drop_column("photo_path")
