"""The merchant's sales chart data: paid orders and GMV per Beijing hour or day, every
bucket present, refunded and unpaid orders left out, one show or the whole brand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from livebase.accounts.actors import SYSTEM_PAYMENTS
from livebase.orders import sales
from livebase.orders import service as orders
from livebase.orders.models import Order
from livebase.runtime import Runtime
from tests.conftest import World
from tests.orders.helpers import LIVE_PRICE, Shop, make_shop

# 2026-12-02 10:30 Beijing time.
NOW = datetime(2026, 12, 2, 2, 30, tzinfo=UTC)


@pytest.fixture
def shop(rt: Runtime, world: World) -> Shop:
    return make_shop(rt, world)


def _paid_at(shop: Shop, order_id: str, at: datetime) -> None:
    shop.pay(order_id)
    with shop.rt.sessions() as db, db.begin():
        db.execute(update(Order).where(Order.id == order_id).values(paid_at=at))


def test_orders_fall_into_beijing_hours_and_days(shop: Shop, world: World, rt: Runtime) -> None:
    a, b, c, d = (shop.place(1) for _ in range(4))
    unpaid = shop.place(1)
    _paid_at(shop, a, NOW - timedelta(minutes=20))  # 10:10 Beijing, this hour
    _paid_at(shop, b, NOW - timedelta(hours=2, minutes=40))  # 07:50 Beijing
    _paid_at(shop, c, NOW - timedelta(hours=10, minutes=45))  # 23:45 yesterday, Beijing
    _paid_at(shop, d, NOW - timedelta(minutes=5))
    with rt.sessions() as db, db.begin():
        assert orders.do_cancel(db, SYSTEM_PAYMENTS, orders.get_order(db, d)) == "refund_requested"
        assert orders.do_mark_refunded(db, SYSTEM_PAYMENTS, d)  # refunded: not counted
    with rt.sessions() as db:
        hours = sales.sales_series(db, world.brand_a1, "hour", now=NOW)
        days = sales.sales_series(db, world.brand_a1, "day", now=NOW)
        other = sales.sales_series(db, world.brand_a2, "day", now=NOW)
        by_show = sales.sales_by_show(db, world.brand_a1)
        none_of_show = sales.sales_series(db, world.brand_a1, "day", show_id="shw_x", now=NOW)
    assert len(hours.starts) == 24 and len(days.starts) == 30
    # The last hour bucket starts at 10:00 Beijing = 02:00 UTC.
    assert hours.starts[-1] == int(datetime(2026, 12, 2, 2, tzinfo=UTC).timestamp())
    assert hours.orders[-1] == 1 and hours.orders[-3] == 0 and hours.orders[-4] == 1
    assert hours.orders[-12] == 1  # 23:00 yesterday, 11 hours before 10:00
    assert hours.total_orders == 3 and hours.total_gmv_fen == 3 * LIVE_PRICE
    # Days are Beijing days: 23:45 yesterday is yesterday, though it is 15:45 UTC.
    assert days.starts[-1] == int(datetime(2026, 12, 1, 16, tzinfo=UTC).timestamp())
    assert (days.orders[-1], days.orders[-2]) == (2, 1)
    assert days.gmv_fen[-1] == 2 * LIVE_PRICE
    assert other.total_orders == 0 and none_of_show.total_orders == 0
    assert [(r.show_id, r.orders, r.gmv_fen) for r in by_show] == [(shop.show, 3, 3 * LIVE_PRICE)]
    assert unpaid not in (a, b, c)
