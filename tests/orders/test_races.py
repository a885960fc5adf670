"""Races that really race, on SQLite and PostgreSQL: threads with their own sessions and
connections, or a concurrent change injected just before a statement (tests/race.py)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest

from livebase.accounts.actors import SYSTEM_JOBS, SYSTEM_PAYMENTS
from livebase.errors import ApiError, Conflict
from livebase.orders import service as orders
from livebase.runtime import Runtime
from tests.conftest import World
from tests.orders.helpers import STOCK, Shop, make_shop
from tests.race import interleave

JOIN_SECONDS = 60


@pytest.fixture
def shop(rt: Runtime, world: World) -> Shop:
    return make_shop(rt, world)


def _expire(rt: Runtime, order_id: str) -> None:
    with rt.sessions() as db, db.begin():
        assert orders.do_expire(db, SYSTEM_JOBS, order_id)


def _pay(rt: Runtime, order_id: str) -> None:
    with rt.sessions() as db, db.begin():
        total = orders.get_order(db, order_id).total_fen
        assert orders.do_mark_paid(db, SYSTEM_PAYMENTS, order_id, total, "pay_race") == "paid"


def test_an_expiry_landing_just_before_the_payments_update_wins_and_the_payment_is_late(
    shop: Shop,
) -> None:
    order_id = shop.place(2)
    shop.overdue(order_id)
    with shop.rt.sessions() as db:
        total = orders.get_order(db, order_id).total_fen
        with interleave(shop.rt.engine, "UPDATE orders", lambda: _expire(shop.rt, order_id)):
            outcome = orders.do_mark_paid(db, SYSTEM_PAYMENTS, order_id, total, "pay_1")
        db.commit()
    assert outcome == "late"
    assert shop.status(order_id) == "expired"
    assert shop.stock() == STOCK
    shop.identity()


def test_a_payment_landing_just_before_the_expirys_update_wins_and_keeps_the_units(
    shop: Shop,
) -> None:
    order_id = shop.place(2)
    shop.overdue(order_id)
    with shop.rt.sessions() as db:
        with interleave(shop.rt.engine, "UPDATE orders", lambda: _pay(shop.rt, order_id)):
            expired = orders.do_expire(db, SYSTEM_JOBS, order_id)
        db.commit()
    assert expired is False
    assert shop.status(order_id) == "paid"
    assert shop.stock() == STOCK - 2
    shop.identity()


def test_a_cancel_and_an_expiry_racing_return_the_units_exactly_once(shop: Shop) -> None:
    order_id = shop.place(3)
    shop.overdue(order_id)
    with shop.rt.sessions() as db:
        me = shop.principal(db)
        order = orders.get_order(db, order_id)
        with (
            interleave(shop.rt.engine, "UPDATE orders", lambda: _expire(shop.rt, order_id)),
            pytest.raises(Conflict),
        ):
            orders.do_cancel(db, me, order)
        db.rollback()
    assert shop.status(order_id) == "expired"
    assert shop.stock() == STOCK
    shop.identity()


def test_two_returns_racing_for_one_order_give_the_units_back_once(shop: Shop) -> None:
    order_id = shop.place(4)
    shop.overdue(order_id)

    def other() -> None:
        with shop.rt.sessions() as db, db.begin():
            assert orders.do_return_units(db, orders.get_order(db, order_id))

    with shop.rt.sessions() as db:
        order = orders.get_order(db, order_id)
        with interleave(shop.rt.engine, "UPDATE orders", other):
            assert orders.do_return_units(db, order) is False
        db.commit()
    assert shop.stock() == STOCK


def _threads(n: int, fn) -> list[str]:
    barrier = threading.Barrier(n)
    results: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        barrier.wait(JOIN_SECONDS)
        out = fn(i)
        with lock:
            results.append(out)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_SECONDS)
        assert not t.is_alive(), "a buyer thread hung"
    assert len(results) == n
    return results


def test_many_buyers_racing_for_the_last_units_never_oversell(shop: Shop, world: World) -> None:
    """STOCK units, 3 × STOCK buyers each wanting one, all at once on their own sessions:
    exactly STOCK orders, stock 0, the identity holds."""
    n = 3 * STOCK

    def buy(i: int) -> str:
        try:
            shop.place(1)
        except ApiError as exc:
            return str(exc.code)
        return "ok"

    results = Counter(_threads(n, buy))
    assert results == {"ok": STOCK, "sold_out": n - STOCK}
    assert shop.stock() == 0
    shop.identity()


def test_payments_and_expiries_racing_on_many_orders_each_have_one_winner(shop: Shop) -> None:
    ids = [shop.place(1) for _ in range(6)]
    for order_id in ids:
        shop.overdue(order_id)

    def act(i: int) -> str:
        order_id = ids[i // 2]
        with shop.rt.sessions() as db, db.begin():
            if i % 2:
                return "expired" if orders.do_expire(db, SYSTEM_JOBS, order_id) else "-"
            total = orders.get_order(db, order_id).total_fen
            return orders.do_mark_paid(db, SYSTEM_PAYMENTS, order_id, total, f"p{i}")

    results = _threads(2 * len(ids), act)
    statuses = [shop.status(order_id) for order_id in ids]
    assert all(s in ("paid", "expired") for s in statuses)
    assert results.count("paid") == statuses.count("paid")
    assert results.count("expired") == statuses.count("expired")
    assert results.count("late") + results.count("-") == len(ids)
    assert shop.stock() == STOCK - statuses.count("paid")
    shop.identity()


def test_two_requests_racing_with_one_idempotency_key_make_one_order(shop: Shop) -> None:
    """Both find no record and both place an order; the second's record hits the key, its
    transaction (order and units) rolls back and it answers the first one's response."""
    from livebase.orders import api, idempotency

    scope = idempotency.scope_of("POST", "/api/v1/orders")
    body = shop.order_body()

    def request(i: int) -> str:
        with shop.rt.sessions() as db:
            me = shop.principal(db)

            def create() -> dict:
                dest = orders.check_destination(db, me, shop.address, None)
                order = orders.do_checkout(
                    db,
                    me,
                    show_id=shop.show,
                    lines=[orders.LineSpec(shop.sku, 1)],
                    destination=dest,
                )
                return orders.order_view(order)

            r = api.idempotent(db, me.id, scope, "same-key", body, create)
            assert r.status_code == 201
            return r.body.decode()

    answers = _threads(2, request)
    assert answers[0] == answers[1]
    assert shop.stock() == STOCK - 1
    shop.identity()


