"""A bonded order delivered to the buyer's address: it ships only once customs released it
(the merchant's waybill), then completes as any order does; the timeline records each
move. A pickup order never ships. Through the API and the merchant's order page."""

from __future__ import annotations

from livebase.bonded.customs import do_set_script
from livebase.catalog.models import Sku
from tests.bonded.helpers import PRICE, BondedShop
from tests.web.conftest import Browser

SHIP = {"carrier": "顺丰速运", "tracking_no": "SF1234567890"}


def ship(shop: BondedShop, order_id: str, user: str = "merchant_a1") -> tuple[int, dict]:
    r = shop.client.post(f"/api/v1/orders/{order_id}/ship", json=SHIP, headers=shop.auth(user))
    return r.status_code, r.json()


def test_a_delivery_order_ships_after_release_and_completes(shop: BondedShop) -> None:
    order = shop.order(pickup=False)
    assert shop.pay(order["id"]) == 204
    # paid, not yet declared or released: the goods may not leave the zone
    status, body = ship(shop, order["id"])
    assert status == 409 and "released" in body["detail"]
    assert shop.status(order["id"]) == "paid"
    shop.run_jobs()
    assert shop.status(order["id"]) == "released"
    assert ship(shop, order["id"], "merchant_a2")[0] == 404  # another brand's merchant
    status, body = ship(shop, order["id"])
    assert status == 200, body
    assert shop.status(order["id"]) == "shipped"
    assert ship(shop, order["id"])[0] == 409  # once
    r = shop.client.post(f"/api/v1/orders/{order['id']}/complete", headers=shop.auth())
    assert r.status_code == 200, r.text
    assert shop.status(order["id"]) == "completed"
    timeline = shop.client.get(f"/api/v1/orders/{order['id']}", headers=shop.auth()).json()[
        "timeline"
    ]
    moves = [(t["from"], t["to"], t["actor"]) for t in timeline]
    assert ("declared", "released", "system:customs") in moves
    assert ("released", "shipped", shop.world["merchant_a1"].id) in moves
    assert ("shipped", "completed", shop.world["viewer"].id) in moves
    note = next(t["note"] for t in timeline if t["to"] == "shipped")
    assert "SF1234567890" in note
    s = shop.client.get(
        f"/api/v1/bases/{shop.world.base_a}/bonded/summary", headers=shop.auth("op_a")
    ).json()
    assert s["by_state"] == {"completed": 1} and s["tax_collected_fen"] == 1_820


def test_a_shipped_bonded_order_is_returned_within_the_window_with_its_quota(
    shop: BondedShop,
) -> None:
    order = shop.order(pickup=False)
    shop.pay(order["id"])
    shop.run_jobs()
    assert ship(shop, order["id"])[0] == 200
    r = shop.client.post(
        f"/api/v1/bonded/orders/{order['id']}/returns", json={"reason": "过敏"}, headers=shop.auth()
    )
    assert r.status_code == 201, r.text
    q = shop.client.get(f"/api/v1/bonded/quota?identity_id={shop.identity}", headers=shop.auth())
    assert q.json()["used_fen"] == 0


def test_a_pickup_order_never_ships_and_a_detained_one_does_not_either(shop: BondedShop) -> None:
    pickup = shop.order()
    held = shop.order(pickup=False)
    with shop.rt.sessions() as db, db.begin():
        do_set_script(db, held["id"], [{"kind": "CEB622", "status": 501, "info": "扣留"}])
    for o in (pickup, held):
        shop.pay(o["id"])
    shop.run_jobs()
    assert shop.status(pickup["id"]) == "ready_for_pickup"
    status, body = ship(shop, pickup["id"])
    assert status == 409 and "counter" in body["detail"]
    assert shop.status(held["id"]) == "detained"
    assert ship(shop, held["id"])[0] == 409
    assert shop.status(pickup["id"]) == "ready_for_pickup"
    assert shop.status(held["id"]) == "detained"


