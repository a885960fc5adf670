"""Checkout of shelf items and instant buy at the live price: prices on the server only,
lines that keep what was bought, stock taken by conditional updates, Idempotency-Key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from livebase.runtime import Runtime
from tests.conftest import World
from tests.dbstate import changes, snapshot
from tests.orders.helpers import LIVE_PRICE, PRICE, STOCK, Shop, make_shop


@pytest.fixture
def shop(rt: Runtime, world: World) -> Shop:
    return make_shop(rt, world)


def _post(client: TestClient, world: World, body: dict, key: str = "k1", who: str = "viewer"):
    return client.post(
        "/api/v1/orders", json=body, headers={**world[who].auth, "Idempotency-Key": key}
    )


def test_instant_buy_from_a_show_pays_the_live_price_and_takes_the_units(
    client: TestClient, world: World, shop: Shop
) -> None:
    r = _post(client, world, shop.order_body(quantity=2))
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["status"] == "pending_payment"
    assert order["total_fen"] == 2 * LIVE_PRICE and order["goods_fen"] == 2 * LIVE_PRICE
    assert order["lines"] == [
        {
            "sku_id": shop.sku,
            "product_id": shop.product,
            "title": "纯棉圆领T恤",
            "attrs": {"颜色": "白", "尺码": "M"},
            "unit_price_fen": LIVE_PRICE,
            "quantity": 2,
            "line_total_fen": 2 * LIVE_PRICE,
        }
    ]
    assert order["ship_to"]["name"] == "张三" and order["address_id"] == shop.address
    pay_by = datetime.fromisoformat(order["pay_by"].replace("Z", "+00:00"))
    assert timedelta(minutes=14) < pay_by - datetime.now(UTC) <= timedelta(minutes=15)
    assert shop.stock() == STOCK - 2
    got = client.get(f"/api/v1/orders/{order['id']}", headers=world["viewer"].auth).json()
    assert [(t["from"], t["to"], t["actor"]) for t in got["timeline"]] == [
        (None, "pending_payment", world["viewer"].id)
    ]
    shop.identity()


def test_a_checkout_without_a_show_pays_the_listed_price(
    client: TestClient, world: World, shop: Shop
) -> None:
    body = {"lines": [{"sku_id": shop.sku2, "quantity": 1}], "address_id": shop.address}
    r = _post(client, world, body)
    assert r.status_code == 201, r.text
    assert r.json()["total_fen"] == PRICE + 1000 and r.json()["show_id"] is None


@pytest.mark.parametrize(
    "extra",
    [
        {"total_fen": 1},
        {"price_fen": 1},
        {"lines": [{"sku_id": "X", "quantity": 1, "unit_price_fen": 1}]},
        {"status": "paid"},
    ],
    ids=["total", "price", "line_price", "status"],
)
def test_a_body_carrying_a_price_is_refused_and_changes_nothing(
    client: TestClient, world: World, shop: Shop, extra: dict
) -> None:
    body = shop.order_body()
    if "lines" in extra:
        extra = {"lines": [{**extra["lines"][0], "sku_id": shop.sku}]}
    before = snapshot(shop.rt)
    r = _post(client, world, {**body, **extra})
    assert r.status_code == 422 and r.json()["error"] == "validation_failed", r.text
    assert changes(before, snapshot(shop.rt)) == ""


def test_a_line_keeps_title_attributes_and_price_after_the_listing_changes(
    client: TestClient, world: World, shop: Shop
) -> None:
    order = _post(client, world, shop.order_body()).json()
    r = client.patch(
        f"/api/v1/products/{shop.product}",
        json={"title": "新标题"},
        headers=world["merchant_a1"].auth,
    )
    assert r.status_code == 200, r.text
    r = client.patch(
        f"/api/v1/skus/{shop.sku}", json={"price_fen": 1}, headers=world["merchant_a1"].auth
    )
    assert r.status_code == 200, r.text
    again = client.get(f"/api/v1/orders/{order['id']}", headers=world["viewer"].auth).json()
    assert again["lines"][0]["title"] == "纯棉圆领T恤"
    assert again["lines"][0]["unit_price_fen"] == LIVE_PRICE
    assert again["total_fen"] == order["total_fen"]


def test_the_same_key_and_body_answer_the_first_response_once(
    client: TestClient, world: World, shop: Shop
) -> None:
    first = _post(client, world, shop.order_body(), key="same")
    second = _post(client, world, shop.order_body(), key="same")
    assert first.status_code == second.status_code == 201
    assert first.json() == second.json()
    assert shop.stock() == STOCK - 1
    listed = client.get("/api/v1/orders", headers=world["viewer"].auth).json()["items"]
    assert [o["id"] for o in listed] == [first.json()["id"]]


def test_the_same_key_with_another_body_is_a_conflict_and_a_missing_key_is_refused(
    client: TestClient, world: World, shop: Shop
) -> None:
    assert _post(client, world, shop.order_body(), key="k").status_code == 201
    before = snapshot(shop.rt)
    r = _post(client, world, shop.order_body(quantity=2), key="k")
    assert r.status_code == 409 and r.json()["error"] == "idempotency_conflict"
    r = client.post("/api/v1/orders", json=shop.order_body(), headers=world["viewer"].auth)
    assert r.status_code == 400 and r.json()["error"] == "idempotency_key_required"
    assert changes(before, snapshot(shop.rt)) == ""


def test_keys_are_per_user(client: TestClient, world: World, shop: Shop) -> None:
    world.add_user("buyer2")
    with shop.rt.sessions() as db, db.begin():
        addr = shop.address_of(db, shop.principal(db, "buyer2"))
    a = _post(client, world, shop.order_body(), key="shared")
    b = _post(client, world, shop.order_body(address_id=addr), key="shared", who="buyer2")
    assert a.status_code == b.status_code == 201 and a.json()["id"] != b.json()["id"]


def test_more_than_the_stock_is_sold_out_and_takes_nothing(
    client: TestClient, world: World, shop: Shop
) -> None:
    before = snapshot(shop.rt)
    r = _post(client, world, shop.order_body(quantity=STOCK + 1))
    assert r.status_code == 409 and r.json()["error"] == "sold_out"
    assert r.json()["sku_id"] == shop.sku
    assert changes(before, snapshot(shop.rt)) == ""


def test_a_sku_not_on_the_shows_shelf_and_another_buyers_address_are_refused(
    client: TestClient, world: World, shop: Shop
) -> None:
    r = _post(client, world, shop.order_body(lines=[{"sku_id": shop.sku2, "quantity": 1}]))
    assert r.status_code == 422 and r.json()["fields"][0]["loc"] == "body.lines.0.sku_id"
    r = _post(client, world, shop.order_body(), who="merchant_a1")  # the viewer's address
    assert r.status_code == 422 and r.json()["fields"][0]["loc"] == "body.address_id"


def test_an_ended_show_sells_nothing(client: TestClient, world: World, shop: Shop) -> None:
    r = client.post(f"/api/v1/shows/{shop.show}/end", headers=world["host_a1"].auth)
    assert r.status_code == 200, r.text
    r = _post(client, world, shop.order_body())
    assert r.status_code == 409 and r.json()["error"] == "show_ended"
    assert shop.stock() == STOCK


def test_addresses_are_the_buyers_own(client: TestClient, world: World, shop: Shop) -> None:
    body = {
        "name": "李四",
        "phone": "13900000000",
        "province": "北京市",
        "city": "北京市",
        "district": "东城区",
        "detail": "王府井大街1号",
    }
    r = client.post("/api/v1/addresses", json=body, headers=world["merchant_a1"].auth)
    assert r.status_code == 201, r.text
    mine = client.get("/api/v1/addresses", headers=world["merchant_a1"].auth).json()["items"]
    assert [a["id"] for a in mine] == [r.json()["id"]]
    viewer = client.get("/api/v1/addresses", headers=world["viewer"].auth).json()["items"]
    assert [a["id"] for a in viewer] == [shop.address]


def test_a_checkout_rolled_back_after_taking_the_units_leaves_the_stock_as_it_was(
    shop: Shop,
) -> None:
    """The units are taken by the checkout's first write; a rollback after it (a lost
    idempotency race, any failure) must give them back on both databases."""
    from livebase.orders import service as orders

    with shop.rt.sessions() as db:
        me = shop.principal(db)
        orders.do_checkout(
            db,
            me,
            show_id=shop.show,
            lines=[orders.LineSpec(shop.sku, 3)],
            destination=orders.check_destination(db, me, shop.address, None),
        )
        db.rollback()
    assert shop.stock() == STOCK
