"""Flash sales and coupons through the API: creation sets units aside, open/close and the
job, orders with their refusals, idempotency, bad input and who may do what."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient

from livebase.db import utcnow
from livebase.orders import flash
from livebase.runtime import Runtime
from livebase.schemas import rfc3339
from livebase.shows import service as shows
from tests.conftest import SYSTEM_TESTS, World
from tests.orders.flashkit import Buyer, ledger, make_buyers, make_sale


def _sale_body(sku_id: str, **over: Any) -> dict[str, Any]:
    body = {
        "sku_id": sku_id,
        "price_fen": 990,
        "quantity": 10,
        "per_buyer_limit": 2,
        "starts_at": rfc3339(utcnow() + timedelta(minutes=5)),
        "ends_at": rfc3339(utcnow() + timedelta(hours=1)),
    }
    body.update(over)
    return body


def _order(client: TestClient, sale_id: str, b: Buyer, key: str, **over: Any) -> Any:
    body = {"quantity": 1, "address_id": b.address_id}
    body.update(over)
    return client.post(
        f"/api/v1/flash-sales/{sale_id}/orders",
        json=body,
        headers={**b.auth, "Idempotency-Key": key},
    )


def test_creating_a_sale_sets_its_quantity_aside_and_refuses_more_than_the_stock(
    client: TestClient, world: World, rt: Runtime
) -> None:
    sale = make_sale(rt, world, stock_units=30, quantity=5, open_now=False)
    host = world["host_a1"].auth
    r = client.post(
        f"/api/v1/shows/{sale.show_id}/flash-sales", json=_sale_body(sale.sku_id), headers=host
    )
    assert r.status_code == 201, r.text
    assert r.json()["status"] == "scheduled" and r.json()["remaining"] == 10
    assert ledger(rt, sale).sku_stock == 15
    r = client.post(
        f"/api/v1/shows/{sale.show_id}/flash-sales",
        json=_sale_body(sale.sku_id, quantity=16, per_buyer_limit=1),
        headers=host,
    )
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    assert ledger(rt, sale).sku_stock == 15


def test_a_body_with_a_price_or_a_bad_field_is_refused_and_changes_nothing(
    client: TestClient, world: World, rt: Runtime
) -> None:
    sale = make_sale(rt, world, quantity=5)
    (b,) = make_buyers(rt, 1)
    r = _order(client, sale.id, b, "k1", price_fen=1)
    assert r.status_code == 422 and r.json()["error"] == "validation_failed"
    r = _order(client, sale.id, b, "k1", total_fen=1)
    assert r.status_code == 422
    r = _order(client, sale.id, b, "k1", quantity=0)
    assert r.status_code == 422
    r = _order(client, sale.id, b, "k1", pickup_counter_id="pc_x")  # both destinations
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/flash-sales/{sale.id}/orders",
        json={"quantity": 1, "address_id": b.address_id},
        headers=b.auth,
    )
    assert r.status_code == 400 and r.json()["error"] == "idempotency_key_required"
    r = client.post(
        f"/api/v1/flash-sales/{sale.id}/orders",
        content=b"{",
        headers={**b.auth, "Idempotency-Key": "k", "Content-Type": "application/json"},
    )
    assert r.status_code == 400 and r.json()["error"] == "malformed_json"
    other = make_buyers(rt, 1, prefix="o")[0]
    r = _order(client, sale.id, b, "k2", address_id=other.address_id)  # not theirs
    assert r.status_code == 422 and r.json()["fields"][0]["loc"] == "body.address_id"
    r = _order(client, "fs_nope", b, "k3")
    assert r.status_code == 404
    r = client.post(
        f"/api/v1/flash-sales/{sale.id}/orders",
        json={"quantity": 1, "address_id": b.address_id},
        headers={"Idempotency-Key": "k4"},
    )
    assert r.status_code == 401
    body = _sale_body(sale.sku_id, per_buyer_limit=0)
    r = client.post(
        f"/api/v1/shows/{sale.show_id}/flash-sales", json=body, headers=world["host_a1"].auth
    )
    assert r.status_code == 422
    assert ledger(rt, sale).orders == 0 and ledger(rt, sale).remaining == 5


def test_orders_replay_conflict_limit_and_sold_out(
    client: TestClient, world: World, rt: Runtime
) -> None:
    sale = make_sale(rt, world, quantity=3, limit=2)
    a, b = make_buyers(rt, 2)
    first = _order(client, sale.id, a, "a-1")
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["status"] == "pending_payment" and body["total_fen"] == 990
    assert body["lines"][0]["quantity"] == 1 and body["pay_by"].endswith("Z")
    again = _order(client, sale.id, a, "a-1")
    assert again.status_code == 201 and again.json() == body
    r = _order(client, sale.id, a, "a-1", quantity=2)
    assert r.status_code == 409 and r.json()["error"] == "idempotency_conflict"
    r = _order(client, sale.id, a, "a-2", quantity=2)
    assert r.status_code == 409 and r.json()["error"] == "limit_exceeded"
    assert _order(client, sale.id, a, "a-3").status_code == 201
    assert _order(client, sale.id, b, "b-1").status_code == 201
    r = _order(client, sale.id, b, "b-2")
    assert r.status_code == 409 and r.json()["error"] == "sold_out"
    state = client.get(f"/api/v1/flash-sales/{sale.id}").json()
    assert state["status"] == "sold_out" and state["remaining"] == 0
    got = ledger(rt, sale)
    assert got.sold == 3 and got.orders == 3 and got.keys == 3
    assert got.per_buyer == {a.id: 2, b.id: 1}


def test_not_open_until_opened_then_closed_gives_unsold_units_back_once(
    client: TestClient, world: World, rt: Runtime
) -> None:
    sale = make_sale(rt, world, stock_units=20, quantity=5, open_now=False)
    (b,) = make_buyers(rt, 1)
    r = _order(client, sale.id, b, "k1")
    assert r.status_code == 409 and r.json()["error"] == "not_open"
    host = world["host_a1"].auth
    r = client.post(f"/api/v1/flash-sales/{sale.id}/open", headers=host)
    assert r.status_code == 200 and r.json()["status"] == "open"
    assert _order(client, sale.id, b, "k1").status_code == 201
    r = client.post(f"/api/v1/flash-sales/{sale.id}/close", headers=host)
    assert r.status_code == 200 and r.json()["status"] == "closed"
    assert client.post(f"/api/v1/flash-sales/{sale.id}/close", headers=host).status_code == 200
    got = ledger(rt, sale)
    assert got.returned == 4 and got.remaining == 0 and got.sku_stock == 15 + 4
    assert got.sku_stock + got.remaining + got.sold == sale.put_in
    r = _order(client, sale.id, b, "k2")
    assert r.status_code == 409 and r.json()["error"] == "not_open"


def test_the_job_opens_the_sale_at_starts_at(client: TestClient, world: World, rt: Runtime) -> None:
    sale = make_sale(rt, world, quantity=5, open_now=False)
    handler = rt.jobs.handler(flash.OPEN_JOB)
    assert handler is not None
    with rt.sessions() as db, db.begin():
        handler(db, {"sale_id": sale.id})
    assert client.get(f"/api/v1/flash-sales/{sale.id}").json()["status"] == "open"


def test_an_ended_show_refuses_to_open_its_sale(
    client: TestClient, world: World, rt: Runtime
) -> None:
    sale = make_sale(rt, world, quantity=5, open_now=False)
    with rt.sessions() as db, db.begin():
        shows.do_end(db, SYSTEM_TESTS, shows.get_show(db, sale.show_id))
    r = client.post(f"/api/v1/flash-sales/{sale.id}/open", headers=world["host_a1"].auth)
    assert r.status_code == 409 and r.json()["error"] == "show_ended"


def test_only_the_host_or_its_org_staff_manage_a_sale(
    client: TestClient, world: World, rt: Runtime
) -> None:
    sale = make_sale(rt, world, quantity=5, open_now=False)
    for name in ("host_ag", "viewer", "merchant_a2", "merchant_b1", "agency_a"):
        auth = world[name].auth
        for action in ("open", "close"):
            r = client.post(f"/api/v1/flash-sales/{sale.id}/{action}", headers=auth)
            assert r.status_code == 403, (name, action, r.text)
        r = client.post(
            f"/api/v1/shows/{sale.show_id}/flash-sales", json=_sale_body(sale.sku_id), headers=auth
        )
        assert r.status_code == 403, name
        r = client.post(
            f"/api/v1/shows/{sale.show_id}/coupons",
            json={
                "quantity": 1,
                "kind": "amount",
                "amount_fen": 500,
                "min_spend_fen": 0,
                "expires_at": rfc3339(utcnow() + timedelta(hours=1)),
            },
            headers=auth,
        )
        assert r.status_code == 403, name
    assert client.post(f"/api/v1/flash-sales/{sale.id}/open").status_code == 401
    r = client.post(f"/api/v1/flash-sales/{sale.id}/open", headers=world["merchant_a1"].auth)
    assert r.status_code == 200
    assert ledger(rt, sale).remaining == 5


def test_coupons_one_per_buyer_until_none_left(
    client: TestClient, world: World, rt: Runtime
) -> None:
    sale = make_sale(rt, world, quantity=1, open_now=False)
    host = world["host_a1"].auth
    expires = rfc3339(utcnow() + timedelta(hours=1))
    r = client.post(
        f"/api/v1/shows/{sale.show_id}/coupons",
        json={
            "quantity": 1,
            "kind": "percent",
            "amount_fen": 5,
            "min_spend_fen": 0,
            "expires_at": expires,
        },
        headers=host,
    )
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/shows/{sale.show_id}/coupons",
        json={
            "quantity": 1,
            "kind": "amount",
            "amount_fen": 500,
            "min_spend_fen": 5000,
            "expires_at": expires,
        },
        headers=host,
    )
    assert r.status_code == 201, r.text
    coupon = r.json()["id"]
    a, b = make_buyers(rt, 2)
    claim = f"/api/v1/coupons/{coupon}/claims"
    first = client.post(claim, headers={**a.auth, "Idempotency-Key": "c1"})
    assert first.status_code == 201, first.text
    again = client.post(claim, headers={**a.auth, "Idempotency-Key": "c1"})
    assert again.status_code == 201 and again.json() == first.json()
    r = client.post(claim, headers={**a.auth, "Idempotency-Key": "c2"})
    assert r.status_code == 409 and r.json()["error"] == "already_claimed"
    r = client.post(claim, headers={**b.auth, "Idempotency-Key": "c1"})
    assert r.status_code == 409 and r.json()["error"] == "sold_out"
    assert client.post(claim, headers=b.auth).status_code == 400
    assert client.get(f"/api/v1/coupons/{coupon}").json()["remaining"] == 0


def test_buyers_racing_for_the_last_coupon_one_wins(
    client: TestClient, world: World, rt: Runtime
) -> None:
    from livebase.accounts.service import resolve_token
    from livebase.errors import ApiError
    from livebase.orders import coupons

    sale = make_sale(rt, world, quantity=1, open_now=False)
    with rt.sessions() as db, db.begin():
        show = shows.get_show(db, sale.show_id)
        spec = coupons.CouponSpec(1, "amount", 500, None, None, 0, utcnow() + timedelta(hours=1))
        coupon_id = coupons.do_create_coupon(db, SYSTEM_TESTS, show, spec).id
    buyers = make_buyers(rt, 8)
    barrier = threading.Barrier(len(buyers))
    results: list[str] = []

    def claim(b: Buyer) -> None:
        with rt.sessions() as db:
            me = resolve_token(db, b.token, kind="api")
            assert me is not None
            barrier.wait(10)
            try:
                status, _ = coupons.do_claim(db, me, coupon_id, "race")
                results.append(str(status))
            except ApiError as exc:
                db.rollback()
                results.append(str(exc.code))

    threads = [threading.Thread(target=claim, args=(b,)) for b in buyers]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(results) == ["201"] + ["sold_out"] * (len(buyers) - 1)
    assert client.get(f"/api/v1/coupons/{coupon_id}").json()["remaining"] == 0


def test_a_revoked_token_stops_working_on_the_hot_path(
    client: TestClient, world: World, rt: Runtime
) -> None:
    sale = make_sale(rt, world, quantity=5, limit=5)
    (b,) = make_buyers(rt, 1)
    assert _order(client, sale.id, b, "t1").status_code == 201
    assert client.delete("/api/v1/auth/tokens/current", headers=b.auth).status_code == 204
    # The cache keeps a token at most 1 s; wait for the refusal with a bound.
    deadline = time.monotonic() + 10
    status = 201
    n = 0
    while status != 401 and time.monotonic() < deadline:
        n += 1
        status = _order(client, sale.id, b, f"t-next-{n}").status_code
        assert status in (201, 409, 401)  # 409: limit reached before the cache expired
    assert status == 401


def test_pickup_at_a_counter_of_the_sales_base_only(
    client: TestClient, world: World, rt: Runtime
) -> None:
    from livebase.bases import service as bases

    sale = make_sale(rt, world, quantity=5)
    with rt.sessions() as db, db.begin():
        here = bases.do_create_pickup_counter(
            db, SYSTEM_TESTS, world.base_a, "提货点", world.warehouse_a, "0101"
        ).id
    (b,) = make_buyers(rt, 1)
    body = {"quantity": 1, "pickup_counter_id": "pc_nope"}
    r = client.post(
        f"/api/v1/flash-sales/{sale.id}/orders",
        json=body,
        headers={**b.auth, "Idempotency-Key": "p1"},
    )
    assert r.status_code == 422 and r.json()["fields"][0]["loc"] == "body.pickup_counter_id"
    body["pickup_counter_id"] = here
    r = client.post(
        f"/api/v1/flash-sales/{sale.id}/orders",
        json=body,
        headers={**b.auth, "Idempotency-Key": "p1"},
    )
    assert r.status_code == 201, r.text
    assert r.json()["pickup_counter_id"] == here and r.json()["address_id"] is None
    got = ledger(rt, sale)
    assert got.sold == 1 and got.remaining == 4


def test_an_expired_token_is_refused_on_the_hot_path_and_a_valid_one_is_not(
    client: TestClient, world: World, rt: Runtime
) -> None:
    """The token cache resolves first-seen tokens in one query that filters kind, expiry
    and revocation in SQL; an expired token of one buyer must not pass, and must not stop
    another buyer's valid token resolved in the same way."""
    from sqlalchemy import update

    from livebase.accounts.models import AuthToken
    from livebase.db import utcnow

    sale = make_sale(rt, world, quantity=5, limit=5)
    late, fine = make_buyers(rt, 2)
    with rt.sessions() as db, db.begin():
        db.execute(
            update(AuthToken).where(AuthToken.user_id == late.id).values(expires_at=utcnow())
        )
    r = _order(client, sale.id, late, "e1")
    assert r.status_code == 401 and r.json()["error"] == "unauthenticated"
    assert _order(client, sale.id, fine, "e2").status_code == 201
    assert client.get(f"/api/v1/flash-sales/{sale.id}").json()["remaining"] == 4


def test_a_closed_account_cannot_buy_on_the_hot_path(
    client: TestClient, world: World, rt: Runtime
) -> None:
    """The token cache reads tokens joined to their users: a deactivated (banned)
    account's valid token is refused like an unknown one."""
    from sqlalchemy import update

    from livebase.accounts.models import User

    sale = make_sale(rt, world, quantity=5, limit=5)
    banned, fine = make_buyers(rt, 2)
    with rt.sessions() as db, db.begin():
        db.execute(update(User).where(User.id == banned.id).values(is_active=False))
    r = _order(client, sale.id, banned, "c1")
    assert r.status_code == 401 and r.json()["error"] == "unauthenticated"
    r = _order(client, sale.id, fine, "c2")
    assert r.status_code == 201, r.text
    assert client.get(f"/api/v1/flash-sales/{sale.id}").json()["remaining"] == 4
