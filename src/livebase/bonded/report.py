"""The operator's view of a base's bonded orders: declarations by state, the rejected and
detained ones with customs' reason, the day's pickups per counter, tax collected, and the
CSV a customs broker reconciles against (one row per order)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from livebase.bases import service as bases
from livebase.bonded.models import BondedOrder
from livebase.orders import service as orders
from livebase.schemas import rfc3339

PROBLEM_STATES = ("rejected", "detained", "under_review")
TAXED_STATES = (
    "released",
    "ready_for_pickup",
    "picked_up",
    "tax_settled",
    "closed",
    "shipped",
    "completed",
)
BROKER_COLUMNS = [
    "order_no",
    "status",
    "customs_code",
    "paid_at",
    "released_at",
    "goods_fen",
    "freight_fen",
    "discount_fen",
    "taxable_fen",
    "tariff_fen",
    "consumption_tax_fen",
    "vat_fen",
    "tax_fen",
    "full_tax",
    "id_number_masked",
    "pickup_counter_id",
    "picked_up_at",
    "customs_reason",
]


def _rows(db: Session, base_id: str) -> list[BondedOrder]:
    return list(db.scalars(select(BondedOrder).where(BondedOrder.base_id == base_id)))


def summary(db: Session, base_id: str, day: datetime | None = None) -> dict[str, Any]:
    rows = _rows(db, base_id)
    status = orders.statuses_of(db, [r.order_id for r in rows])
    start = (day or datetime.now(UTC)).replace(hour=0, minute=0, second=0, microsecond=0)
    end = start + timedelta(days=1)
    counters = {c.id: c.name for c in bases.list_pickup_counters(db, base_id)}
    pickups = Counter(
        r.picked_up_counter_id
        for r in rows
        if r.picked_up_at is not None and start <= r.picked_up_at < end
    )
    return {
        "base_id": base_id,
        "by_state": dict(sorted(Counter(status.get(r.order_id, "?") for r in rows).items())),
        "problems": [
            {
                "order_id": r.order_id,
                "status": status.get(r.order_id),
                "reason": r.last_reason or r.hold_reason,
            }
            for r in rows
            if status.get(r.order_id) in PROBLEM_STATES
            or (r.hold_reason and status.get(r.order_id) == "paid")
        ],
        "pickups": {
            "day": start.date().isoformat(),
            "counters": [
                {"counter_id": cid, "name": counters.get(cid or "", ""), "count": n}
                for cid, n in sorted(pickups.items(), key=lambda kv: str(kv[0]))
            ],
        },
        "tax_collected_fen": sum(r.tax_fen for r in rows if status.get(r.order_id) in TAXED_STATES),
    }


def broker_rows(db: Session, base_id: str) -> Iterator[list[str]]:
    from livebase.bonded import identities

    rows = _rows(db, base_id)
    status = orders.statuses_of(db, [r.order_id for r in rows])
    yield BROKER_COLUMNS
    for r in rows:
        order = orders.get_order(db, r.order_id)
        ident = identities.get_identity(db, r.identity_id)
        yield [
            r.order_no,
            status.get(r.order_id, ""),
            r.customs_code,
            rfc3339(order.paid_at) or "",
            rfc3339(r.released_at) or "",
            str(r.goods_fen),
            str(r.freight_fen),
            str(r.discount_fen),
            str(r.taxable_fen),
            str(r.tariff_fen),
            str(r.ct_fen),
            str(r.vat_fen),
            str(r.tax_fen),
            "1" if r.full_tax else "0",
            ident.masked,
            r.pickup_counter_id or "",
            rfc3339(r.picked_up_at) or "",
            r.last_reason or "",
        ]
