"""Flash sales and coupons reach their show's room through the ``rooms.Bus`` seam after
commit: ``sale_open``, ``sale_close``, ``sold_out``, ``coupon`` (critical, sequenced) and
the ``sale``/``stock``/``purchase`` frames of the hot path, one set per written batch.

The runtime's bus is a ``MemoryBus`` on the SQLite leg and a ``RedisBus`` on the
PostgreSQL leg (``rooms.parts``), so every test here runs against both implementations."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta

from fastapi.testclient import TestClient

from livebase.db import utcnow
from livebase.orders import coupons, flash
from livebase.rooms.bus import Bus, MemoryBus, RedisBus
from livebase.rooms.parts import BUS, ROOM_KIT
from livebase.runtime import Runtime
from livebase.shows import service as shows
from tests.conftest import SYSTEM_TESTS, World
from tests.orders.flashkit import make_buyers, make_sale
from tests.rooms.test_bus import Inbox


@contextmanager
def listening(rt: Runtime, show_id: str) -> Iterator[Inbox]:
    bus: Bus = rt.part(BUS)
    # The two legs of the suite: the embedded and the production implementation.
    assert isinstance(bus, RedisBus if rt.redis is not None else MemoryBus)
    inbox = Inbox()
    unsubscribe = bus.subscribe(show_id, inbox)
    # Non-critical frames of what the test set up (the sale's ``stock``) wait up to one
    # room tick in the rooms kit's batch: publish them now and let them arrive, so the
    # inbox holds only what the test itself causes.
    time.sleep(2 * rt.settings.room_tick_ms / 1000)
    rt.part(ROOM_KIT).batcher.flush()
    # A state frame as the marker: it does not raise the room's seq, which tests check.
    n = len(inbox.frames)
    bus.publish(show_id, "likes", {"marker": True})
    inbox.wait_for(n + 1)
    inbox.frames.clear()
    try:
        yield inbox
    finally:
        unsubscribe()


def _settle(inbox: Inbox, marker_room: str, rt: Runtime) -> None:
    """Wait until every frame published so far has arrived (Redis delivers on its own
    thread): publish a marker frame to the same room and wait for it."""
    n = len(inbox.frames)
    rt.part(BUS).publish(marker_room, "notice", {"marker": True})
    inbox.wait_for(n + 1)
    inbox.frames.pop()


def _types(inbox: Inbox) -> list[str]:
    return [f.t for _, f in inbox.frames]


def test_open_and_close_publish_sale_open_and_sale_close_with_stock(
    rt: Runtime, world: World
) -> None:
    sale = make_sale(rt, world, stock_units=30, quantity=10, open_now=False)
    with listening(rt, sale.show_id) as inbox:
        with rt.sessions() as db, db.begin():
            flash.do_open(db, SYSTEM_TESTS, flash.get_sale(db, sale.id))
        got = inbox.wait_for(1)
        assert got[0].t == "sale_open"
        assert got[0].d["id"] == sale.id and got[0].d["status"] == "open"
        assert got[0].d["remaining"] == 10 and got[0].d["price_fen"] == 990
        assert got[0].d["sku_id"] == sale.sku_id and got[0].d["per_buyer_limit"] == 2
        assert got[0].d["ends_at"].endswith("Z")
        seq_open = got[0].seq
        # Opening again changes nothing and says nothing.
        with rt.sessions() as db, db.begin():
            assert flash.do_open(db, SYSTEM_TESTS, flash.get_sale(db, sale.id)) is False
        with rt.sessions() as db, db.begin():
            flash.do_close(db, SYSTEM_TESTS, flash.get_sale(db, sale.id))
        got = inbox.wait_for(3)
        assert [f.t for f in got] == ["sale_open", "sale_close", "stock"]
        assert got[1].d["status"] == "closed" and got[1].seq == seq_open + 1
        # The 10 unsold units are back on the SKU: 30 again.
        assert got[2].d == {sale.sku_id: 30}
        _settle(inbox, sale.show_id, rt)
        assert _types(inbox) == ["sale_open", "sale_close", "stock"]


def test_creating_a_sale_tells_the_room_the_stock_it_set_aside(rt: Runtime, world: World) -> None:
    first = make_sale(rt, world, stock_units=30, quantity=10, open_now=False)
    with listening(rt, first.show_id) as inbox:
        with rt.sessions() as db, db.begin():
            show = shows.get_show(db, first.show_id)
            spec = flash.SaleSpec(
                first.sku_id,
                500,
                5,
                1,
                utcnow() + timedelta(hours=1),
                utcnow() + timedelta(hours=2),
            )
            flash.do_create_sale(db, SYSTEM_TESTS, show, spec)
        got = inbox.wait_for(1)
        assert [(f.t, f.d) for f in got] == [("stock", {first.sku_id: 15})]


def test_a_rolled_back_open_close_or_coupon_drop_publishes_nothing(
    rt: Runtime, world: World
) -> None:
    sale = make_sale(rt, world, quantity=10, open_now=False)
    with listening(rt, sale.show_id) as inbox:
        with rt.sessions() as db:
            assert flash.do_open(db, SYSTEM_TESTS, flash.get_sale(db, sale.id)) is True
            db.rollback()
        with rt.sessions() as db:
            assert flash.do_close(db, SYSTEM_TESTS, flash.get_sale(db, sale.id)) is True
            db.rollback()
        with rt.sessions() as db:
            show = shows.get_show(db, sale.show_id)
            coupons.do_create_coupon(
                db,
                SYSTEM_TESTS,
                show,
                coupons.CouponSpec(5, "amount", 300, None, None, 0, utcnow() + timedelta(hours=1)),
            )
            db.rollback()
        _settle(inbox, sale.show_id, rt)
        assert inbox.frames == []
        assert rt.part(BUS).seq(sale.show_id) == 1  # only the marker raised it
    with rt.sessions() as db:
        assert flash.get_sale(db, sale.id).status == "scheduled"


def test_a_coupon_drop_publishes_a_coupon_frame(
    client: TestClient, rt: Runtime, world: World
) -> None:
    sale = make_sale(rt, world, quantity=10, open_now=False)
    expires = utcnow() + timedelta(hours=1)
    with listening(rt, sale.show_id) as inbox:
        r = client.post(
            f"/api/v1/shows/{sale.show_id}/coupons",
            json={
                "quantity": 50,
                "kind": "percent",
                "percent": 10,
                "cap_fen": 2000,
                "min_spend_fen": 5000,
                "expires_at": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            headers=world["host_a1"].auth,
        )
        assert r.status_code == 201, r.text
        (frame,) = inbox.wait_for(1)
        assert frame.t == "coupon" and frame.seq == 1
        assert frame.d["id"] == r.json()["id"]
        assert frame.d["kind"] == "percent" and frame.d["percent"] == 10
        assert frame.d["cap_fen"] == 2000 and frame.d["min_spend_fen"] == 5000
        assert frame.d["remaining"] == 50 and frame.d["amount_fen"] is None
        # A refused drop (an ended show) says nothing.
        with rt.sessions() as db, db.begin():
            shows.do_end(db, SYSTEM_TESTS, shows.get_show(db, sale.show_id))
        n = len(inbox.frames)
        r = client.post(
            f"/api/v1/shows/{sale.show_id}/coupons",
            json={
                "quantity": 5,
                "kind": "amount",
                "amount_fen": 100,
                "expires_at": r.json()["expires_at"],
            },
            headers=world["host_a1"].auth,
        )
        assert r.status_code == 409
        _settle(inbox, sale.show_id, rt)
        assert "coupon" not in [f.t for _, f in inbox.frames[n:]]


def test_the_hot_path_publishes_one_set_of_frames_per_batch_and_sold_out_once(
    client: TestClient, rt: Runtime, world: World
) -> None:
    sale = make_sale(rt, world, quantity=3, limit=3)
    a, b = make_buyers(rt, 2)
    seq_before = rt.part(BUS).seq(sale.show_id)  # make_sale opened it: sale_open
    with listening(rt, sale.show_id) as inbox:
        r = client.post(
            f"/api/v1/flash-sales/{sale.id}/orders",
            json={"quantity": 2, "address_id": a.address_id},
            headers={**a.auth, "Idempotency-Key": "a1"},
        )
        assert r.status_code == 201, r.text
        got = inbox.wait_for(2)
        assert [f.t for f in got] == ["purchase", "sale"]
        assert got[0].d == {
            "items": [{"sku_id": sale.sku_id, "title": "保温杯", "quantity": 2, "buyer": "b**"}]
        }
        assert got[1].d == {"id": sale.id, "status": "open", "remaining": 1}
        # The same key again is a replay from memory: no new frame.
        r2 = client.post(
            f"/api/v1/flash-sales/{sale.id}/orders",
            json={"quantity": 2, "address_id": a.address_id},
            headers={**a.auth, "Idempotency-Key": "a1"},
        )
        assert r2.json() == r.json()
        r = client.post(
            f"/api/v1/flash-sales/{sale.id}/orders",
            json={"quantity": 1, "address_id": b.address_id},
            headers={**b.auth, "Idempotency-Key": "b1"},
        )
        assert r.status_code == 201, r.text
        got = inbox.wait_for(5)
        # The critical sold_out goes out at once; the batch's purchase and sale frames
        # wait for the room's tick (rooms/batch.py), so only the set is fixed.
        assert sorted(f.t for f in got[2:]) == ["purchase", "sale", "sold_out"]
        last = {f.t: f for f in got[2:]}
        assert last["sale"].d == {"id": sale.id, "status": "sold_out", "remaining": 0}
        sold_out = last["sold_out"]
        assert sold_out.d["id"] == sale.id and sold_out.d["remaining"] == 0
        assert sold_out.d["quantity"] == 3 and sold_out.d["ends_at"].endswith("Z")
        assert sold_out.seq == seq_before + 1  # critical: it raised the room's seq
        # Refusals after the sell-out are answered from memory and publish nothing.
        r = client.post(
            f"/api/v1/flash-sales/{sale.id}/orders",
            json={"quantity": 1, "address_id": b.address_id},
            headers={**b.auth, "Idempotency-Key": "b2"},
        )
        assert r.status_code == 409 and r.json()["error"] == "sold_out"
        _settle(inbox, sale.show_id, rt)
        assert len(inbox.frames) == 5


def test_a_batch_refused_by_the_database_publishes_nothing(rt: Runtime, world: World) -> None:
    """The batch transaction itself rolled back (the sale was closed behind the owner's
    back): no purchase, no sale state, no sold_out."""
    import asyncio

    from livebase.orders import hotpath

    sale = make_sale(rt, world, quantity=3, limit=3)
    (a,) = make_buyers(rt, 1)
    with rt.sessions() as db, db.begin():
        flash.do_close(db, SYSTEM_TESTS, flash.get_sale(db, sale.id))

    async def one() -> hotpath.BatchResult:
        owners = hotpath.FlashOwners(rt)
        try:
            loaded = owners._load(sale.id)
            assert loaded is not None
            info = loaded[0]
            fut = asyncio.get_running_loop().create_future()
            ask = hotpath.Ask(a.id, "k", b"d" * 32, 3, a.address_id, None, fut, "b**")
            return hotpath.write_batch(rt, info, [ask])
        finally:
            owners.executor.shutdown()

    with listening(rt, sale.show_id) as inbox:
        result = asyncio.run(one())
        assert result.answers == [None] and result.refused == {0: hotpath.Code.NOT_OPEN}
        _settle(inbox, sale.show_id, rt)
        assert inbox.frames == []
