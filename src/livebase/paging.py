"""Keyset paging over time-ordered ids (DESIGN §4 lists; ids sort by creation time).

A list fetches ``limit + 1`` rows after the cursor (the last id the client saw); the
extra row only tells ``http.paged`` that there is a next page. Internal callers (pages,
the CLI) pass no limit and get every row in the same order.
"""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select
from sqlalchemy.orm import InstrumentedAttribute

Q = TypeVar("Q", bound=Select[*tuple[Any, ...]])


def keyset(
    query: Q,
    id_column: InstrumentedAttribute[str],
    *,
    limit: int | None,
    cursor: str | None,
    newest_first: bool,
) -> Q:
    if cursor:
        query = query.where(id_column < cursor if newest_first else id_column > cursor)
    query = query.order_by(id_column.desc() if newest_first else id_column.asc())
    return query if limit is None else query.limit(limit + 1)
