"""A host's figures: growth over a period computed from the records, the per-show rollup
the leaderboard reads, the leaderboard itself, and the ``hosts_incubated`` metric.

Definitions (docs/incubation.md):

- A show counts in a period by its ``started_at`` (a show never started held no hours);
  its hours live are ``started_at`` → ``ended_at`` (now, while it is live).
- Orders and GMV of a show: its orders that were paid and not refunded nor unpaid (the
  orders feature's GMV rule, ``orders.service.UNPAID``), attributed to the show whatever
  day they were paid on. Read here by a small grouped query over ``orders``; orders has no
  per-show aggregate in its service.
- Viewers: the room's figures of the show (``rooms.service.figures_of``): the peak, and the
  average over the period weighted by time (Σ watch seconds / Σ seconds live).
- Conversion: buyers per 10,000 peak viewers (basis points), Σ distinct buyers of each
  show / Σ peak viewers of each show; None without viewers.
- Compliance record: the host's script lines and captions held at the check (whatever a
  moderator then decided), rejected by a moderator, blocked outright; and chat lines the
  host sent that were held. Read from ``show_scripts`` and ``room_held_lines``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import and_, distinct, func, select
from sqlalchemy.orm import Session

from livebase.db import utcnow
from livebase.incubation.models import (
    Cohort,
    CohortMember,
    HostProfile,
    Promotion,
    ShowRollup,
)
from livebase.orders.models import Order
from livebase.orders.service import UNPAID
from livebase.rooms import service as rooms
from livebase.rooms.models import HeldLine
from livebase.shows.models import Show, ShowScript
from livebase.web.forms import PAGE_TZ

By = Literal["gmv", "hours", "orders"]
# Statements take at most this many ids in an IN list (well inside both databases'
# bound-parameter limits).
CHUNK = 500
# Orders keep moving after a show ends: payments within the pay window, refunds until the
# after-sale window closes (shipped → completed 10 days, then 15 days of refunds). The job
# keeps refreshing a show's rollup this long after it ended.
REFRESH_WINDOW = timedelta(days=45)
# Rollups refreshed per job run (every 2 minutes): a base's busiest 45 days are a few
# thousand shows, so each is refreshed at least every few runs.
REFRESH_BATCH = 500


def _chunks(ids: Sequence[str]) -> Iterable[Sequence[str]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i : i + CHUNK]


@dataclass(frozen=True)
class ShowSales:
    orders: int
    gmv_fen: int
    buyers: int


def sales_by_show(db: Session, show_ids: Sequence[str]) -> dict[str, ShowSales]:
    """Paid, kept orders per show: count, GMV and distinct buyers."""
    out: dict[str, ShowSales] = {}
    for chunk in _chunks(list(show_ids)):
        rows = db.execute(
            select(
                Order.show_id,
                func.count(Order.id),
                func.coalesce(func.sum(Order.total_fen), 0),
                func.count(distinct(Order.buyer_id)),
            )
            .where(
                Order.show_id.in_(chunk),
                Order.paid_at.is_not(None),
                Order.status.not_in(UNPAID),
            )
            .group_by(Order.show_id)
        )
        for show_id, n, gmv, buyers in rows:
            out[str(show_id)] = ShowSales(int(n), int(gmv), int(buyers))
    return out


def live_seconds(show: Show, now: datetime) -> int:
    if show.started_at is None:
        return 0
    return max(0, int(((show.ended_at or now) - show.started_at).total_seconds()))


# --- growth, from the records -----------------------------------------------------------


@dataclass(frozen=True)
class Compliance:
    scripts_held: int
    scripts_rejected: int
    scripts_blocked: int
    chat_held: int


@dataclass(frozen=True)
class Growth:
    start: datetime
    end: datetime
    shows: int
    live_seconds: int
    peak_viewers: int
    avg_viewers: float
    orders: int
    gmv_fen: int
    buyers: int
    conversion_bp: int | None
    compliance: Compliance

    @property
    def hours(self) -> float:
        return round(self.live_seconds / 3600, 1)


def growth_of(
    db: Session,
    profile: HostProfile,
    start: datetime,
    end: datetime,
    *,
    now: datetime | None = None,
) -> Growth:
    now = now or utcnow()
    show_list = list(
        db.scalars(
            select(Show).where(
                Show.host_id == profile.user_id,
                Show.org_id == profile.org_id,
                Show.started_at.is_not(None),
                Show.started_at >= start,
                Show.started_at < end,
            )
        )
    )
    sales = sales_by_show(db, [s.id for s in show_list])
    seconds = peak = watch_peak_sum = buyers = n_orders = gmv = 0
    watch = 0.0
    for show in show_list:
        seconds += live_seconds(show, now)
        fig = rooms.figures_of(db, show)
        if fig is not None:
            peak = max(peak, fig.peak_viewers)
            watch_peak_sum += fig.peak_viewers
            watch += fig.watch_seconds
        s = sales.get(show.id)
        if s is not None:
            n_orders, gmv, buyers = n_orders + s.orders, gmv + s.gmv_fen, buyers + s.buyers
    return Growth(
        start=start,
        end=end,
        shows=len(show_list),
        live_seconds=seconds,
        peak_viewers=peak,
        avg_viewers=round(watch / seconds, 1) if seconds else 0.0,
        orders=n_orders,
        gmv_fen=gmv,
        buyers=buyers,
        conversion_bp=round(10_000 * buyers / watch_peak_sum) if watch_peak_sum else None,
        compliance=compliance_of(db, profile, start, end),
    )


def compliance_of(db: Session, profile: HostProfile, start: datetime, end: datetime) -> Compliance:
    scripts = db.execute(
        select(ShowScript.status, ShowScript.moderation.is_not(None), func.count())
        .join(Show, Show.id == ShowScript.show_id)
        .where(
            ShowScript.author_id == profile.user_id,
            Show.org_id == profile.org_id,
            ShowScript.created_at >= start,
            ShowScript.created_at < end,
        )
        .group_by(ShowScript.status, ShowScript.moderation.is_not(None))
    ).all()
    held = sum(n for status, flagged, n in scripts if flagged and status != "blocked")
    rejected = sum(n for status, _, n in scripts if status == "rejected")
    blocked = sum(n for status, _, n in scripts if status == "blocked")
    chat = db.scalar(
        select(func.count(HeldLine.id))
        .join(Show, Show.id == HeldLine.show_id)
        .where(
            HeldLine.user_id == profile.user_id,
            Show.base_id == profile.base_id,
            HeldLine.created_at >= start,
            HeldLine.created_at < end,
        )
    )
    return Compliance(int(held), int(rejected), int(blocked), int(chat or 0))


# --- the rollup -------------------------------------------------------------------------


def _due_shows(db: Session, now: datetime) -> list[str]:
    """Shows whose rollup may have moved: live ones, ended ones without a rollup, and the
    rollups of the refresh window that were refreshed longest ago."""
    live = db.scalars(select(Show.id).where(Show.status == "live")).all()
    missing = db.scalars(
        select(Show.id)
        .outerjoin(ShowRollup, ShowRollup.show_id == Show.id)
        .where(Show.status == "ended", Show.started_at.is_not(None), ShowRollup.show_id.is_(None))
        .limit(REFRESH_BATCH)
    ).all()
    recent = db.scalars(
        select(ShowRollup.show_id)
        .where((ShowRollup.ended_at.is_(None)) | (ShowRollup.ended_at >= now - REFRESH_WINDOW))
        .order_by(ShowRollup.refreshed_at)
        .limit(REFRESH_BATCH)
    ).all()
    return list(dict.fromkeys([*live, *missing, *recent]))


def do_refresh_rollups(
    db: Session, *, show_ids: Sequence[str] | None = None, now: datetime | None = None
) -> int:
    """Recompute the rollup of the given shows (default: the ones due); returns how many
    rows were written. Every figure is recomputed from the records, so a refresh is
    idempotent and a lost one is made good by the next."""
    now = now or utcnow()
    ids = list(show_ids) if show_ids is not None else _due_shows(db, now)
    written = 0
    for chunk in _chunks(ids):
        shows = db.scalars(
            select(Show).where(Show.id.in_(chunk), Show.started_at.is_not(None))
        ).all()
        sales = sales_by_show(db, [s.id for s in shows])
        existing = {
            r.show_id: r
            for r in db.scalars(select(ShowRollup).where(ShowRollup.show_id.in_(chunk)))
        }
        for show in shows:
            _write_rollup(db, show, existing.get(show.id), sales.get(show.id), now)
            written += 1
    db.flush()
    return written


def _write_rollup(
    db: Session, show: Show, row: ShowRollup | None, sales: ShowSales | None, now: datetime
) -> None:
    if show.started_at is None:  # filtered by the caller; typed as optional
        return
    fig = rooms.figures_of(db, show)  # read before a new row joins the session
    if row is None:
        row = ShowRollup(show_id=show.id)
        db.add(row)
    row.base_id, row.org_id, row.host_id = show.base_id, show.org_id, show.host_id
    row.started_at, row.ended_at = show.started_at, show.ended_at
    row.live_seconds = live_seconds(show, now)
    row.orders = sales.orders if sales else 0
    row.gmv_fen = sales.gmv_fen if sales else 0
    row.buyers = sales.buyers if sales else 0
    row.peak_viewers = fig.peak_viewers if fig else 0
    row.watch_seconds = fig.watch_seconds if fig else 0.0
    row.refreshed_at = now


# --- the leaderboard --------------------------------------------------------------------


@dataclass(frozen=True)
class BoardRow:
    host_id: str
    org_id: str
    shows: int
    live_seconds: int
    orders: int
    gmv_fen: int

    @property
    def hours(self) -> float:
        return round(self.live_seconds / 3600, 1)


def _order_key(by: By) -> Any:
    return {
        "gmv": func.sum(ShowRollup.gmv_fen),
        "hours": func.sum(ShowRollup.live_seconds),
        "orders": func.sum(ShowRollup.orders),
    }[by]


def leaderboard(
    db: Session,
    base_id: str,
    start: datetime,
    end: datetime,
    by: By = "gmv",
    *,
    cohort_id: str | None = None,
    limit: int = 20,
) -> list[BoardRow]:
    """The base's hosts over the period, best first by ``by`` (ties: GMV, then hours,
    then host id): one grouped query over the rollup's (base_id, started_at) index."""
    R = ShowRollup
    q = select(
        R.host_id,
        R.org_id,
        func.count(R.show_id),
        func.coalesce(func.sum(R.live_seconds), 0),
        func.coalesce(func.sum(R.orders), 0),
        func.coalesce(func.sum(R.gmv_fen), 0),
    ).where(R.base_id == base_id, R.started_at >= start, R.started_at < end)
    if cohort_id is not None:
        q = (
            q.join(
                HostProfile, and_(HostProfile.org_id == R.org_id, HostProfile.user_id == R.host_id)
            )
            .join(CohortMember, CohortMember.profile_id == HostProfile.id)
            .where(CohortMember.cohort_id == cohort_id)
        )
    q = (
        q.group_by(R.host_id, R.org_id)
        .order_by(
            _order_key(by).desc(),
            func.sum(R.gmv_fen).desc(),
            func.sum(R.live_seconds).desc(),
            R.host_id,
        )
        .limit(limit)
    )
    return [
        BoardRow(str(h), str(o), int(n), int(s), int(k), int(g))
        for h, o, n, s, k, g in db.execute(q)
    ]


