"""Shows and orders to count: shows made through the shows service, orders written with
the orders service's batch insert and then moved to the state and payment time a test
needs (a test may set the clock; the services would take hours to get there)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import update

from livebase.catalog import service as catalog
from livebase.db import new_id
from livebase.orders import service as orders
from livebase.orders.models import Order
from livebase.rooms.models import RoomFigures
from livebase.runtime import Runtime
from livebase.shows import service as shows
from livebase.shows.models import Show
from tests.conftest import SYSTEM_TESTS, World

NOW = datetime.now(UTC)


def make_show(
    rt: Runtime,
    org_id: str,
    host_id: str,
    title: str = "专场",
    *,
    status: str = "scheduled",
    started_at: datetime | None = None,
    ended_at: datetime | None = None,
    peak: int | None = None,
) -> str:
    with rt.sessions() as db, db.begin():
        show = shows.do_create_show(
            db, SYSTEM_TESTS, org_id, title, NOW + timedelta(hours=2), host_id
        )
        if status in ("live", "ended"):
            shows.do_start(db, SYSTEM_TESTS, show)
        if status == "ended":
            shows.do_end(db, SYSTEM_TESTS, show)
        if started_at is not None or ended_at is not None:
            values = {"started_at": started_at}
            if status == "ended":
                values["ended_at"] = ended_at
            db.execute(update(Show).where(Show.id == show.id).values(**values))
        if peak is not None:
            db.add(RoomFigures(show_id=show.id, peak_viewers=peak, timeline=[]))
        return show.id


def make_sku(rt: Runtime, org_id: str) -> tuple[str, str]:
    with rt.sessions() as db, db.begin():
        product = catalog.do_create_product(
            db, SYSTEM_TESTS, org_id, "京味礼盒", "", [catalog.SkuSpec({}, 10_000, 1000)]
        )
        return product.id, product.skus[0].id


def seed_order(
    rt: Runtime,
    world: World,
    *,
    org_id: str,
    base_id: str,
    show_id: str | None,
    sku: tuple[str, str],
    total_fen: int,
    status: str = "paid",
    paid_at: datetime | None = NOW,
) -> str:
    oid = new_id("ord")
    counter = _counter(rt, base_id)
    with rt.sessions() as db, db.begin():
        orders.do_insert_orders_batch(
            db,
            [
                orders.NewOrder(
                    id=oid,
                    buyer_id=world["viewer"].id,
                    org_id=org_id,
                    base_id=base_id,
                    show_id=show_id,
                    flash_sale_id=None,
                    sku_id=sku[1],
                    product_id=sku[0],
                    title="京味礼盒",
                    attrs={},
                    unit_price_fen=total_fen,
                    quantity=1,
                    total_fen=total_fen,
                    address_id=None,
                    pickup_counter_id=counter,
                    ship_to=None,
                    pay_by=NOW + timedelta(minutes=15),
                )
            ],
        )
        db.execute(
            update(Order)
            .where(Order.id == oid)
            .values(status=status, paid_at=paid_at if status != "pending_payment" else None)
        )
    return oid


def _counter(rt: Runtime, base_id: str) -> str:
    """Orders need a destination; a pickup counter needs no buyer's address."""
    from livebase.bases import service as bases

    with rt.sessions() as db, db.begin():
        found = bases.list_pickup_counters(db, base_id)
        if found:
            return found[0].id
        wh = bases.warehouses_of(db, base_id)
        if not wh:
            wh = [
                bases.do_create_warehouse(db, SYSTEM_TESTS, base_id, "仓", "0101", "T0101W000009")
            ]
        return bases.do_create_pickup_counter(
            db, SYSTEM_TESTS, base_id, "柜台", wh[0].id, "0101"
        ).id


def page_login(client: TestClient, username: str) -> str:
    """Sign in through the page form; returns the CSRF token the next pages carry."""
    page = client.get("/login").text
    token = re.search(r'name="form_token" value="([^"]+)"', page)
    assert token
    r = client.post(
        "/login",
        data={
            "username": username,
            "password": "password-123",
            "form_token": token.group(1),
            "next": "/",
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    found = re.search(r'name="csrf-token" content="([^"]*)"', client.get("/").text)
    assert found
    return found.group(1)
