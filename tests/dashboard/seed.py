"""Seeded records for the dashboard's tests: orders and shows spread over the last months
of base A (and a little of base B), written as rows, with the figures each month should
show kept beside them in Python, so the tests compare the dashboard with sums it never
computed."""

from __future__ import annotations

import secrets
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select

from livebase.accounts.actors import SystemActor
from livebase.bases import service as bases
from livebase.bases.models import Organisation
from livebase.dashboard import months
from livebase.db import utcnow
from livebase.orders.models import Order
from livebase.shows.models import Show
from tests.conftest import World

SEED = SystemActor("system:tests")
PAID_STATES = ("paid", "shipped", "completed", "refund_requested")
UNPAID_STATES = ("pending_payment", "cancelled", "expired", "refunded")


@dataclass
class Seeded:
    now: datetime
    expected: dict[tuple[str, str], int] = field(default_factory=lambda: defaultdict(int))

    def month(self, back: int) -> str:
        return months.add(months.key(self.now), -back)


def _at(month: str, day: int, hour: int) -> datetime:
    return months.start(month) + timedelta(days=day, hours=hour)


def seed(world: World) -> Seeded:
    """Base A: for each of the last 6 months (the current one too), orders in every state
    and shows of several lengths; two incubated brands launched months apart."""
    s = Seeded(utcnow())
    rt = world.rt
    with rt.sessions() as db, db.begin():
        counter = bases.do_create_pickup_counter(
            db, SEED, world.base_a, "柜台", world.warehouse_a, "0101"
        )
        for back in range(6):
            month = s.month(back)
            day_limit = max(0, min(20, s.now.day - 2)) if back == 0 else 20
            for i in range(5 + back):
                state = (PAID_STATES + UNPAID_STATES)[(i + back) % 8]
                total = 1000 * (back + 1) + 37 * i
                paid_at = _at(month, i % (day_limit + 1), 3)
                if state == "pending_payment":
                    paid_at = None
                db.add(
                    Order(
                        buyer_id=world["viewer"].id,
                        org_id=world.brand_a1,
                        base_id=world.base_a,
                        status=state,
                        goods_fen=total,
                        total_fen=total,
                        pickup_counter_id=counter.id,
                        pay_by=_at(month, 0, 1),
                        paid_at=paid_at,
                    )
                )
                if state in PAID_STATES:
                    s.expected[("gmv_fen", month)] += total
                    s.expected[("orders_paid", month)] += 1
            for j in range(back + 1):
                started = _at(month, j % (day_limit + 1), 10)
                minutes = 50 + 40 * j  # 50 min → 1 h, 90 → 2 h (half up), 130 → 2 h
                ended = j < back or back == 0
                db.add(
                    Show(
                        org_id=world.brand_a1,
                        base_id=world.base_a,
                        host_id=world["host_a1"].id,
                        title=f"show {month} {j}",
                        scheduled_at=started,
                        status="ended" if ended else "live",
                        public_id=secrets.token_hex(8),
                        stream_key="k",
                        started_at=started,
                        ended_at=started + timedelta(minutes=minutes) if ended else None,
                    )
                )
                if ended:
                    s.expected[("shows_held", month)] += 1
                    s.expected[("live_hours", month)] += (minutes * 60 + 1800) // 3600
        # Another base's orders never reach base A's figures.
        db.add(
            Order(
                buyer_id=world["viewer"].id,
                org_id=world.brand_b1,
                base_id=world.base_b,
                status="paid",
                goods_fen=999_999,
                total_fen=999_999,
                pickup_counter_id=counter.id,
                pay_by=s.now,
                paid_at=s.now - timedelta(minutes=1),
            )
        )
        for name, back, incubated in (("孵化甲", 4, True), ("孵化乙", 1, True), ("普通", 2, False)):
            org = bases.do_create_org(db, SEED, world.base_a, "brand", name)
            launched = _at(s.month(back), 3, 0)
            org.incubated, org.launched_at = incubated, launched
            s.expected[("new_brands_launched", s.month(back))] += 1
        db.flush()
        for back in range(-1, 30):
            month = s.month(back)
            end = months.end(month)
            orgs = db.scalars(select(Organisation).where(Organisation.base_id == world.base_a))
            s.expected[("brands_incubated", month)] = sum(
                1
                for o in orgs
                if o.kind == "brand" and o.incubated and o.launched_at and o.launched_at < end
            )
    return s
