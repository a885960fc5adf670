"""Stock row locks, taken in one fixed order (after saleor's ``warehouse/lock_objects.py``).

**Lock order**: SKU rows by id, ascending; then (as the features that own them arrive)
flash-sale rows by id, then coupon rows by id. Every transaction that locks or
conditionally updates more than one stock row goes through this module, so two orders for
the same two SKUs take them in the same order and cannot deadlock each other.

This is the only module that takes stock row locks: explicitly (:func:`lock_skus`) or
through the conditional updates of :mod:`livebase.catalog.stock`, which visit rows in
:func:`sku_lock_order`. On SQLite one writer holds the whole database, so the order only
matters on PostgreSQL; the code is the same on both.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from livebase.catalog.models import Sku


def sku_lock_order(sku_ids: Iterable[str]) -> list[str]:
    """The order in which SKU rows are locked: each id once, ascending."""
    return sorted(set(sku_ids))


def lock_skus(db: Session, sku_ids: Iterable[str]) -> dict[str, Sku]:
    """Lock the SKU rows (``SELECT ... ORDER BY id FOR UPDATE``) until the transaction
    ends, for a change that must read several of them before writing; missing ids are
    absent from the result."""
    ids = sku_lock_order(sku_ids)
    if not ids:
        return {}
    q = (
        select(Sku)
        .where(Sku.id.in_(ids))
        .order_by(Sku.id)
        .execution_options(populate_existing=True)
    )
    if db.get_bind().dialect.name == "postgresql":
        q = q.with_for_update()
    return {sku.id: sku for sku in db.scalars(q)}
