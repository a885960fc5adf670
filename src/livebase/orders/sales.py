"""A brand's sales over time for its merchants' chart: paid orders and GMV per hour (the
last 24 hours) or per day (the last 30 days), for the whole brand or one show.

Counted like GMV (``service.count_gmv_fen``): orders by their payment time, not refunded
nor unpaid. Buckets are Beijing hours and days (the base's clock, ``web.forms.PAGE_TZ``),
every bucket present (a quiet hour is a zero, not a gap). The rows of the window are read
once and bucketed here: a brand's month is thousands of orders, not millions; the base
dashboard (a year of a whole base) has its own aggregate.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from livebase.db import utcnow
from livebase.orders.models import Order
from livebase.orders.service import UNPAID

Bucket = Literal["hour", "day"]
# Beijing time: the base's clock, as the pages show it.
TZ_OFFSET = timedelta(hours=8)
WINDOW = {"hour": 24, "day": 30}
STEP = {"hour": timedelta(hours=1), "day": timedelta(days=1)}


@dataclass(frozen=True)
class Series:
    bucket: Bucket
    starts: list[int]  # each bucket's start, unix seconds
    orders: list[int]
    gmv_fen: list[int]

    @property
    def total_orders(self) -> int:
        return sum(self.orders)

    @property
    def total_gmv_fen(self) -> int:
        return sum(self.gmv_fen)


def _floor(moment: datetime, bucket: Bucket) -> datetime:
    local = moment.astimezone(UTC) + TZ_OFFSET
    local = local.replace(minute=0, second=0, microsecond=0)
    if bucket == "day":
        local = local.replace(hour=0)
    return local - TZ_OFFSET


def sales_series(
    db: Session,
    org_id: str,
    bucket: Bucket,
    *,
    show_id: str | None = None,
    now: datetime | None = None,
) -> Series:
    n, step = WINDOW[bucket], STEP[bucket]
    last = _floor(now or utcnow(), bucket)
    first = last - step * (n - 1)
    q = select(Order.paid_at, Order.total_fen).where(
        Order.org_id == org_id,
        Order.paid_at.is_not(None),
        Order.paid_at >= first,
        Order.status.not_in(UNPAID),
    )
    if show_id is not None:
        q = q.where(Order.show_id == show_id)
    orders, gmv = [0] * n, [0] * n
    for paid_at, total in db.execute(q):
        if paid_at is None:  # excluded by the query; typed as optional
            continue
        at = paid_at if paid_at.tzinfo else paid_at.replace(tzinfo=UTC)
        i = int((_floor(at, bucket) - first) / step)
        if 0 <= i < n:
            orders[i] += 1
            gmv[i] += int(total)
    starts = [int((first + step * i).timestamp()) for i in range(n)]
    return Series(bucket, starts, orders, gmv)


@dataclass(frozen=True)
class ShowSales:
    show_id: str
    orders: int
    gmv_fen: int


def sales_by_show(db: Session, org_id: str) -> list[ShowSales]:
    """The brand's shows that sold something, best first (all time, paid and kept)."""
    rows = db.execute(
        select(Order.show_id, func.count(Order.id), func.coalesce(func.sum(Order.total_fen), 0))
        .where(
            Order.org_id == org_id,
            Order.show_id.is_not(None),
            Order.paid_at.is_not(None),
            Order.status.not_in(UNPAID),
        )
        .group_by(Order.show_id)
    ).all()
    out = [ShowSales(str(s), int(c), int(g)) for s, c, g in rows]
    return sorted(out, key=lambda r: (-r.gmv_fen, r.show_id))