def test_the_merchants_page_offers_the_waybill_form_only_after_release(
    shop: BondedShop, browser: Browser
) -> None:
    order = shop.order(pickup=False)
    shop.pay(order["id"])
    browser.sign_in("merchant_a1")
    page = browser.get(f"/merchant/orders/{order['id']}")
    assert page.status_code == 200 and 'data-testid="ship-form"' not in page.text
    shop.run_jobs()
    page = browser.get(f"/merchant/orders/{order['id']}")
    assert 'data-testid="ship-form"' in page.text
    r = browser.post(f"/merchant/orders/{order['id']}/ship", SHIP)
    assert r.status_code == 303, r.text
    assert shop.status(order["id"]) == "shipped"
    page = browser.get(f"/merchant/orders/{order['id']}")
    assert "SF1234567890" in page.text and 'data-testid="ship-form"' not in page.text
    assert order["total_fen"] == PRICE + 1_820


def _stock(shop: BondedShop) -> int:
    with shop.rt.sessions() as db:
        sku = db.get(Sku, shop.sku)
        assert sku is not None
        return sku.stock


def _quota_used(shop: BondedShop) -> int:
    r = shop.client.get(f"/api/v1/bonded/quota?identity_id={shop.identity}", headers=shop.auth())
    assert r.status_code == 200, r.text
    return int(r.json()["used_fen"])


def test_an_approved_refund_of_a_shipped_bonded_order_gives_back_quota_and_goods_once(
    shop: BondedShop, browser: Browser
) -> None:
    before = _stock(shop)
    order = shop.order(pickup=False)
    shop.pay(order["id"])
    shop.run_jobs()
    assert ship(shop, order["id"])[0] == 200
    assert _quota_used(shop) == PRICE and _stock(shop) == before - 1
    # The buyer's order page still leads to the customs page after shipment.
    browser.sign_in("viewer")
    page = browser.get(f"/me/orders/{order['id']}")
    assert f'href="/bonded/orders/{order["id"]}"' in page.text
    r = shop.client.post(
        f"/api/v1/orders/{order['id']}/refund-requests",
        json={"reason": "包装破损"},
        headers=shop.auth(),
    )
    assert r.status_code == 201, r.text
    request_id = r.json()["id"]
    # Another brand's merchant cannot approve it, and that changes nothing.
    wrong = shop.client.post(
        f"/api/v1/refund-requests/{request_id}/approve", headers=shop.auth("merchant_a2")
    )
    assert wrong.status_code == 404
    assert _quota_used(shop) == PRICE and _stock(shop) == before - 1
    r = shop.client.post(
        f"/api/v1/refund-requests/{request_id}/approve", headers=shop.auth("merchant_a1")
    )
    assert r.status_code == 200, r.text
    assert _quota_used(shop) == 0 and _stock(shop) == before
    shop.run_jobs()  # the provider takes the refund: refunded, nothing given back twice
    assert shop.status(order["id"]) == "refunded"
    assert _quota_used(shop) == 0 and _stock(shop) == before
    again = shop.client.post(
        f"/api/v1/refund-requests/{request_id}/approve", headers=shop.auth("merchant_a1")
    )
    assert again.status_code == 409
    assert _quota_used(shop) == 0 and _stock(shop) == before
    page = browser.get(f"/me/orders/{order['id']}")
    assert f'href="/bonded/orders/{order["id"]}"' in page.text


def test_a_plain_orders_page_has_no_customs_link(shop: BondedShop, browser: Browser) -> None:
    r = shop.client.post(
        "/api/v1/orders",
        json={"lines": [{"sku_id": shop.sku_plain, "quantity": 1}], "address_id": shop.address},
        headers={**shop.auth(), "Idempotency-Key": "plain-order-1"},
    )
    assert r.status_code == 201, r.text
    browser.sign_in("viewer")
    page = browser.get(f"/me/orders/{r.json()['id']}")
    assert page.status_code == 200 and "/bonded/orders/" not in page.text
