"""A burst at the bonded endpoints of a cold real server (the shape of tests/test_burst.py):
viewers asking for a quote and a clerk's counter looking up codes, a few hundred requests
together, twice. Every request is answered within the stall bound — 200, a 4xx in the
contract's shape (a look-up of an unknown code is 404, guessing past the limit 429), or a
quick 503 `overloaded` with `Retry-After` — never a 500, never a stall."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest
from sqlalchemy import select

from livebase.accounts.service import Principal, do_issue_token, grants_of, user_by_username
from livebase.bonded import identities
from livebase.catalog.models import Product, Sku
from livebase.runtime import Runtime
from tests.bonded.helpers import ID_BUYER
from tests.test_burst import STALL_BOUND_S, LiveServer, cold_server  # noqa: F401 (fixture)

BURST = 200
WAVES = 2


@dataclass
class BondedTargets:
    server: LiveServer
    clerk_token: str
    identity_id: str
    sku_id: str


@pytest.fixture
def targets(rt: Runtime, cold_server: LiveServer) -> Iterator[BondedTargets]:  # noqa: F811
    # Written straight to the database: the server has answered nothing but /healthz.
    with rt.sessions() as db, db.begin():
        viewer = user_by_username(db, "viewer")
        clerk = user_by_username(db, "clerk")
        assert viewer is not None and clerk is not None
        ident = identities.do_create_identity(
            db, Principal(viewer, grants_of(db, viewer.id)), "张三", ID_BUYER
        )
        token, _ = do_issue_token(db, clerk, kind="api", ttl_seconds=3600)
        sku = db.scalars(
            select(Sku.id)
            .join(Product, Product.id == Sku.product_id)
            .where(Product.hs_code.is_not(None))
        ).first()
        assert sku is not None
        ident_id = ident.id
    yield BondedTargets(cold_server, token, ident_id, sku)


async def _one(
    c: httpx.AsyncClient, path: str, body: object, token: str
) -> tuple[int | None, str, str | None]:
    try:
        r = await c.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    except httpx.TimeoutException:
        return None, path, None
    return r.status_code, r.text, r.headers.get("retry-after")


async def _burst(t: BondedTargets, n: int) -> list[tuple[int | None, str, str | None]]:
    quote = (
        "/api/v1/bonded/quotes",
        {"identity_id": t.identity_id, "lines": [{"sku_id": t.sku_id, "quantity": 1}]},
        t.server.token,
    )
    lookup = ("/api/v1/pickup/lookups", {"code": "0000000000"}, t.clerk_token)
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    timeout = httpx.Timeout(STALL_BOUND_S, connect=STALL_BOUND_S)
    async with httpx.AsyncClient(base_url=t.server.url, limits=limits, timeout=timeout) as c:
        calls = [_one(c, *(quote if i % 2 == 0 else lookup)) for i in range(n)]
        return list(await asyncio.gather(*calls))


def test_a_burst_at_quotes_and_pickup_lookups_is_answered_never_stalls(
    targets: BondedTargets,
) -> None:
    outcomes = [o for _ in range(WAVES) for o in asyncio.run(_burst(targets, BURST))]
    stalled = [o for o in outcomes if o[0] is None]
    assert not stalled, f"{len(stalled)} of {len(outcomes)} requests stalled"
    odd = [o[:2] for o in outcomes if o[0] not in (200, 404, 429, 503)]
    assert not odd, f"unexpected answers: {odd[:5]}"
    for status, body, retry_after in outcomes:
        compact = body.replace(" ", "")
        if status == 200:
            assert '"allowed":true' in compact, body[:200]
        elif status == 404:
            assert '"error":"not_found"' in compact, body[:200]
        elif status == 429:
            assert '"error":"rate_limited"' in compact and retry_after is not None
        elif status == 503:
            assert '"error":"overloaded"' in compact, body[:200]
            assert retry_after is not None and retry_after.isdigit()
    assert any(o[0] == 200 for o in outcomes)  # quotes were served, not all shed
    log = targets.server.log.read_text("utf-8", "replace")
    assert "TimeoutError" not in log and "Traceback" not in log, log[-2000:]
    # afterwards a quote is served normally
    r = httpx.post(
        targets.server.url + "/api/v1/bonded/quotes",
        json={
            "identity_id": targets.identity_id,
            "lines": [{"sku_id": targets.sku_id, "quantity": 1}],
        },
        headers={"Authorization": f"Bearer {targets.server.token}"},
        timeout=STALL_BOUND_S,
    )
    assert r.status_code == 200 and r.json()["allowed"] is True, r.text