def leaderboard_naive(
    db: Session, base_id: str, start: datetime, end: datetime, by: By = "gmv", *, limit: int = 20
) -> list[BoardRow]:
    """The same board straight from shows and orders (the benchmark's baseline and the
    tests' independent check): every order of the period's shows is read by the join."""
    now = utcnow()
    shows = db.execute(
        select(Show.id, Show.host_id, Show.org_id, Show.started_at, Show.ended_at).where(
            Show.base_id == base_id,
            Show.started_at.is_not(None),
            Show.started_at >= start,
            Show.started_at < end,
        )
    ).all()
    sold = db.execute(
        select(Show.host_id, Show.org_id, func.count(Order.id), func.sum(Order.total_fen))
        .join(Order, Order.show_id == Show.id)
        .where(
            Show.base_id == base_id,
            Show.started_at >= start,
            Show.started_at < end,
            Order.paid_at.is_not(None),
            Order.status.not_in(UNPAID),
        )
        .group_by(Show.host_id, Show.org_id)
    ).all()
    acc: dict[tuple[str, str], list[int]] = {}
    for _sid, host, org, started, ended in shows:
        a = acc.setdefault((host, org), [0, 0, 0, 0])
        a[0] += 1
        if started is not None:
            a[1] += max(0, int(((ended or now) - started).total_seconds()))
    for host, org, n, gmv in sold:
        a = acc.setdefault((host, org), [0, 0, 0, 0])
        a[2] += int(n)
        a[3] += int(gmv or 0)
    rows = [BoardRow(h, o, *v) for (h, o), v in acc.items()]
    rows.sort(key=lambda r: (-_value(r, by), -r.gmv_fen, -r.live_seconds, r.host_id))
    return rows[:limit]


