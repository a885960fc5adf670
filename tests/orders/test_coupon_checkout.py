"""Coupons end to end through the API: a host drops them, a buyer claims one and checks out
with ``coupon_claim_id``; the server computes the saving (amount, percent, percent with a
cap), enforces the minimum spend, the expiry, one use and the brand; a refused checkout
changes nothing. And an order picked up at a counter instead of shipped."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from livebase.bases import service as bases
from livebase.db import utcnow
from livebase.orders.models import Coupon
from livebase.runtime import Runtime
from livebase.schemas import rfc3339
from livebase.shows import service as shows
from tests.conftest import SYSTEM_TESTS, World
from tests.dbstate import changes, snapshot
from tests.orders.helpers import LIVE_PRICE, STOCK, Shop, make_shop


@pytest.fixture
def shop(rt: Runtime, world: World) -> Shop:
    return make_shop(rt, world)


def _drop(client: TestClient, world: World, show_id: str, who: str = "host_a1", **spec: Any) -> str:
    body = {
        "quantity": 10,
        "min_spend_fen": 0,
        "expires_at": rfc3339(utcnow() + timedelta(hours=1)),
    }
    body.update(spec)
    r = client.post(f"/api/v1/shows/{show_id}/coupons", json=body, headers=world[who].auth)
    assert r.status_code == 201, r.text
    coupon_id: str = r.json()["id"]
    return coupon_id


def _claim(client: TestClient, world: World, coupon_id: str, who: str = "viewer") -> str:
    r = client.post(
        f"/api/v1/coupons/{coupon_id}/claims",
        headers={**world[who].auth, "Idempotency-Key": f"claim-{coupon_id}"},
    )
    assert r.status_code == 201, r.text
    claim_id: str = r.json()["id"]
    return claim_id


def _checkout(
    client: TestClient, world: World, body: dict[str, Any], key: str, who: str = "viewer"
) -> Any:
    return client.post(
        "/api/v1/orders", json=body, headers={**world[who].auth, "Idempotency-Key": key}
    )


def test_an_amount_coupon_needs_its_minimum_spend_and_is_used_once(
    client: TestClient, world: World, shop: Shop, rt: Runtime
) -> None:
    coupon = _drop(client, world, shop.show, kind="amount", amount_fen=500, min_spend_fen=10000)
    claim = _claim(client, world, coupon)
    # One unit (79.00) is under the minimum spend (100.00): refused, nothing changes.
    before = snapshot(rt)
    r = _checkout(client, world, shop.order_body(1, coupon_claim_id=claim), "k1")
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    assert "at least 10000 fen" in r.json()["detail"]
    assert changes(before, snapshot(rt)) == ""
    # Two units (158.00): 5.00 off, computed here.
    r = _checkout(client, world, shop.order_body(2, coupon_claim_id=claim), "k2")
    assert r.status_code == 201, r.text
    order = r.json()
    assert (order["goods_fen"], order["discount_fen"], order["total_fen"]) == (
        2 * LIVE_PRICE,
        500,
        2 * LIVE_PRICE - 500,
    )
    assert order["coupon_claim_id"] == claim
    # The same claim again: used.
    before = snapshot(rt)
    r = _checkout(client, world, shop.order_body(2, coupon_claim_id=claim), "k3")
    assert r.status_code == 409 and "already used" in r.json()["detail"]
    assert changes(before, snapshot(rt)) == ""
    assert shop.stock() == STOCK - 2
    # Cancelled unpaid, the order gives its claim back; the next order uses it.
    r = client.post(f"/api/v1/orders/{order['id']}/cancel", headers=world["viewer"].auth)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = _checkout(client, world, shop.order_body(2, coupon_claim_id=claim), "k4")
    assert r.status_code == 201 and r.json()["discount_fen"] == 500
    shop.identity()


def test_percent_coupons_round_down_and_respect_their_cap(
    client: TestClient, world: World, shop: Shop
) -> None:
    capped = _claim(
        client, world, _drop(client, world, shop.show, kind="percent", percent=20, cap_fen=1000)
    )
    r = _checkout(client, world, shop.order_body(1, coupon_claim_id=capped), "p1")
    assert r.status_code == 201, r.text
    # 20% of 79.00 is 15.80; the cap is 10.00.
    assert (r.json()["discount_fen"], r.json()["total_fen"]) == (1000, LIVE_PRICE - 1000)
    plain = _claim(client, world, _drop(client, world, shop.show, kind="percent", percent=15))
    r = _checkout(client, world, shop.order_body(1, coupon_claim_id=plain), "p2")
    assert r.status_code == 201, r.text
    # 15% of 7900 fen is 1185 fen exactly.
    assert r.json()["discount_fen"] == 7900 * 15 // 100 == 1185
    # A body that names its own discount or total is refused before anything runs.
    body = shop.order_body(1, discount_fen=7899)
    assert _checkout(client, world, body, "p3").status_code == 422


def test_an_expired_anothers_or_another_brands_coupon_is_refused(
    client: TestClient, world: World, shop: Shop, rt: Runtime
) -> None:
    coupon = _drop(client, world, shop.show, kind="amount", amount_fen=300)
    mine = _claim(client, world, coupon)
    world.add_user("viewer2")
    theirs = _claim(client, world, coupon, "viewer2")
    host_a2 = world.add_user("host_a2", "host", base_id=world.base_a, org_id=world.brand_a2)
    with rt.sessions() as db, db.begin():
        other_show = shows.do_create_show(
            db, SYSTEM_TESTS, world.brand_a2, "乙的专场", utcnow(), host_a2.id
        ).id
    other_brand = _claim(
        client,
        world,
        _drop(client, world, other_show, who="merchant_a2", kind="amount", amount_fen=300),
    )
    before = snapshot(rt)
    r = _checkout(client, world, shop.order_body(1, coupon_claim_id=theirs), "e1")
    assert r.status_code == 422 and r.json()["fields"][0]["loc"] == "body.coupon_claim_id"
    r = _checkout(client, world, shop.order_body(1, coupon_claim_id=other_brand), "e2")
    assert r.status_code == 422 and "another brand" in r.json()["detail"]
    r = _checkout(client, world, shop.order_body(1, coupon_claim_id="ccl_nope"), "e3")
    assert r.status_code == 422
    assert changes(before, snapshot(rt)) == ""
    with rt.sessions() as db, db.begin():
        db.execute(
            update(Coupon)
            .where(Coupon.id == coupon)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    before = snapshot(rt)
    r = _checkout(client, world, shop.order_body(1, coupon_claim_id=mine), "e4")
    assert r.status_code == 409 and "expired" in r.json()["detail"]
    assert changes(before, snapshot(rt)) == ""
    # An expired coupon cannot be claimed either.
    r = client.post(
        f"/api/v1/coupons/{coupon}/claims",
        headers={**world["admin"].auth, "Idempotency-Key": "late"},
    )
    assert r.status_code == 409
    assert shop.stock() == STOCK


def test_a_coupon_never_makes_an_order_free(client: TestClient, world: World, shop: Shop) -> None:
    big = _claim(client, world, _drop(client, world, shop.show, kind="amount", amount_fen=100000))
    r = _checkout(client, world, shop.order_body(1, coupon_claim_id=big), "f1")
    assert r.status_code == 201, r.text
    assert (r.json()["discount_fen"], r.json()["total_fen"]) == (LIVE_PRICE - 1, 1)


def test_an_order_picked_up_at_a_counter_of_the_goods_base(
    client: TestClient, world: World, shop: Shop, rt: Runtime
) -> None:
    with rt.sessions() as db, db.begin():
        here = bases.do_create_pickup_counter(
            db, SYSTEM_TESTS, world.base_a, "望京提货点", world.warehouse_a, "0101"
        ).id
        wh_b = bases.do_create_warehouse(
            db, SYSTEM_TESTS, world.base_b, "顺义保税仓", customs_code="0102", ems_no="T0102W000001"
        ).id
        there = bases.do_create_pickup_counter(
            db, SYSTEM_TESTS, world.base_b, "顺义提货点", wh_b, "0102"
        ).id
    body = {"show_id": shop.show, "lines": [{"sku_id": shop.sku, "quantity": 1}]}
    before = snapshot(rt)
    r = _checkout(client, world, {**body, "pickup_counter_id": there}, "c1")
    assert r.status_code == 422 and r.json()["fields"][0]["loc"] == "body.pickup_counter_id"
    r = _checkout(client, world, {**body, "pickup_counter_id": "pc_nope"}, "c2")
    assert r.status_code == 422
    r = _checkout(
        client, world, {**body, "pickup_counter_id": here, "address_id": shop.address}, "c3"
    )
    assert r.status_code == 422  # one destination only
    assert changes(before, snapshot(rt)) == ""
    r = _checkout(client, world, {**body, "pickup_counter_id": here}, "c4")
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["pickup_counter_id"] == here
    assert order["address_id"] is None and order["ship_to"] is None
    assert order["total_fen"] == LIVE_PRICE
    got = client.get(f"/api/v1/orders/{order['id']}", headers=world["viewer"].auth).json()
    assert got["pickup_counter_id"] == here
    assert shop.stock() == STOCK - 1
    shop.identity()
