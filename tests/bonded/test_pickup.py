"""The pickup counter: single-use, expiring codes; guessing limited per clerk and per
counter and logged; a clerk sees only its own counters' orders; the ID number never in an
answer or a log line of the whole flow."""

from __future__ import annotations

from datetime import timedelta

import pytest
import structlog.testing
from sqlalchemy import func, select, update

from livebase.accounts.service import do_grant, user_by_username
from livebase.bonded.models import BondedOrder, PickupAttempt
from livebase.bonded.pickup import CLERK_FAILURES
from livebase.db import utcnow
from tests.bonded.helpers import ID_BUYER, BondedShop
from tests.conftest import SYSTEM_TESTS


def ready(shop: BondedShop) -> tuple[str, str]:
    order = shop.order()
    assert shop.pay(order["id"]) == 204
    shop.run_jobs()
    code = shop.detail(order["id"])["pickup_code"]
    assert code is not None
    return str(order["id"]), str(code)


def lookup(shop: BondedShop, code: str, clerk: str = "clerk_a") -> tuple[int, dict[str, object]]:
    r = shop.client.post("/api/v1/pickup/lookups", json={"code": code}, headers=shop.auth(clerk))
    return r.status_code, r.json()


def handover(shop: BondedShop, code: str, last4: str = "002X", clerk: str = "clerk_a") -> int:
    r = shop.client.post(
        "/api/v1/pickup/handovers",
        json={"code": code, "id_last4": last4},
        headers=shop.auth(clerk),
    )
    return r.status_code


def test_a_code_is_used_once(shop: BondedShop) -> None:
    oid, code = ready(shop)
    assert lookup(shop, code)[0] == 200
    assert handover(shop, code) == 201
    assert handover(shop, code) == 404
    assert lookup(shop, code)[0] == 404
    assert shop.detail(oid)["pickup_code"] is None
    assert shop.status(oid) in ("picked_up", "tax_settled")


def test_a_wrong_last4_is_refused_and_changes_nothing(shop: BondedShop) -> None:
    oid, code = ready(shop)
    assert handover(shop, code, "0021") == 422
    assert shop.status(oid) == "ready_for_pickup"
    assert handover(shop, code, "002x") == 201


def test_an_expired_code_is_refused(shop: BondedShop) -> None:
    oid, code = ready(shop)
    with shop.rt.sessions() as db, db.begin():
        db.execute(
            update(BondedOrder)
            .where(BondedOrder.order_id == oid)
            .values(code_expires_at=utcnow() - timedelta(seconds=1))
        )
    assert lookup(shop, code)[0] == 404
    assert handover(shop, code) == 404
    assert shop.status(oid) == "ready_for_pickup"


def test_another_bases_clerk_cannot_see_the_order(shop: BondedShop) -> None:
    oid, code = ready(shop)
    status, body = lookup(shop, code, "clerk_b")
    assert status == 404 and oid not in str(body)
    assert handover(shop, code, clerk="clerk_b") == 404
    assert shop.status(oid) == "ready_for_pickup"


@pytest.mark.parametrize("user", ["viewer", "merchant_a1", "op_a", "admin"])
def test_only_clerks_use_the_counter(shop: BondedShop, user: str) -> None:
    _oid, code = ready(shop)
    assert lookup(shop, code, user)[0] == 403


def test_the_merchant_sees_the_order_but_never_the_pickup_code(shop: BondedShop) -> None:
    oid, _code = ready(shop)
    detail = shop.detail(oid, "merchant_a1")
    assert detail["pickup_code"] is None
    r = shop.client.get(f"/api/v1/bonded/orders/{oid}", headers=shop.auth("merchant_b1"))
    assert r.status_code == 404


def test_guessing_is_limited_per_clerk_and_logged(shop: BondedShop) -> None:
    oid, code = ready(shop)
    with structlog.testing.capture_logs() as logs:
        for n in range(CLERK_FAILURES):
            assert lookup(shop, f"{n:010d}")[0] == 404
        status, body = lookup(shop, code)  # even the right code, while limited
    assert status == 429 and body["error"] == "rate_limited"
    assert any(e.get("event") == "pickup guessing limited" for e in logs)
    assert code not in str(logs)
    with shop.rt.sessions() as db:
        failed = db.scalar(
            select(func.count()).select_from(PickupAttempt).where(PickupAttempt.outcome != "ok")
        )
    assert failed == CLERK_FAILURES
    assert shop.status(oid) == "ready_for_pickup"


def test_guessing_is_limited_per_counter_across_clerks(shop: BondedShop) -> None:
    from livebase.bonded.pickup import COUNTER_FAILURES

    _oid, code = ready(shop)
    clerks = []
    for n in range(COUNTER_FAILURES // CLERK_FAILURES):
        name = f"clerk_x{n}"
        shop.world.add_user(name)
        with shop.rt.sessions() as db, db.begin():
            user = user_by_username(db, name)
            assert user is not None
            do_grant(db, SYSTEM_TESTS, user, "clerk", counter_id=shop.counter)
        clerks.append(name)
    for clerk in clerks:
        for n in range(CLERK_FAILURES):
            assert lookup(shop, f"9{n:09d}", clerk)[0] == 404
    shop.world.add_user("clerk_fresh")
    with shop.rt.sessions() as db, db.begin():
        user = user_by_username(db, "clerk_fresh")
        assert user is not None
        do_grant(db, SYSTEM_TESTS, user, "clerk", counter_id=shop.counter)
    assert lookup(shop, code, "clerk_fresh")[0] == 429


def test_the_id_number_is_never_in_an_answer_or_a_log_line(
    shop: BondedShop, capfd: pytest.CaptureFixture[str]
) -> None:
    with structlog.testing.capture_logs() as logs:
        oid, code = ready(shop)
        answers = [
            shop.client.get(f"/api/v1/orders/{oid}", headers=shop.auth()).text,
            shop.client.get(f"/api/v1/bonded/orders/{oid}", headers=shop.auth()).text,
            shop.client.get("/api/v1/identities", headers=shop.auth()).text,
            shop.client.post(
                "/api/v1/pickup/lookups", json={"code": code}, headers=shop.auth("clerk_a")
            ).text,
        ]
        assert handover(shop, code) == 201
        shop.run_jobs()
    out, err = capfd.readouterr()
    for text in [*answers, str(logs), out, err]:
        assert ID_BUYER not in text
        assert ID_BUYER[6:14] not in text  # not even the birth date
