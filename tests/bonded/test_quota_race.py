"""Two orders racing for the last of a person's yearly quota cannot both pass, on SQLite
and PostgreSQL: the decisive statement raced by injection (tests/race.py) and the whole
payment path raced on threads."""

from __future__ import annotations

import threading

import pytest
from fastapi.testclient import TestClient

from livebase.bonded import quota
from livebase.bonded.orders import do_set_rules
from livebase.bonded.tax import Rules
from livebase.payments.parts import PAYMENTS
from livebase.payments.service import do_take_callback
from livebase.runtime import Runtime
from tests.bonded.helpers import PRICE, BondedShop, make_bonded_shop
from tests.conftest import SYSTEM_TESTS, World
from tests.race import interleave

JOIN_SECONDS = 60
LIMIT = 30_000  # room for one 200.00 order, not two


@pytest.fixture
def shop(rt: Runtime, world: World, client: TestClient) -> BondedShop:
    s = make_bonded_shop(rt, world, client)
    with rt.sessions() as db, db.begin():
        do_set_rules(
            db,
            SYSTEM_TESTS,
            "0101",
            Rules(per_order_fen=500_000, per_year_fen=LIMIT, reduced_bp=7000),
        )
    return s


@pytest.mark.parametrize("first_of_year", [True, False])
def test_a_reservation_landing_just_before_the_update_wins_and_the_other_is_refused(
    rt: Runtime, first_of_year: bool
) -> None:
    h = "h" * 64
    if not first_of_year:
        with rt.sessions() as db, db.begin():
            assert quota.do_reserve(db, h, 2026, 5_000, LIMIT)

    def other() -> None:
        with rt.sessions() as db, db.begin():
            assert quota.do_reserve(db, h, 2026, 20_000, LIMIT)

    with rt.sessions() as db:
        with interleave(rt.engine, "UPDATE bonded_quotas", other):
            took = quota.do_reserve(db, h, 2026, 20_000, LIMIT)
        db.commit()
    assert took is False
    with rt.sessions() as db:
        assert quota.used_fen(db, h, 2026) == 20_000 + (0 if first_of_year else 5_000)


def test_two_payments_racing_on_threads_reserve_the_last_of_the_quota_once(
    shop: BondedShop,
) -> None:
    a, b = shop.order(), shop.order()
    calls = [shop.signed_callback(o["id"]) for o in (a, b)]
    barrier = threading.Barrier(2)
    errors: list[BaseException] = []
    sandbox = shop.rt.part(PAYMENTS)

    def pay(headers: dict[str, str], body: bytes) -> None:
        try:
            barrier.wait(JOIN_SECONDS)
            with shop.rt.sessions() as db, db.begin():
                do_take_callback(db, sandbox, "sandbox", headers, body)
        except BaseException as exc:  # re-raised below
            errors.append(exc)

    threads = [threading.Thread(target=pay, args=call) for call in calls]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_SECONDS)
    assert not errors, errors
    statuses = sorted(shop.status(o["id"]) for o in (a, b))
    assert statuses == ["paid", "refund_requested"]
    r = shop.client.get(f"/api/v1/bonded/quota?identity_id={shop.identity}", headers=shop.auth())
    assert r.json()["used_fen"] == PRICE
    shop.run_jobs()
    assert sorted(shop.status(o["id"]) for o in (a, b)) == ["ready_for_pickup", "refunded"]
