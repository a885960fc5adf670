"""Stock has one owner (catalog.stock) and changes only by conditional updates: orders'
decrements and a merchant's edit landing at the same moment add up, on both databases."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient

from livebase.catalog import locks, stock
from livebase.catalog import service as catalog
from livebase.runtime import Runtime
from tests.conftest import World
from tests.race import interleave
from tests.web.conftest import make_product

# Enough buyers to contend for the last units from separate connections.
BUYERS = 16


def _sku(world: World, units: int = 10) -> str:
    pid = make_product(world, world.brand_a1, stock=units)
    with world.rt.sessions() as db:
        return catalog.get_product(db, None, pid).skus[0].id


def _stock(rt: Runtime, sku_id: str) -> int:
    with rt.sessions() as db:
        return stock.current(db, sku_id)


def _sell(rt: Runtime, sku_id: str, k: int) -> None:
    with rt.sessions() as db, db.begin():
        assert stock.reserve(db, sku_id, k)


def test_concurrent_reservations_never_oversell(rt: Runtime, world: World) -> None:
    sku_id = _sku(world, units=10)
    start = threading.Barrier(BUYERS)
    taken: list[bool] = []
    lock = threading.Lock()

    def buy() -> None:
        start.wait(timeout=30)
        with rt.sessions() as db, db.begin():
            ok = stock.reserve(db, sku_id, 1)
        with lock:
            taken.append(ok)

    threads = [threading.Thread(target=buy) for _ in range(BUYERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(taken) == BUYERS
    assert taken.count(True) == 10 and _stock(rt, sku_id) == 0


def test_reserve_release_adjust_and_set(rt: Runtime, world: World) -> None:
    sku_id = _sku(world, units=5)
    with rt.sessions() as db, db.begin():
        assert not stock.reserve(db, sku_id, 6)  # not enough: nothing taken
        assert stock.current(db, sku_id) == 5
        assert stock.reserve(db, sku_id, 5) and stock.current(db, sku_id) == 0
        stock.release(db, sku_id, 2)
        assert stock.adjust(db, sku_id, 10) == 12
        assert stock.adjust(db, sku_id, -100) == 0  # never below zero
        stock.set_expected(db, sku_id, 9, expected=0)
        with pytest.raises(catalog.Conflict) as caught:
            stock.set_expected(db, sku_id, 3, expected=0)
        assert caught.value.extra == {"stock": 9}
        assert stock.current(db, sku_id) == 9


def test_reserve_many_takes_all_lines_or_none(rt: Runtime, world: World) -> None:
    a, b = _sku(world, units=3), _sku(world, units=1)
    with rt.sessions() as db, db.begin():
        assert stock.reserve_many(db, {a: 2, b: 2}) == b
        assert (stock.current(db, a), stock.current(db, b)) == (3, 1)
        assert stock.reserve_many(db, {b: 1, a: 2}) is None
    assert (_stock(rt, a), _stock(rt, b)) == (1, 0)


def test_lock_order_is_by_sku_id(rt: Runtime, world: World) -> None:
    a, b, c = (_sku(world) for _ in range(3))
    assert locks.sku_lock_order([c, a, b, a]) == sorted([a, b, c])
    with rt.sessions() as db, db.begin():
        assert list(locks.lock_skus(db, [c, b, a])) == sorted([a, b, c])


def test_api_set_with_expected_stock_refuses_a_stale_write(
    rt: Runtime, world: World, client: TestClient
) -> None:
    """The merchant read 10; three units sell just before its write lands: the write is
    refused with the current figure, and the sale stands."""
    sku_id = _sku(world, units=10)
    auth = world["merchant_a1"].auth
    with interleave(rt.engine, "UPDATE skus", lambda: _sell(rt, sku_id, 3)):
        r = client.patch(
            f"/api/v1/skus/{sku_id}", json={"stock": 15, "expected_stock": 10}, headers=auth
        )
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "conflict" and r.json()["stock"] == 7
    assert _stock(rt, sku_id) == 7
    r = client.patch(
        f"/api/v1/skus/{sku_id}", json={"stock": 12, "expected_stock": 7}, headers=auth
    )
    assert r.status_code == 200 and r.json()["stock"] == 12


def test_api_expected_stock_needs_stock(world: World, client: TestClient) -> None:
    sku_id = _sku(world)
    r = client.patch(
        f"/api/v1/skus/{sku_id}", json={"expected_stock": 10}, headers=world["merchant_a1"].auth
    )
    assert r.status_code == 422 and r.json()["fields"][0]["loc"] == "body.expected_stock"
