"""``shipped → completed``: the buyer confirms receipt, or the recurring job completes the
order once the receipt window (LIVEBASE_AUTO_COMPLETE_DAYS) is over; a completed order
takes refund requests within the after-sale window (LIVEBASE_AFTER_SALE_DAYS)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from livebase.accounts.actors import SYSTEM_JOBS, SYSTEM_PAYMENTS
from livebase.db import utcnow
from livebase.orders import jobs
from livebase.orders import service as orders
from livebase.orders.models import Order, OrderTransition
from livebase.orders.parts import ORDER_RULES
from livebase.runtime import Runtime
from tests.conftest import World
from tests.orders.helpers import Shop, make_shop


@pytest.fixture
def shop(rt: Runtime, world: World) -> Shop:
    return make_shop(rt, world)


def _shipped(client: TestClient, world: World, shop: Shop) -> str:
    order_id = shop.place(1)
    shop.pay(order_id)
    r = client.post(
        f"/api/v1/orders/{order_id}/ship",
        json={"carrier": "顺丰", "tracking_no": "SF0001"},
        headers=world["merchant_a1"].auth,
    )
    assert r.status_code == 200, r.text
    return order_id


def _age_shipment(shop: Shop, order_id: str, days: float) -> None:
    with shop.rt.sessions() as db, db.begin():
        db.execute(
            update(Order)
            .where(Order.id == order_id)
            .values(shipped_at=utcnow() - timedelta(days=days))
        )


def _complete(client: TestClient, world: World, order_id: str, who: str = "viewer"):
    return client.post(f"/api/v1/orders/{order_id}/complete", headers=world[who].auth)


def test_the_buyer_confirms_receipt_of_a_shipped_order_once(
    client: TestClient, world: World, shop: Shop
) -> None:
    unshipped = shop.place(1)
    r = _complete(client, world, unshipped)
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    shop.pay(unshipped)
    assert _complete(client, world, unshipped).status_code == 409
    assert shop.status(unshipped) == "paid"

    order_id = _shipped(client, world, shop)
    # Nobody else completes it: another buyer, the selling merchant (who may read it),
    # another brand's merchant, anonymous.
    world.add_user("viewer2")
    for who in ("viewer2", "merchant_a1", "merchant_a2"):
        r = _complete(client, world, order_id, who)
        assert r.status_code == 404 and r.json()["error"] == "not_found", who
    assert client.post(f"/api/v1/orders/{order_id}/complete").status_code == 401
    assert shop.status(order_id) == "shipped"

    r = _complete(client, world, order_id)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "completed"
    last = r.json()["timeline"][-1]
    assert (last["from"], last["to"], last["actor"]) == ("shipped", "completed", world["viewer"].id)
    assert last["note"] == "receipt confirmed by the buyer"
    again = _complete(client, world, order_id)
    assert again.status_code == 409 and "already completed" in again.json()["detail"]
    # A body is refused (the route takes none) and changes nothing.
    r = client.post(
        f"/api/v1/orders/{order_id}/complete",
        json={"status": "shipped"},
        headers=world["viewer"].auth,
    )
    assert r.status_code in (400, 422)
    assert shop.status(order_id) == "completed"
    shop.identity()


def test_the_job_completes_orders_whose_receipt_window_is_over(
    client: TestClient, world: World, shop: Shop, rt: Runtime
) -> None:
    rules = rt.part(ORDER_RULES)
    assert (
        rules.complete_after == timedelta(days=rt.settings.auto_complete_days) == timedelta(days=10)
    )
    old = _shipped(client, world, shop)
    recent = _shipped(client, world, shop)
    pending_refund = _shipped(client, world, shop)
    _age_shipment(shop, old, 10.01)
    _age_shipment(shop, recent, 9.9)
    _age_shipment(shop, pending_refund, 11)
    r = client.post(
        f"/api/v1/orders/{pending_refund}/refund-requests",
        json={"reason": "没收到货"},
        headers=world["viewer"].auth,
    )
    assert r.status_code == 201
    with rt.sessions() as db, db.begin():
        jobs.complete_due(db, {})
    assert shop.status(old) == "completed"
    assert shop.status(recent) == "shipped"
    # A pending refund request waits for the merchant, whatever the clock says.
    assert shop.status(pending_refund) == "refund_requested"
    detail = client.get(f"/api/v1/orders/{old}", headers=world["viewer"].auth).json()
    last = detail["timeline"][-1]
    assert (last["from"], last["to"], last["actor"]) == ("shipped", "completed", "system:jobs")
    # Running again changes nothing; a second completion of one order is refused.
    with rt.sessions() as db, db.begin():
        jobs.complete_due(db, {})
        assert orders.do_auto_complete(db, SYSTEM_JOBS, old, timedelta(days=10)) is False
    detail = client.get(f"/api/v1/orders/{old}", headers=world["viewer"].auth).json()
    assert [t["to"] for t in detail["timeline"]].count("completed") == 1
    # The job is registered as a recurring kind of the runtime.
    assert rt.jobs.handler("orders.complete_due") is not None


def test_a_completed_order_takes_a_refund_request_within_the_after_sale_window(
    client: TestClient, world: World, shop: Shop, rt: Runtime
) -> None:
    order_id = _shipped(client, world, shop)
    assert _complete(client, world, order_id).status_code == 200
    r = client.post(
        f"/api/v1/orders/{order_id}/refund-requests",
        json={"reason": "有瑕疵"},
        headers=world["viewer"].auth,
    )
    assert r.status_code == 201, r.text
    # Rejected: back to completed, not to shipped.
    r = client.post(
        f"/api/v1/refund-requests/{r.json()['id']}/reject",
        json={"reason": "不影响使用"},
        headers=world["merchant_a1"].auth,
    )
    assert r.status_code == 200
    assert shop.status(order_id) == "completed"

    # Past the window (15 days after completion by default) the request is refused.
    with rt.sessions() as db, db.begin():
        db.execute(
            update(OrderTransition)
            .where(OrderTransition.order_id == order_id, OrderTransition.to_status == "completed")
            .values(at=utcnow() - timedelta(days=15, minutes=1))
        )
    r = client.post(
        f"/api/v1/orders/{order_id}/refund-requests",
        json={"reason": "还是想退"},
        headers=world["viewer"].auth,
    )
    assert r.status_code == 409 and "after-sale window" in r.json()["detail"]
    assert shop.status(order_id) == "completed"


def test_an_approved_refund_of_a_completed_order_ends_refunded_and_leaves_gmv(
    client: TestClient, world: World, shop: Shop, rt: Runtime
) -> None:
    order_id = _shipped(client, world, shop)
    assert _complete(client, world, order_id).status_code == 200
    with rt.sessions() as db:
        year = utcnow().year
        total = orders.get_order(db, order_id).total_fen
        assert orders.count_gmv_fen(db, world.base_a, year, year) == total  # completed counts
    r = client.post(
        f"/api/v1/orders/{order_id}/refund-requests",
        json={"reason": "有瑕疵"},
        headers=world["viewer"].auth,
    )
    r = client.post(
        f"/api/v1/refund-requests/{r.json()['id']}/approve", headers=world["merchant_a1"].auth
    )
    assert r.status_code == 200
    with rt.sessions() as db, db.begin():
        assert orders.do_mark_refunded(db, SYSTEM_PAYMENTS, order_id)
    assert shop.status(order_id) == "refunded"
    with rt.sessions() as db:
        assert orders.count_gmv_fen(db, world.base_a, year, year) == 0
