"""Shows and orders for incubation tests: shows made and ended through the shows service
at chosen times, orders written straight into ``orders`` with chosen statuses (a fixture,
not a purchase: the figures only read what orders exist)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import update

from livebase.accounts.service import Principal, do_register
from livebase.orders.models import Order
from livebase.orders.service import AddressSpec, do_create_address
from livebase.rooms.counters import Figures
from livebase.rooms.service import do_store_figures
from livebase.runtime import Runtime
from livebase.shows import service as shows
from livebase.shows.models import Show
from tests.conftest import SYSTEM_TESTS, World

# Ten days ago at noon UTC: inside the rollup job's refresh window whatever day tests run.
T0 = (datetime.now(UTC) - timedelta(days=10)).replace(hour=12, minute=0, second=0, microsecond=0)


def held_show(
    rt: Runtime,
    org_id: str,
    host_id: str,
    started: datetime,
    minutes: int,
    *,
    peak: int = 0,
    watch_seconds: float = 0.0,
) -> str:
    """A show that ran from ``started`` for ``minutes``, with room figures."""
    with rt.sessions() as db, db.begin():
        show = shows.do_create_show(db, SYSTEM_TESTS, org_id, "测试专场", started, host_id)
        shows.do_start(db, SYSTEM_TESTS, show)
        shows.do_end(db, SYSTEM_TESTS, show)
        db.execute(
            update(Show)
            .where(Show.id == show.id)
            .values(started_at=started, ended_at=started + timedelta(minutes=minutes))
        )
        show_id = show.id
    if peak:  # after the end's own figures (the rooms' subscriber) were written
        with rt.sessions() as db, db.begin():
            show = shows.get_show(db, show_id)
            do_store_figures(db, show, Figures(peak, watch_seconds, 0, 0, 0, 0), final=True)
    return show_id


class Buyers:
    """Buyers with an address each, made once per test."""

    def __init__(self, rt: Runtime, n: int) -> None:
        self.rt = rt
        self.items: list[tuple[str, str]] = []
        with rt.sessions() as db, db.begin():
            for i in range(n):
                user = do_register(db, f"buyer_{i}", "password-123")
                adr = do_create_address(
                    db,
                    Principal(user),
                    AddressSpec("买家", "13800000000", "北京市", "北京市", "朝阳区", "1号"),
                )
                self.items.append((user.id, adr.id))


def add_orders(
    rt: Runtime,
    world: World,
    show_id: str,
    org_id: str,
    buyers: Buyers,
    totals: list[tuple[int, str]],
    *,
    base_id: str | None = None,
) -> None:
    """Orders of the show: (total_fen, status) each, buyers in turn."""
    with rt.sessions() as db, db.begin():
        for i, (total, status) in enumerate(totals):
            buyer, adr = buyers.items[i % len(buyers.items)]
            paid = None if status in ("pending_payment", "cancelled", "expired") else T0
            db.add(
                Order(
                    buyer_id=buyer,
                    org_id=org_id,
                    base_id=base_id or world.base_a,
                    show_id=show_id,
                    status=status,
                    goods_fen=total,
                    total_fen=total,
                    address_id=adr,
                    pay_by=T0 + timedelta(minutes=15),
                    paid_at=paid,
                )
            )