def test_a_request_that_loses_the_key_race_rolls_back_and_answers_the_winners_response(
    shop: Shop,
) -> None:
    """Deterministic: the loser has looked its key up (nothing yet) and is about to take
    its units when the winner, with the same key and body, runs and commits; the loser's
    key record then hits the winner's. (The winner buys another SKU: the test is about
    the key, and this keeps it from waiting on the loser's row lock.)"""
    from livebase.orders import api, idempotency

    scope = idempotency.scope_of("POST", "/api/v1/orders")
    body = shop.order_body()
    winner: list[str] = []

    def request(sku: str, show: str | None) -> str:
        with shop.rt.sessions() as db:
            me = shop.principal(db)

            def create() -> dict:
                dest = orders.check_destination(db, me, shop.address, None)
                order = orders.do_checkout(
                    db, me, show_id=show, lines=[orders.LineSpec(sku, 1)], destination=dest
                )
                return orders.order_view(order)

            r = api.idempotent(db, me.id, scope, "k-race", body, create)
            assert r.status_code == 201
            return r.body.decode()

    with interleave(
        shop.rt.engine,
        "UPDATE skus",
        lambda: winner.append(request(shop.sku2, None)),
    ):
        loser = request(shop.sku, shop.show)
    assert loser == winner[0] and shop.sku2 in loser
    assert shop.stock(shop.sku) == STOCK  # the loser's units came back with its rollback
    assert shop.stock(shop.sku2) == STOCK - 1
    shop.identity()
