"""Real races on the real server: many buyers with many concurrent requests on one sale,
two app processes selling the same sale, and `kill -9` in the middle of a sale.

Each test starts `livebase serve` in a subprocess against the test database and drives
it with httpx from threads; the assertions read the database afterwards."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import httpx

from livebase.runtime import Runtime
from tests.conftest import World
from tests.orders.flashkit import Buyer, Sale, ledger, make_buyers, make_sale, server

THREADS = 16
# Every request has an answer or a transport error well within this (the server is local).
TIMEOUT_S = 30.0


@dataclass
class Log:
    """What the clients saw: per (buyer, key) every answer's status and order id."""

    answers: dict[tuple[str, str], list[tuple[int, str | None]]] = field(default_factory=dict)
    transport_errors: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    created: int = 0
    enough: threading.Event = field(default_factory=threading.Event)
    enough_at: int = 0

    def note(self, buyer: str, key: str, status: int, order_id: str | None) -> None:
        with self.lock:
            self.answers.setdefault((buyer, key), []).append((status, order_id))
            if status == 201:
                self.created += 1
                if self.enough_at and self.created >= self.enough_at:
                    self.enough.set()

    def ok_ids(self) -> dict[tuple[str, str], set[str]]:
        return {k: {oid for s, oid in v if s == 201 and oid} for k, v in self.answers.items()}


def _drive(
    urls: list[str], sale: Sale, buyers: list[Buyer], per_buyer: int, log: Log
) -> Callable[[int], None]:
    local = threading.local()

    def one(n: int) -> None:
        b = buyers[n % len(buyers)]
        attempt = n // len(buyers)
        # Every buyer repeats its first key once (a retry after a lost answer).
        key = f"{b.id[-8:]}-{min(attempt, per_buyer - 1) if attempt < per_buyer else 0}"
        url = urls[n % len(urls)]
        client = getattr(local, "client", None)
        if client is None:
            client = local.client = httpx.Client(timeout=TIMEOUT_S)
        try:
            r = client.post(
                f"{url}/api/v1/flash-sales/{sale.id}/orders",
                json={"quantity": 1, "address_id": b.address_id},
                headers={**b.auth, "Idempotency-Key": key},
            )
        except httpx.TransportError:
            with log.lock:
                log.transport_errors += 1
            return
        log.note(b.id, key, r.status_code, r.json().get("id") if r.status_code == 201 else None)

    return one


def _run(one: Callable[[int], None], n: int) -> None:
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(one, range(n)))


def _check_invariants(rt: Runtime, sale: Sale, log: Log, *, sold_out: bool) -> None:
    got = ledger(rt, sale)
    ok = log.ok_ids()
    # One order per idempotency key, the same one on every replay.
    assert all(len(ids) <= 1 for ids in ok.values())
    answered = set().union(*ok.values())
    # Every 201 the clients saw is in the database ...
    assert answered <= got.order_ids
    # ... and nothing the database holds was answered with an error.
    assert set(got.key_orders.values()) == got.order_ids and got.orders == got.keys
    for key, order_id in got.key_orders.items():
        assert all(answer == (201, order_id) for answer in log.answers.get(key, []))
    # Nobody over the limit, never oversold, stock conserved.
    assert all(units <= 2 for units in got.per_buyer.values())
    assert got.sold <= 60 and got.sold + got.remaining == 60
    if sold_out:
        assert got.sold == 60
    assert got.sku_stock + got.remaining + got.sold + 0 == sale.put_in


def test_many_buyers_racing_on_one_sale_sell_exactly_the_quantity(
    rt: Runtime, world: World
) -> None:
    sale = make_sale(rt, world, stock_units=100, quantity=60, limit=2)
    buyers = make_buyers(rt, 40)
    log = Log()
    with server(rt) as (url, _proc):
        _run(_drive([url], sale, buyers, 4, log), len(buyers) * 5)
    _check_invariants(rt, sale, log, sold_out=True)
    assert log.transport_errors == 0
    assert len(ledger(rt, sale).order_ids) == sum(1 for ids in log.ok_ids().values() if ids)


def test_two_app_processes_selling_one_sale_never_oversell(rt: Runtime, world: World) -> None:
    sale = make_sale(rt, world, stock_units=100, quantity=60, limit=2)
    buyers = make_buyers(rt, 40)
    log = Log()
    with server(rt, "serve-a.log") as (url_a, _a), server(rt, "serve-b.log") as (url_b, _b):
        _run(_drive([url_a, url_b], sale, buyers, 4, log), len(buyers) * 5)
    _check_invariants(rt, sale, log, sold_out=True)
    assert log.transport_errors == 0


def test_kill_9_in_the_middle_of_a_sale_loses_no_answered_order(rt: Runtime, world: World) -> None:
    sale = make_sale(rt, world, stock_units=100, quantity=60, limit=2)
    buyers = make_buyers(rt, 40)
    log = Log(enough_at=15)
    with server(rt, "serve-killed.log") as (url, proc):
        one = _drive([url], sale, buyers, 4, log)
        killer = threading.Thread(
            target=lambda: log.enough.wait(TIMEOUT_S) and os.kill(proc.pid, signal.SIGKILL)
        )
        killer.start()
        _run(one, len(buyers) * 5)
        killer.join(TIMEOUT_S)
        assert proc.wait(TIMEOUT_S) == -signal.SIGKILL
    assert log.created >= 15
    # After the restart the sale goes on: the same keys replay their first answers.
    with server(rt, "serve-restarted.log") as (url, _proc):
        _run(_drive([url], sale, buyers, 4, log), len(buyers) * 5)
    _check_invariants(rt, sale, log, sold_out=True)
