"""An order's life: payment, expiry at pay_by through the job runner, cancel before
shipment (refund through the outbox), ship, refund requests after shipment decided by the
brand, units back exactly once, the stock identity, GMV counted from paid orders."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from livebase.accounts.actors import SYSTEM_PAYMENTS
from livebase.bases import service as bases
from livebase.errors import Conflict
from livebase.jobs.models import Job
from livebase.jobs.service import run_due
from livebase.orders import service as orders
from livebase.runtime import Runtime
from tests.conftest import SYSTEM_TESTS, World
from tests.orders.helpers import LIVE_PRICE, STOCK, Shop, make_shop


@pytest.fixture
def shop(rt: Runtime, world: World) -> Shop:
    return make_shop(rt, world)


def _refund_jobs(rt: Runtime) -> list[dict]:
    with rt.sessions() as db:
        return [
            j.payload for j in db.scalars(select(Job).where(Job.kind == "orders.request_refund"))
        ]


def test_payment_marks_the_order_paid_once_and_checks_the_amount(shop: Shop) -> None:
    order_id = shop.place(2)
    with shop.rt.sessions() as db, db.begin(), pytest.raises(Conflict):
        orders.do_mark_paid(db, SYSTEM_PAYMENTS, order_id, 1, "pay_x")
    assert shop.status(order_id) == "pending_payment"
    assert shop.pay(order_id) == "paid"
    assert shop.pay(order_id) == "already_paid"
    with shop.rt.sessions() as db:
        steps = [(t.from_status, t.to_status, t.actor) for t in orders.timeline(db, order_id)]
    assert steps[-1] == ("pending_payment", "paid", "system:payments")
    assert len(steps) == 2
    shop.identity()


def test_the_expiry_job_expires_unpaid_orders_at_pay_by_and_returns_their_units(
    shop: Shop,
) -> None:
    due, not_due, paid = shop.place(2), shop.place(1), shop.place(1)
    assert shop.pay(paid) == "paid"
    shop.overdue(due)
    shop.overdue(paid)
    with shop.rt.sessions() as db, db.begin():
        # The recurring sweep as the runner would run it (kind registered by features).
        db.add(Job(kind="orders.expire_due", payload={}, due_at=orders.utcnow()))
    assert run_due(shop.rt.sessions, shop.rt.jobs) >= 1
    assert shop.status(due) == "expired"
    assert shop.status(not_due) == "pending_payment"
    assert shop.status(paid) == "paid"
    assert shop.stock() == STOCK - 2
    # A payment arriving after the expiry is late: the caller refunds it.
    assert shop.pay(due) == "late"
    assert shop.status(due) == "expired"
    shop.identity()


def test_cancel_before_payment_returns_the_units_once(
    client: TestClient, world: World, shop: Shop
) -> None:
    order_id = shop.place(3)
    r = client.post(f"/api/v1/orders/{order_id}/cancel", headers=world["viewer"].auth)
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    assert shop.stock() == STOCK
    r = client.post(f"/api/v1/orders/{order_id}/cancel", headers=world["viewer"].auth)
    assert r.status_code == 409
    with shop.rt.sessions() as db, db.begin():
        assert orders.do_return_units(db, orders.get_order(db, order_id)) is False
    assert shop.stock() == STOCK
    assert shop.pay(order_id) == "late"
    shop.identity()


def test_cancel_after_payment_requests_a_refund_and_returns_the_units(
    client: TestClient, world: World, shop: Shop
) -> None:
    order_id = shop.place(2)
    shop.pay(order_id)
    r = client.post(f"/api/v1/orders/{order_id}/cancel", headers=world["viewer"].auth)
    assert r.status_code == 200 and r.json()["status"] == "refund_requested", r.text
    assert shop.stock() == STOCK
    assert _refund_jobs(shop.rt) == [
        {"order_id": order_id, "amount_fen": 2 * LIVE_PRICE, "reason": "cancelled before shipment"}
    ]
    # The merchant cannot ship what is being refunded.
    r = client.post(
        f"/api/v1/orders/{order_id}/ship",
        json={"carrier": "顺丰", "tracking_no": "SF1234567890"},
        headers=world["merchant_a1"].auth,
    )
    assert r.status_code == 409
    with shop.rt.sessions() as db, db.begin():
        assert orders.do_mark_refunded(db, SYSTEM_PAYMENTS, order_id) is True
    with shop.rt.sessions() as db, db.begin():
        assert orders.do_mark_refunded(db, SYSTEM_PAYMENTS, order_id) is False
    assert shop.status(order_id) == "refunded"
    assert shop.stock() == STOCK  # back once, not twice
    shop.identity()


def test_a_paid_order_refunded_by_the_provider_before_shipment_gives_its_units_back(
    shop: Shop,
) -> None:
    order_id = shop.place(1)
    shop.pay(order_id)
    with shop.rt.sessions() as db, db.begin():
        assert orders.do_mark_refunded(db, SYSTEM_PAYMENTS, order_id) is True
    assert shop.stock() == STOCK
    shop.identity()


def _ship(client: TestClient, world: World, order_id: str, who: str = "merchant_a1"):
    return client.post(
        f"/api/v1/orders/{order_id}/ship",
        json={"carrier": "顺丰", "tracking_no": "SF1234567890"},
        headers=world[who].auth,
    )


def test_ship_then_refund_request_rejected_then_approved(
    client: TestClient, world: World, shop: Shop
) -> None:
    order_id = shop.place(1)
    assert _ship(client, world, order_id).status_code == 409  # not paid yet
    shop.pay(order_id)
    r = _ship(client, world, order_id)
    assert r.status_code == 200 and r.json()["status"] == "shipped", r.text
    assert r.json()["tracking_no"] == "SF1234567890"
    assert (
        client.post(f"/api/v1/orders/{order_id}/cancel", headers=world["viewer"].auth).status_code
        == 409
    )

    r = client.post(
        f"/api/v1/orders/{order_id}/refund-requests",
        json={"reason": "尺码不合适"},
        headers=world["viewer"].auth,
    )
    assert r.status_code == 201 and r.json()["status"] == "pending", r.text
    first = r.json()["id"]
    r = client.post(
        f"/api/v1/refund-requests/{first}/reject",
        json={"reason": "已穿着，不支持退货"},
        headers=world["merchant_a1"].auth,
    )
    assert r.status_code == 200 and r.json()["status"] == "rejected", r.text
    assert shop.status(order_id) == "shipped"
    r = client.post(f"/api/v1/refund-requests/{first}/approve", headers=world["merchant_a1"].auth)
    assert r.status_code == 409  # decided once

    r = client.post(
        f"/api/v1/orders/{order_id}/refund-requests",
        json={"reason": "质量问题"},
        headers=world["viewer"].auth,
    )
    second = r.json()["id"]
    r = client.post(f"/api/v1/refund-requests/{second}/approve", headers=world["merchant_a1"].auth)
    assert r.status_code == 200 and r.json()["status"] == "approved", r.text
    assert _refund_jobs(shop.rt)[-1]["order_id"] == order_id
    with shop.rt.sessions() as db, db.begin():
        assert orders.do_mark_refunded(db, SYSTEM_PAYMENTS, order_id)
    # Shipped goods are with the buyer: their units do not come back to the shelf.
    assert shop.stock() == STOCK - 1
    detail = client.get(f"/api/v1/orders/{order_id}", headers=world["viewer"].auth).json()
    assert [t["to"] for t in detail["timeline"]] == [
        "pending_payment",
        "paid",
        "shipped",
        "refund_requested",
        "shipped",
        "refund_requested",
        "refund_requested",
        "refunded",
    ]
    assert detail["timeline"][4]["note"] == "已穿着，不支持退货"
    assert [q["status"] for q in detail["refund_requests"]] == ["rejected", "approved"]


def test_the_merchant_lists_filters_and_exports_the_brands_orders(
    client: TestClient, world: World, shop: Shop
) -> None:
    paid, pending = shop.place(1), shop.place(2)
    shop.pay(paid)
    auth = world["merchant_a1"].auth
    r = client.get(f"/api/v1/orgs/{world.brand_a1}/orders?status=paid", headers=auth)
    assert r.status_code == 200 and [o["id"] for o in r.json()["items"]] == [paid]
    r = client.get(f"/api/v1/orgs/{world.brand_a1}/orders?limit=1", headers=auth)
    assert [o["id"] for o in r.json()["items"]] == [pending] and r.json()["next_cursor"]
    r = client.get(f"/api/v1/orgs/{world.brand_a1}/orders.csv", headers=auth)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    text = r.content.decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].startswith("order_id,created_at,status")
    assert len(lines) == 3 and "张三" in text and "望京街1号" in text
    r = client.get(f"/api/v1/orgs/{world.brand_a1}/orders.csv?status=paid", headers=auth)
    assert len(r.content.decode("utf-8-sig").strip().splitlines()) == 2
    r = client.get(f"/api/v1/orgs/{world.brand_a1}/orders", headers=world["merchant_a2"].auth)
    assert r.status_code == 403


def test_gmv_counts_paid_orders_minus_refunds(client: TestClient, world: World, shop: Shop) -> None:
    year = orders.utcnow().year
    with shop.rt.sessions() as db, db.begin():
        bases.do_set_target(
            db, SYSTEM_TESTS, world.base_a, "gmv_fen", str(year), 10**9, reported=500
        )
    paid, refunded, unpaid = shop.place(1), shop.place(2), shop.place(3)
    shop.pay(paid)
    shop.pay(refunded)
    with shop.rt.sessions() as db, db.begin():
        orders.do_mark_refunded(db, SYSTEM_PAYMENTS, refunded)
    base = client.get(f"/api/v1/bases/{world.base_a}").json()
    gmv = next(t for t in base["targets"] if t["metric"] == "gmv_fen")
    assert gmv["actual"] == 500 + LIVE_PRICE
    assert unpaid


def test_a_batch_of_new_orders_reads_like_orders_placed_one_by_one(shop: Shop) -> None:
    """The flash-sale hot path's multi-row insert: orders, lines and first transitions."""
    from datetime import timedelta

    with shop.rt.sessions() as db, db.begin():
        buyer = shop.principal(db)
        rows = [
            orders.NewOrder(
                id=orders.new_id("ord"),
                buyer_id=buyer.id,
                org_id=shop.world.brand_a1,
                base_id=shop.world.base_a,
                show_id=shop.show,
                flash_sale_id=None,
                sku_id=shop.sku,
                product_id=shop.product,
                title="纯棉圆领T恤",
                attrs={"颜色": "白"},
                unit_price_fen=100,
                quantity=q,
                total_fen=100 * q,
                address_id=shop.address,
                pickup_counter_id=None,
                ship_to={"name": "张三"},
                pay_by=orders.utcnow() + timedelta(minutes=15),
            )
            for q in (1, 2, 3)
        ]
        orders.do_insert_orders_batch(db, rows)
    with shop.rt.sessions() as db:
        views = [orders.order_view(orders.get_order(db, r.id)) for r in rows]
        steps = [[t.to_status for t in orders.timeline(db, r.id)] for r in rows]
    assert [(v["status"], v["total_fen"], len(v["lines"])) for v in views] == [
        ("pending_payment", 100, 1),
        ("pending_payment", 200, 1),
        ("pending_payment", 300, 1),
    ]
    assert views[2]["lines"][0]["line_total_fen"] == 300
    assert steps == [["pending_payment"]] * 3
