"""Helpers for the payment tests: orders, a runtime whose public URL is a live server, and
a real HTTP server in a thread.

Orders are placed through the orders service, as a buyer would place them.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import uvicorn
from sqlalchemy import select, update

from livebase.accounts.service import Principal, resolve_token
from livebase.db import build_sessionmaker, utcnow
from livebase.features import install, load
from livebase.jobs.models import Job
from livebase.orders.models import Order
from livebase.runtime import Runtime
from tests.conftest import SYSTEM_TESTS, World

# A live server answers within this; a thread that has not started by then is a failure.
SERVER_START_TIMEOUT = 10.0


def make_order(
    rt: Runtime,
    world: World,
    buyer: str = "viewer",
    total_fen: int = 9900,
    status: str = "pending_payment",
) -> str:
    """An order of ``buyer`` for one unit of a brand A1 product priced ``total_fen``, placed
    through the orders service (checkout, then the payment mark for ``status="paid"``)."""
    from livebase.accounts.actors import SYSTEM_PAYMENTS
    from livebase.catalog import service as catalog
    from livebase.orders import service as orders

    if status not in ("pending_payment", "paid"):
        raise ValueError(f"make_order places pending or paid orders, not {status}")
    with rt.sessions() as db, db.begin():
        product = catalog.do_create_product(
            db,
            SYSTEM_TESTS,
            world.brand_a1,
            "纯棉圆领T恤",
            "240g 重磅面料，100%纯棉。",
            [catalog.SkuSpec({"颜色": "白"}, total_fen, 100)],
        )
        me = _principal_in(db, world, buyer)
        mine = orders.list_addresses(db, me)
        address = (
            mine[0]
            if mine
            else orders.do_create_address(
                db,
                me,
                orders.AddressSpec(
                    "张三", "13800000000", "北京市", "北京市", "朝阳区", "建国路 1 号"
                ),
            )
        )
        order = orders.do_checkout(
            db,
            me,
            show_id=None,
            lines=[orders.LineSpec(product.skus[0].id, 1)],
            destination=orders.check_destination(db, me, address.id, None),
        )
        if order.total_fen != total_fen:
            raise AssertionError(f"the order costs {order.total_fen}, not {total_fen}")
        if status == "paid":
            orders.do_mark_paid(db, SYSTEM_PAYMENTS, order.id, total_fen, "pay_helper")
        return order.id


def _principal_in(db: Any, world: World, name: str) -> Principal:
    p = resolve_token(db, world[name].token, kind="api")
    if p is None:
        raise AssertionError(f"{name}'s token does not resolve")
    return p


def order_status(rt: Runtime, order_id: str) -> str:
    with rt.sessions() as db:
        order = db.get(Order, order_id)
        assert order is not None
        return order.status


def expire(rt: Runtime, order_id: str) -> None:
    """What the expiry job does to an unpaid order at pay_by: its pay_by passes, then
    ``orders.service.do_expire`` (units and coupon back) as the sweep would."""
    from livebase.accounts.actors import SYSTEM_JOBS
    from livebase.orders import service as orders

    with rt.sessions() as db, db.begin():
        db.execute(
            update(Order)
            .where(Order.id == order_id, Order.status == "pending_payment")
            .values(pay_by=utcnow() - timedelta(seconds=1))
        )
        orders.do_expire(db, SYSTEM_JOBS, order_id)


def principal(rt: Runtime, world: World, name: str) -> Principal:
    with rt.sessions() as db:
        p = resolve_token(db, world[name].token, kind="api")
        assert p is not None
        db.expunge_all()
        return p


def jobs_of(rt: Runtime, kind: str) -> list[Job]:
    with rt.sessions() as db:
        rows = list(db.scalars(select(Job).where(Job.kind == kind).order_by(Job.id)))
        db.expunge_all()
        return rows


def make_due_now(rt: Runtime, kind: str) -> None:
    """Move the backoff's due time to now: the runner's clock, not a sleep."""
    with rt.sessions() as db, db.begin():
        db.execute(
            update(Job).where(Job.kind == kind, Job.done_at.is_(None)).values(due_at=utcnow())
        )


def runtime_with(rt: Runtime, **settings: Any) -> Runtime:
    """A runtime on the same database with other settings (a public URL, WeChat keys)."""
    new = Runtime(
        rt.settings.model_copy(update=settings),
        rt.engine,
        build_sessionmaker(rt.engine),
        rt.limiter,
        rt.redis,
    )
    install(new, load())
    return new


def reserve_port() -> socket.socket:
    """A bound socket (not yet listening: connecting to it is refused until a server
    starts on it), so a URL can be known before its server runs."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    return sock


def url_of(sock: socket.socket) -> str:
    return f"http://127.0.0.1:{sock.getsockname()[1]}"


@contextmanager
def serving(app: Any, sock: socket.socket) -> Iterator[None]:
    """Run ``app`` with uvicorn on ``sock`` in a thread until the block ends."""
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the test server did not start")
        time.sleep(0.01)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(SERVER_START_TIMEOUT)
