"""The only code that changes a SKU's stock once the SKU exists.

Every change is one conditional ``UPDATE``: the database applies it to the value it holds
at that instant, so a merchant's edit and the decrements of orders running at the same
moment never overwrite each other (no read-then-write). Rows are visited in the order of
:mod:`livebase.catalog.locks`.

- :func:`reserve` takes ``k`` units if there are ``k`` (``stock >= :k``) and says whether
  it did; :func:`release` gives them back.
- :func:`adjust` adds a delta (a restock, a correction), never going below zero.
- :func:`set_expected` writes an absolute value only if the stock is still what the
  caller last read (compare-and-set), else 409 ``conflict`` with the current value.
- :func:`set_absolute` is a stock-take: "there are N now", whatever sold meanwhile.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import ColumnElement, case, select, update
from sqlalchemy.orm import Session

from livebase.catalog.locks import sku_lock_order
from livebase.catalog.models import Sku
from livebase.errors import Conflict, NotFound


def _forget(db: Session, sku_id: str) -> None:
    """The session's copy of the SKU (if loaded) no longer knows its stock."""
    obj = db.identity_map.get(db.identity_key(Sku, sku_id))
    if obj is not None:
        db.expire(obj, ["stock"])


def _update(db: Session, sku_id: str, *where: ColumnElement[bool], stock: Any) -> int:
    """``UPDATE skus SET stock = <stock> WHERE id = :id AND <where>``; rows changed."""
    result = db.execute(
        update(Sku)
        .where(Sku.id == sku_id, *where)
        .values(stock=stock)
        .execution_options(synchronize_session=False)
    )
    _forget(db, sku_id)
    return int(getattr(result, "rowcount", 0) or 0)


def current(db: Session, sku_id: str) -> int:
    value = db.scalar(select(Sku.stock).where(Sku.id == sku_id))
    if value is None:
        raise NotFound(f"No SKU {sku_id}.")
    return value


def reserve(db: Session, sku_id: str, k: int) -> bool:
    """Take ``k`` units if there are at least ``k``; True if taken."""
    if k < 1:
        raise ValueError("reserve at least one unit")
    return _update(db, sku_id, Sku.stock >= k, stock=Sku.stock - k) == 1


def reserve_many(db: Session, lines: Mapping[str, int]) -> str | None:
    """Reserve every line or none: returns None when all were taken, else the id of the
    first SKU (in lock order) that ran short, with nothing reserved.

    A short line gives back the lines already taken (conditional updates too) rather than
    rolling back a savepoint: on SQLite, pysqlite opens no transaction before a
    ``SAVEPOINT``, so SQLite starts one there and the savepoint's ``RELEASE`` commits it,
    and a later rollback of the caller's transaction would keep the units taken."""
    taken: list[str] = []
    for sku_id in sku_lock_order(lines):
        if not reserve(db, sku_id, lines[sku_id]):
            for done in taken:
                release(db, done, lines[done])
            return sku_id
        taken.append(sku_id)
    return None


def release(db: Session, sku_id: str, k: int) -> None:
    """Give back ``k`` reserved units (an order cancelled or expired)."""
    if k < 1:
        raise ValueError("release at least one unit")
    if _update(db, sku_id, stock=Sku.stock + k) != 1:
        raise NotFound(f"No SKU {sku_id}.")


def adjust(db: Session, sku_id: str, delta: int) -> int:
    """Add ``delta`` (negative to remove units), never below zero; returns the new stock."""
    new = db.scalar(
        update(Sku)
        .where(Sku.id == sku_id)
        .values(stock=case((Sku.stock + delta < 0, 0), else_=Sku.stock + delta))
        .returning(Sku.stock)
        .execution_options(synchronize_session=False)
    )
    _forget(db, sku_id)
    if new is None:
        raise NotFound(f"No SKU {sku_id}.")
    return int(new)


def set_expected(db: Session, sku_id: str, value: int, *, expected: int) -> None:
    """Write ``value`` if the stock still is ``expected``; else 409 with the current one."""
    if _update(db, sku_id, Sku.stock == expected, stock=value) != 1:
        now = current(db, sku_id)
        raise Conflict(
            f"The stock changed since it was read ({expected} then, {now} now).",
            extra={"stock": now},
        )


def set_absolute(db: Session, sku_id: str, value: int) -> None:
    """A stock-take: the count is ``value`` now, whatever was sold before this instant."""
    if _update(db, sku_id, stock=value) != 1:
        raise NotFound(f"No SKU {sku_id}.")
