"""The read-only queries this feature makes over other features' tables: paid orders
(``orders``), the rooms' stored peaks (``room_figures``), shows on air and the
application a brand joined through. Nothing here writes; every figure is computed when it
is asked for (a campaign page is refreshed on load), from the records, never typed in.

Counted like the base's GMV (``orders.service.count_gmv_fen``): an order counts by its
payment time, and not when unpaid or refunded (``orders.service.UNPAID``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from livebase.bases.models import Application
from livebase.db import utcnow
from livebase.orders.models import Order
from livebase.orders.service import UNPAID
from livebase.rooms.models import RoomFigures
from livebase.shows.models import Show

# A live show's peak so far, from the room counters (the stored row lags while live).
LivePeak = Callable[[str], int]


@dataclass(frozen=True)
class Sales:
    orders: int
    gmv_fen: int


def sales_of_shows(
    db: Session,
    show_ids: Sequence[str],
    start: datetime | None = None,
    end: datetime | None = None,
) -> Sales:
    """Paid, kept orders placed in these shows, paid inside [start, end) when given."""
    if not show_ids:
        return Sales(0, 0)
    q = select(func.count(Order.id), func.coalesce(func.sum(Order.total_fen), 0)).where(
        Order.show_id.in_(list(show_ids)),
        Order.paid_at.is_not(None),
        Order.status.not_in(UNPAID),
    )
    if start is not None:
        q = q.where(Order.paid_at >= start)
    if end is not None:
        q = q.where(Order.paid_at < end)
    count, total = db.execute(q).one()
    return Sales(int(count or 0), int(total or 0))


def sales_of_org(db: Session, org_id: str, start: datetime, end: datetime) -> int:
    """Paid GMV (fen) of one brand's orders paid in [start, end)."""
    value = db.scalar(
        select(func.coalesce(func.sum(Order.total_fen), 0)).where(
            Order.org_id == org_id,
            Order.paid_at.is_not(None),
            Order.paid_at >= start,
            Order.paid_at < end,
            Order.status.not_in(UNPAID),
        )
    )
    return int(value or 0)


def viewers_of_shows(db: Session, shows: Sequence[Show], live_peak: LivePeak | None = None) -> int:
    """The sum of each show's peak viewers: the room's stored peak, or for a live show
    the counters' peak so far when that is higher. A viewer of two shows counts twice
    (rooms keep no per-viewer record across shows)."""
    if not shows:
        return 0
    stored = dict(
        db.execute(
            select(RoomFigures.show_id, RoomFigures.peak_viewers).where(
                RoomFigures.show_id.in_([s.id for s in shows])
            )
        ).all()
    )
    total = 0
    for s in shows:
        peak = int(stored.get(s.id) or 0)
        if s.status == "live" and live_peak is not None:
            peak = max(peak, live_peak(s.id))
        total += peak
    return total


def hours_live(shows: Sequence[Show], now: datetime | None = None) -> float:
    """Hours on air: from start to end (or to now, for a show still live)."""
    now = now or utcnow()
    seconds = 0.0
    for s in shows:
        if s.started_at is None:
            continue
        seconds += max(((s.ended_at or now) - s.started_at).total_seconds(), 0.0)
    return round(seconds / 3600, 1)


def shows_by_id(db: Session, show_ids: Sequence[str]) -> list[Show]:
    if not show_ids:
        return []
    return list(db.scalars(select(Show).where(Show.id.in_(list(show_ids)))))


def shows_on_air(db: Session, org_id: str, start: datetime, end: datetime) -> int:
    """The brand's shows that went on air in [start, end)."""
    value = db.scalar(
        select(func.count(Show.id)).where(
            Show.org_id == org_id,
            Show.started_at.is_not(None),
            Show.started_at >= start,
            Show.started_at < end,
        )
    )
    return int(value or 0)


def joined_at(db: Session, org_ids: Sequence[str]) -> dict[str, datetime]:
    """When each brand joined through an approved application (brands the base created
    itself, without one, are absent)."""
    if not org_ids:
        return {}
    rows = db.execute(
        select(Application.org_id, Application.decided_at).where(
            Application.org_id.in_(list(org_ids)),
            Application.status == "approved",
        )
    ).all()
    out: dict[str, datetime] = {}
    for org_id, at in rows:
        if org_id is not None and at is not None:
            out[str(org_id)] = at if at.tzinfo else at.replace(tzinfo=UTC)
    return out
