"""A bonded order from checkout to closed through the sandbox customs and the counter;
payer ≠ buyer holds it; quota at the edges, reserved on payment and given back."""

from __future__ import annotations

from sqlalchemy import select

from livebase.bonded import ceb
from livebase.bonded.models import CustomsMessage
from tests.bonded.helpers import ID_OTHER, PRICE, BondedShop
from tests.conftest import SYSTEM_TESTS


def quota_used(shop: BondedShop) -> int:
    r = shop.client.get(f"/api/v1/bonded/quota?identity_id={shop.identity}", headers=shop.auth())
    assert r.status_code == 200
    return int(r.json()["used_fen"])


def test_a_pickup_order_goes_from_payment_to_closed(shop: BondedShop) -> None:
    order = shop.order(quantity=2)
    assert order["total_fen"] == 2 * PRICE + 3_640  # 9.1% of 400.00
    assert order["status"] == "pending_payment"
    assert shop.pay(order["id"]) == 204
    assert shop.status(order["id"]) == "paid"
    assert quota_used(shop) == 2 * PRICE
    shop.run_jobs()
    assert shop.status(order["id"]) == "ready_for_pickup"
    with shop.rt.sessions() as db:
        msgs = {m.kind: m for m in db.scalars(select(CustomsMessage))}
    assert set(msgs) == {"CEB311", "CEB411", "CEB511", "CEB621"}
    parsed = ceb.check_set({k: m.xml for k, m in msgs.items()})
    head = parsed["CEB311"].head
    assert head["acturalPaid"] == ceb.yuan(order["total_fen"])
    assert head["isBuyAndPut"] == "1" and head["pickupStoreCode"] == "0101"
    detail = shop.detail(order["id"])
    code = detail["pickup_code"]
    assert code is not None and len(code) == 10
    assert detail["identity"]["id_number_masked"] == "110105********002X"
    look = shop.client.post(
        "/api/v1/pickup/lookups", json={"code": code}, headers=shop.auth("clerk_a")
    )
    assert look.status_code == 200, look.text
    assert look.json()["id_number_masked"] == "110105********002X"
    hand = shop.client.post(
        "/api/v1/pickup/handovers",
        json={"code": code, "id_last4": "002x"},
        headers=shop.auth("clerk_a"),
    )
    assert hand.status_code == 201, hand.text
    assert hand.json()["counter_id"] == shop.counter
    shop.run_jobs()
    assert shop.status(order["id"]) == "tax_settled"
    timeline = shop.client.get(f"/api/v1/orders/{order['id']}", headers=shop.auth()).json()[
        "timeline"
    ]
    moves = [(t["from"], t["to"], t["actor"]) for t in timeline]
    assert ("paid", "declared", "system:customs") in moves
    assert ("declared", "released", "system:customs") in moves
    assert ("ready_for_pickup", "picked_up", shop.world["clerk_a"].id) in moves
    assert ("picked_up", "tax_settled", "system:jobs") in moves


def test_a_payer_who_is_not_the_buyer_holds_the_order_and_says_why(shop: BondedShop) -> None:
    r = shop.client.post(
        "/api/v1/identities", json={"name": "李四", "id_number": ID_OTHER}, headers=shop.auth()
    )
    other = r.json()["id"]
    order = shop.order()
    assert shop.pay(order["id"], payer=shop.payer_of(other)) == 204
    shop.run_jobs()
    assert shop.status(order["id"]) == "paid"  # held: not declared
    detail = shop.detail(order["id"])
    assert "payer is not the buyer" in detail["hold_reason"]
    assert quota_used(shop) == 0
    with shop.rt.sessions() as db:
        assert db.scalars(select(CustomsMessage)).first() is None
    timeline = shop.client.get(f"/api/v1/orders/{order['id']}", headers=shop.auth()).json()[
        "timeline"
    ]
    assert any("付款人与订购人不一致" in (t["note"] or "") for t in timeline)
    # the buyer cancels it and is refunded
    r = shop.client.post(f"/api/v1/orders/{order['id']}/cancel", headers=shop.auth())
    assert r.status_code == 200, r.text
    assert shop.status(order["id"]) in ("refund_requested", "refunded")