def _value(r: BoardRow, by: By) -> int:
    return {"gmv": r.gmv_fen, "hours": r.live_seconds, "orders": r.orders}[by]


def lifetime_totals(db: Session, base_id: str) -> dict[tuple[str, str], BoardRow]:
    """Every host's whole record at the base, from the rollup: (org_id, host_id) → row."""
    R = ShowRollup
    rows = db.execute(
        select(
            R.host_id,
            R.org_id,
            func.count(R.show_id),
            func.coalesce(func.sum(R.live_seconds), 0),
            func.coalesce(func.sum(R.orders), 0),
            func.coalesce(func.sum(R.gmv_fen), 0),
        )
        .where(R.base_id == base_id)
        .group_by(R.host_id, R.org_id)
    )
    out = {}
    for h, o, n, s, k, g in rows:
        out[(str(o), str(h))] = BoardRow(str(h), str(o), int(n), int(s), int(k), int(g))
    return out


# --- the metric -------------------------------------------------------------------------


def _local_date(at: datetime) -> date:
    return at.astimezone(PAGE_TZ).date()


def count_hosts_incubated(db: Session, base_id: str, start: datetime, end: datetime) -> int:
    """Cumulative at ``end``: the base's hosts that were promoted at least once before
    ``end``, or that were members of a cohort whose last day (Beijing) was over by ``end``.
    A host counted both ways counts once. (``start`` is unused: a cumulative figure.)"""
    promoted = select(Promotion.profile_id.label("pid")).where(
        Promotion.base_id == base_id, Promotion.at < end
    )
    graduated = (
        select(CohortMember.profile_id.label("pid"))
        .join(Cohort, Cohort.id == CohortMember.cohort_id)
        .where(Cohort.base_id == base_id, Cohort.ends_on < _local_date(end))
    )
    both = promoted.union(graduated).subquery()
    return int(db.scalar(select(func.count()).select_from(both)) or 0)
