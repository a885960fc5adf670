"""The flash-sale hot path under more load than its database slots: a batch that admission
refuses answers 503 ``overloaded`` with ``Retry-After`` and writes nothing (its key and
units are free again), and a bounded burst on the real server is answered — 201, 409 or a
quick 503 with ``Retry-After`` — never left hanging, with every 201 in the database."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
from fastapi.testclient import TestClient

from livebase.app import create_app
from livebase.db import build_sessionmaker
from livebase.features import install, load
from livebase.runtime import Runtime
from tests.conftest import World
from tests.orders.flashkit import ledger, make_buyers, make_sale, server

# A request answered (or refused) later than this has stalled (the queue timeout is 2 s).
STALL_BOUND_S = 10.0
BURST = 150


def _busy(rt: Runtime, **settings: Any) -> Runtime:
    # Its own sessionmaker: a Runtime binds its dispatcher and parts to its sessions.
    busy = Runtime(
        rt.settings.model_copy(update=settings),
        rt.engine,
        build_sessionmaker(rt.engine),
        rt.limiter,
        rt.redis,
    )
    install(busy, load())
    return busy


def test_a_batch_refused_by_admission_answers_503_with_retry_after_and_writes_nothing(
    rt: Runtime, world: World
) -> None:
    sale = make_sale(rt, world, quantity=5, limit=3)
    (b,) = make_buyers(rt, 1)
    busy = _busy(rt, db_concurrency=1, db_queue=8, db_queue_timeout=0.3)

    def order(c: TestClient, key: str) -> httpx.Response:
        return c.post(
            f"/api/v1/flash-sales/{sale.id}/orders",
            json={"quantity": 1, "address_id": b.address_id},
            headers={**b.auth, "Idempotency-Key": key},
        )

    with TestClient(create_app(runtime=busy)) as c:
        # Warm: the token is cached and the sale's owner loaded, so what follows needs the
        # database only for the batch.
        assert order(c, "k1").status_code == 201
        with c.portal.wrap_async_context_manager(busy.admission.slot()):
            r = order(c, "k2")
            assert r.status_code == 503, r.text
            assert r.json()["error"] == "overloaded" and r.json()["detail"]
            assert r.headers["Retry-After"] == "1"
            # Refused sold-out/limit answers need no slot and still come from memory.
            over = c.post(
                f"/api/v1/flash-sales/{sale.id}/orders",
                json={"quantity": 3, "address_id": b.address_id},
                headers={**b.auth, "Idempotency-Key": "k3"},
            )
            assert over.status_code == 409 and over.json()["error"] == "limit_exceeded"
            assert "Retry-After" not in over.headers
        got = ledger(rt, sale)
        assert got.sold == 1 and got.remaining == 4 and got.keys == 1
        # The refused key was never taken: the same request now succeeds.
        r = order(c, "k2")
        assert r.status_code == 201, r.text
        assert ledger(rt, sale).sold == 2
    busy.close()


async def _burst(url: str, sale_id: str, buyers: list[Any]) -> list[tuple[int, float, Any]]:
    limits = httpx.Limits(max_connections=BURST, max_keepalive_connections=BURST)
    async with httpx.AsyncClient(timeout=STALL_BOUND_S * 3, limits=limits) as client:

        async def one(i: int) -> tuple[int, float, Any]:
            b = buyers[i % len(buyers)]
            t0 = time.monotonic()
            r = await client.post(
                f"{url}/api/v1/flash-sales/{sale_id}/orders",
                json={"quantity": 1, "address_id": b.address_id},
                headers={**b.auth, "Idempotency-Key": f"burst-{i}"},
            )
            body = r.json()
            return r.status_code, time.monotonic() - t0, (r.headers.get("Retry-After"), body)

        return await asyncio.gather(*(one(i) for i in range(BURST)))


def test_a_burst_on_the_hot_path_is_answered_or_shed_quickly_never_stalled(
    rt: Runtime, world: World
) -> None:
    sale = make_sale(rt, world, stock_units=100, quantity=40, limit=1)
    buyers = make_buyers(rt, 100)
    # Two database slots and a short queue: the burst meets admission's bounds.
    with server(rt, "serve-burst.log", db_concurrency="2", db_queue="4") as (url, _proc):
        outcomes = asyncio.run(_burst(url, sale.id, buyers))
    statuses = sorted({s for s, _, _ in outcomes})
    assert set(statuses) <= {201, 409, 503}, statuses
    assert max(t for _, t, _ in outcomes) < STALL_BOUND_S
    for status, _, (retry_after, body) in outcomes:
        if status == 503:
            assert body["error"] == "overloaded" and retry_after is not None
            assert int(retry_after) >= 1
        if status == 409:
            assert body["error"] in ("sold_out", "limit_exceeded")
    created = [body["id"] for s, _, (_, body) in outcomes if s == 201]
    got = ledger(rt, sale)
    # Every 201 is in the database, and the database holds nothing else.
    assert set(created) == got.order_ids
    assert got.sold == len(created) <= 40 and got.sold + got.remaining == 40
    assert all(units <= 1 for units in got.per_buyer.values())