def test_the_yearly_quota_is_reached_over_several_orders_and_the_next_is_refused(
    shop: BondedShop,
) -> None:
    from livebase.bonded.orders import do_set_rules
    from livebase.bonded.tax import Rules

    with shop.rt.sessions() as db, db.begin():  # district 0101: 500.00 per order, 1,000 a year
        do_set_rules(
            db,
            SYSTEM_TESTS,
            "0101",
            Rules(per_order_fen=50_000, per_year_fen=100_000, reduced_bp=7000),
        )
    for _ in range(5):  # 5 × 200.00 = 1,000.00: the year's limit exactly
        o = shop.order()
        assert shop.pay(o["id"]) == 204
    r = shop.client.get(f"/api/v1/bonded/quota?identity_id={shop.identity}", headers=shop.auth())
    assert r.json()["used_fen"] == 100_000
    q = shop.client.post(
        "/api/v1/bonded/quotes",
        json={"identity_id": shop.identity, "lines": [{"sku_id": shop.sku_food, "quantity": 1}]},
        headers=shop.auth(),
    )
    assert q.json()["allowed"] is False and q.json()["reason"] == "quota_exceeded"
    refused = shop.order(sku=shop.sku_food, expect=409)
    assert refused["error"] == "quota_exceeded"


def test_cancel_before_release_gives_the_quota_back(shop: BondedShop) -> None:
    from livebase.bonded.customs import do_set_script

    order = shop.order()
    with shop.rt.sessions() as db, db.begin():
        do_set_script(db, order["id"], [{"kind": "CEB622", "status": 300, "info": "人工审核"}])
    shop.pay(order["id"])
    shop.run_jobs()
    assert shop.status(order["id"]) == "under_review"
    assert quota_used(shop) == PRICE
    r = shop.client.post(
        f"/api/v1/bonded/orders/{order['id']}/cancel",
        json={"reason": "不要了"},
        headers=shop.auth(),
    )
    assert r.status_code == 200, r.text
    assert quota_used(shop) == 0
    shop.run_jobs()
    assert shop.status(order["id"]) == "cancelled"


def test_a_return_within_the_window_restores_the_quota(shop: BondedShop) -> None:
    order = shop.order(pickup=False)
    shop.pay(order["id"])
    shop.run_jobs()
    assert shop.status(order["id"]) == "released"
    assert quota_used(shop) == PRICE
    r = shop.client.post(
        f"/api/v1/bonded/orders/{order['id']}/returns", json={"reason": "过敏"}, headers=shop.auth()
    )
    assert r.status_code == 201, r.text
    assert shop.status(order["id"]) == "returned"
    assert quota_used(shop) == 0


def test_a_return_after_the_window_is_refused(shop: BondedShop) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from livebase.bonded.models import BondedOrder
    from livebase.db import utcnow

    order = shop.order(pickup=False)
    shop.pay(order["id"])
    shop.run_jobs()
    with shop.rt.sessions() as db, db.begin():
        db.execute(
            update(BondedOrder)
            .where(BondedOrder.order_id == order["id"])
            .values(released_at=utcnow() - timedelta(days=30, seconds=1))
        )
    r = shop.client.post(
        f"/api/v1/bonded/orders/{order['id']}/returns", json={"reason": "晚了"}, headers=shop.auth()
    )
    assert r.status_code == 409
    assert quota_used(shop) == PRICE


def test_an_imported_item_without_an_identity_or_mixed_with_domestic_goods_is_refused(
    shop: BondedShop,
) -> None:
    body = {"lines": [{"sku_id": shop.sku, "quantity": 1}], "pickup_counter_id": shop.counter}
    r = shop.client.post(
        "/api/v1/orders", json=body, headers={**shop.auth(), "Idempotency-Key": "no-id"}
    )
    assert r.status_code == 422 and r.json()["fields"][0]["loc"] == "body.identity_id"
    mixed = {
        "lines": [{"sku_id": shop.sku, "quantity": 1}, {"sku_id": shop.sku_plain, "quantity": 1}],
        "pickup_counter_id": shop.counter,
        "identity_id": shop.identity,
    }
    r = shop.client.post(
        "/api/v1/orders", json=mixed, headers={**shop.auth(), "Idempotency-Key": "mixed"}
    )
    assert r.status_code == 422
    # another user's identity
    r = shop.client.post(
        "/api/v1/orders",
        json={**body, "identity_id": shop.identity},
        headers={**shop.auth("merchant_a2"), "Idempotency-Key": "theirs"},
    )
    assert r.status_code == 422
    # a counter of another warehouse
    r = shop.client.post(
        "/api/v1/orders",
        json={**body, "identity_id": shop.identity, "pickup_counter_id": shop.counter_b},
        headers={**shop.auth(), "Idempotency-Key": "far"},
    )
    assert r.status_code == 422
