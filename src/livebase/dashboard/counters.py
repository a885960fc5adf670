"""The core figures of a base's plan (MetricSpec counters): GMV, paid orders, shows held,
live hours, brands incubated, new brands launched.

Each counter takes ``(db, base_id, start, end)``, a half-open interval of aware UTC
datetimes. A flow counter is **additive** over adjacent intervals (a year is the sum of its
months), which is what lets the dashboard read monthly rollups and still agree with
``GET /api/v1/bases/{id}`` to the fen. GMV and shows mirror ``orders.service.count_gmv_fen``
and ``shows.service.count_shows_held`` (which count whole years); they read those tables
directly because the dashboard needs any interval (docs/base-operations.md, "Metrics").
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from livebase.bases.models import Organisation
from livebase.orders.models import Order
from livebase.orders.service import UNPAID
from livebase.shows.models import Show

SECONDS_PER_HOUR = 3600


def _paid(base_id: str, start: datetime, end: datetime) -> ColumnElement[bool]:
    # Orders paid inside the interval and not since refunded or cancelled: the same rule
    # as count_gmv_fen. An order refunded later leaves the month it was paid in.
    return and_(
        Order.base_id == base_id,
        Order.paid_at >= start,
        Order.paid_at < end,
        Order.status.not_in(UNPAID),
    )


def count_gmv_fen(db: Session, base_id: str, start: datetime, end: datetime) -> int:
    value = db.scalar(
        select(func.coalesce(func.sum(Order.total_fen), 0)).where(_paid(base_id, start, end))
    )
    return int(value or 0)


def count_orders_paid(db: Session, base_id: str, start: datetime, end: datetime) -> int:
    return int(db.scalar(select(func.count()).where(_paid(base_id, start, end))) or 0)


def _held(base_id: str, start: datetime, end: datetime) -> ColumnElement[bool]:
    # A show is held once it has ended; it counts in the month it went live.
    return and_(
        Show.base_id == base_id,
        Show.status == "ended",
        Show.started_at >= start,
        Show.started_at < end,
    )


def count_shows_held(db: Session, base_id: str, start: datetime, end: datetime) -> int:
    return int(db.scalar(select(func.count(Show.id)).where(_held(base_id, start, end))) or 0)


def show_hours(started_at: datetime, ended_at: datetime) -> int:
    """One show's live time in whole hours, rounded half up (a 2 h 40 min show is 3 h).
    Rounding each show, not the total, keeps the figure additive across months."""
    seconds = max(0, int((ended_at - started_at).total_seconds()))
    return (seconds + SECONDS_PER_HOUR // 2) // SECONDS_PER_HOUR


def count_live_hours(db: Session, base_id: str, start: datetime, end: datetime) -> int:
    rows = db.execute(
        select(Show.started_at, Show.ended_at).where(
            _held(base_id, start, end), Show.ended_at.is_not(None)
        )
    )
    return sum(show_hours(s, e) for s, e in rows if s is not None and e is not None)


def count_brands_incubated(db: Session, base_id: str, start: datetime, end: datetime) -> int:
    """Cumulative: brands of the base flagged incubated that had launched before ``end``."""
    return int(
        db.scalar(
            select(func.count(Organisation.id)).where(
                Organisation.base_id == base_id,
                Organisation.kind == "brand",
                Organisation.incubated.is_(True),
                Organisation.launched_at < end,
            )
        )
        or 0
    )


def count_new_brands_launched(db: Session, base_id: str, start: datetime, end: datetime) -> int:
    return int(
        db.scalar(
            select(func.count(Organisation.id)).where(
                Organisation.base_id == base_id,
                Organisation.kind == "brand",
                Organisation.launched_at >= start,
                Organisation.launched_at < end,
            )
        )
        or 0
    )
