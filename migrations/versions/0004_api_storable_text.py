"""repair stored lone surrogates

Before request text was checked (issue 18), a lone surrogate sent as the JSON escape
"\\udfff" in a SKU's attrs was stored in the JSON column and then broke every answer
that contained it (UTF-8 cannot encode it). This replaces any such character in the
JSON columns with U+FFFD, the replacement character, so existing databases answer again.
Text columns never held one: both drivers refuse to encode it.

Revision ID: 0004_api_storable_text
Revises: 0003
Create Date: 2026-12-01
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0004_api_storable_text"
down_revision = "0003"
branch_labels = None
depends_on = None

_SURROGATE = re.compile("[\ud800-\udfff]")
# (table, JSON column) pairs that carry text from requests.
_COLUMNS = [
    ("skus", "attrs"),
    ("products", "moderation"),
    ("moderation_items", "verdict"),
    ("show_scripts", "moderation"),
]


def _clean(value: Any) -> Any:
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {_clean(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    return value


def upgrade() -> None:
    conn = op.get_bind()
    for table_name, column in _COLUMNS:
        table = sa.table(table_name, sa.column("id", sa.String), sa.column(column, sa.JSON))
        for row_id, value in conn.execute(sa.select(table.c.id, table.c[column])):
            cleaned = _clean(value)
            if cleaned != value:
                conn.execute(table.update().where(table.c.id == row_id).values({column: cleaned}))


def downgrade() -> None:
    """Nothing to undo: the replaced characters were never valid text."""
