"""What the flash-sale tests share: a product, a show and a sale made through the
services; buyers with tokens and addresses; the real server in a subprocess.

Addresses are inserted as rows here (the addresses service belongs to the orders work and
is not on this branch yet; the lead switches this to it on merge)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select

from livebase.accounts.service import do_issue_token, do_register
from livebase.catalog import service as catalog
from livebase.catalog import stock
from livebase.db import utcnow
from livebase.orders import flash
from livebase.orders.flash_models import FlashSaleBuyer
from livebase.orders.models import Address, FlashSale, IdempotencyRecord, Order, OrderLine
from livebase.runtime import Runtime
from livebase.shows import service as shows
from tests.conftest import SYSTEM_TESTS, World
from tests.jobs.helpers import child_env
from tests.live_server import _livebase, free_port, wait_ready


@dataclass
class Sale:
    id: str
    show_id: str
    sku_id: str
    put_in: int  # units the merchant put into the SKU


@dataclass
class Buyer:
    id: str
    token: str
    address_id: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def make_sale(
    rt: Runtime,
    world: World,
    *,
    stock_units: int = 100,
    quantity: int = 50,
    limit: int = 2,
    price_fen: int = 990,
    open_now: bool = True,
) -> Sale:
    with rt.sessions() as db, db.begin():
        product = catalog.do_create_product(
            db,
            SYSTEM_TESTS,
            world.brand_a1,
            "保温杯",
            "316 不锈钢，500ml。",
            [catalog.SkuSpec({"颜色": "白"}, 19900, stock_units)],
        )
        sku_id = product.skus[0].id
        show = shows.do_create_show(
            db, SYSTEM_TESTS, world.brand_a1, "秒杀专场", utcnow(), world["host_a1"].id
        )
        spec = flash.SaleSpec(
            sku_id,
            price_fen,
            quantity,
            min(limit, quantity),
            utcnow() + timedelta(hours=1),
            utcnow() + timedelta(hours=2),
        )
        sale = flash.do_create_sale(db, SYSTEM_TESTS, show, spec)
        if open_now:
            flash.do_open(db, SYSTEM_TESTS, sale)
        return Sale(sale.id, show.id, sku_id, stock_units)


def make_buyers(rt: Runtime, n: int, prefix: str = "b") -> list[Buyer]:
    out = []
    with rt.sessions() as db, db.begin():
        for i in range(n):
            user = do_register(db, f"{prefix}{i:05d}", "password-123")
            raw, _ = do_issue_token(db, user, kind="api", ttl_seconds=3600)
            adr = Address(
                user_id=user.id,
                name="张三",
                phone="13800000000",
                province="北京",
                city="北京",
                district="朝阳",
                detail="建国路 1 号",
            )
            db.add(adr)
            db.flush()
            out.append(Buyer(user.id, raw, adr.id))
    return out


@dataclass
class Ledger:
    sold: int
    orders: int
    keys: int
    remaining: int
    returned: int
    sku_stock: int
    per_buyer: dict[str, int]
    order_ids: set[str]
    key_orders: dict[tuple[str, str], str]  # (buyer, idempotency key) -> order id


def ledger(rt: Runtime, sale: Sale) -> Ledger:
    with rt.sessions() as db:
        row = db.get(FlashSale, sale.id)
        assert row is not None
        per_buyer = dict(
            db.execute(
                select(Order.buyer_id, func.sum(OrderLine.quantity))
                .join(OrderLine, OrderLine.order_id == Order.id)
                .where(Order.flash_sale_id == sale.id)
                .group_by(Order.buyer_id)
            ).all()
        )
        ids = set(db.scalars(select(Order.id).where(Order.flash_sale_id == sale.id)))
        key_orders = {
            (r.user_id, r.key): r.response["id"]
            for r in db.scalars(
                select(IdempotencyRecord).where(IdempotencyRecord.scope.like(f"%{sale.id}%"))
            )
        }
        keys = len(key_orders)
        counted = dict(
            db.execute(
                select(FlashSaleBuyer.buyer_id, FlashSaleBuyer.units).where(
                    FlashSaleBuyer.sale_id == sale.id
                )
            ).all()
        )
        assert counted == per_buyer  # the limit's counters agree with the orders
        return Ledger(
            sold=flash.units_sold(db, sale.id),
            orders=len(ids),
            keys=int(keys or 0),
            remaining=row.remaining,
            returned=row.returned,
            sku_stock=stock.current(db, sale.sku_id),
            per_buyer={k: int(v) for k, v in per_buyer.items()},
            order_ids=ids,
            key_orders=key_orders,
        )


@contextmanager
def server(
    rt: Runtime, log_name: str = "serve.log", **settings: str
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """`livebase serve` on a free port against ``rt``'s database (no job runner);
    ``settings`` are more LIVEBASE_* variables (``db_queue="0"``)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = child_env(rt)
    env.update(LIVEBASE_RUN_JOBS_IN_PROCESS="0", LIVEBASE_PUBLIC_URL=url)
    env.update({f"LIVEBASE_{k.upper()}": v for k, v in settings.items()})
    log_path = Path(rt.settings.data_dir) / log_name
    with log_path.open("ab") as log:
        proc = subprocess.Popen(
            [*_livebase(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_ready(url, proc, log_path)
            yield url, proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    os.kill(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
