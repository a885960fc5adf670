"""A shop to buy from: a brand's product with two SKUs, a show with the first SKU on its
shelf at a live price, a buyer with an address. Made through the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from livebase.accounts.service import Principal, grants_of, user_by_username
from livebase.catalog import service as catalog
from livebase.catalog import stock
from livebase.orders import service as orders
from livebase.orders.models import Order, OrderLine
from livebase.runtime import Runtime
from livebase.shows import service as shows
from tests.conftest import SYSTEM_TESTS, World

PRICE = 9900
LIVE_PRICE = 7900
STOCK = 10


@dataclass
class Shop:
    rt: Runtime
    world: World
    product: str
    sku: str  # on the shelf at LIVE_PRICE
    sku2: str  # not on the shelf, PRICE + 1000
    show: str
    address: str  # the viewer's
    put_in: dict[str, int]

    def principal(self, db: Session, username: str = "viewer") -> Principal:
        user = user_by_username(db, username)
        assert user is not None
        return Principal(user, grants_of(db, user.id))

    def order_body(self, quantity: int = 1, **over: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "show_id": self.show,
            "lines": [{"sku_id": self.sku, "quantity": quantity}],
            "address_id": self.address,
        }
        body.update(over)
        return body

    def place(self, quantity: int = 1, username: str = "viewer", sku: str | None = None) -> str:
        """An order placed through the service (one transaction)."""
        with self.rt.sessions() as db, db.begin():
            me = self.principal(db, username)
            dest = orders.check_destination(db, me, self.address_of(db, me), None)
            order = orders.do_checkout(
                db,
                me,
                show_id=self.show,
                lines=[orders.LineSpec(sku or self.sku, quantity)],
                destination=dest,
            )
            return order.id

    def address_of(self, db: Session, me: Principal) -> str:
        mine = orders.list_addresses(db, me)
        if mine:
            return mine[0].id
        return orders.do_create_address(
            db, me, orders.AddressSpec("王五", "13800000002", "北京市", "北京市", "海淀区", "1号")
        ).id

    def pay(self, order_id: str) -> str:
        from livebase.accounts.actors import SYSTEM_PAYMENTS

        with self.rt.sessions() as db, db.begin():
            total = orders.get_order(db, order_id).total_fen
            return orders.do_mark_paid(db, SYSTEM_PAYMENTS, order_id, total, "pay_test")

    def overdue(self, order_id: str) -> None:
        """Move the order's pay_by into the past, as the clock would."""
        with self.rt.sessions() as db, db.begin():
            db.execute(
                update(Order)
                .where(Order.id == order_id)
                .values(pay_by=datetime.now(UTC) - timedelta(seconds=1))
            )

    def status(self, order_id: str) -> str:
        with self.rt.sessions() as db:
            return orders.get_order(db, order_id).status

    def stock(self, sku: str | None = None) -> int:
        with self.rt.sessions() as db:
            return stock.current(db, sku or self.sku)

    def identity(self) -> None:
        """Units sold + units held by open orders + units left == units put in, per SKU.
        Sold: paid and not refunded-before-shipment (their units did not come back);
        held: awaiting payment. An order whose units came back counts in neither."""
        with self.rt.sessions() as db:
            for sku_id, put_in in self.put_in.items():
                taken = db.scalar(
                    select(func.coalesce(func.sum(OrderLine.quantity), 0))
                    .join(Order, Order.id == OrderLine.order_id)
                    .where(OrderLine.sku_id == sku_id, Order.units_returned_at.is_(None))
                )
                returned_states = db.scalar(
                    select(func.count(Order.id))
                    .join(OrderLine, Order.id == OrderLine.order_id)
                    .where(
                        OrderLine.sku_id == sku_id,
                        Order.units_returned_at.is_(None),
                        Order.status.in_(("cancelled", "expired")),
                    )
                )
                assert returned_states == 0, "a cancelled or expired order kept its units"
                left = stock.current(db, sku_id)
                assert int(taken or 0) + left == put_in, (sku_id, taken, left, put_in)


def make_shop(rt: Runtime, world: World) -> Shop:
    with rt.sessions() as db, db.begin():
        product = catalog.do_create_product(
            db,
            SYSTEM_TESTS,
            world.brand_a1,
            "纯棉圆领T恤",
            "240g 重磅面料",
            [
                catalog.SkuSpec({"颜色": "白", "尺码": "M"}, PRICE, STOCK),
                catalog.SkuSpec({"颜色": "黑", "尺码": "L"}, PRICE + 1000, STOCK),
            ],
        )
        skus = [s.id for s in product.skus]
        show = shows.do_create_show(
            db,
            SYSTEM_TESTS,
            world.brand_a1,
            "冬季专场",
            datetime.now(UTC) + timedelta(hours=1),
            world["host_a1"].id,
        )
        shows.do_set_shelf(db, SYSTEM_TESTS, show, [shows.ShelfSpec(skus[0], LIVE_PRICE)])
        user = user_by_username(db, "viewer")
        assert user is not None
        me = Principal(user, grants_of(db, user.id))
        address = orders.do_create_address(
            db,
            me,
            orders.AddressSpec("张三", "13800000001", "北京市", "北京市", "朝阳区", "望京街1号"),
        )
        return Shop(
            rt, world, product.id, skus[0], skus[1], show.id, address.id, {s: STOCK for s in skus}
        )
