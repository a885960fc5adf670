"""Monthly rollups: the job that keeps ``metric_months`` true to the records.

Every run (``dashboard.rollup``, every 30 s) recomputes, per base and metric, from the
metric's counter:

1. the **hot** months, those overlapping the last ``HOT_DAYS`` days: the current month
   (new orders, shows ending) and the months whose orders can still be refunded;
2. **missing** months among those the dashboard shows (the last ``KEEP_MONTHS`` and the
   months of every target period up to now), newest first;
3. the ``STALE_PER_RUN`` **stalest** other rows, so a change the first two miss (a
   brand's launch date corrected, a late refund) is picked up within
   ``KEEP_MONTHS / STALE_PER_RUN`` runs (about four minutes).

Each base gets at most ``BUDGET_PER_BASE`` counter calls per run, so a first run over years
of history fills in over a few runs instead of holding one long transaction; until a month
is rolled up the dashboard counts it live (service.py). Values are written with the time
they were computed, which the pages show as "as of".
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from livebase.bases import service as bases
from livebase.dashboard import months
from livebase.dashboard.models import MetricMonth
from livebase.dashboard.registry import metrics
from livebase.db import utcnow

# Paid → shipped (days) → completed after the receipt window (10 days) → after-sale
# requests (15 days): an order's status, and so its month's GMV, can change for about five
# weeks after payment. Forty days covers it with margin.
HOT_DAYS = 40
# The charts show 12 months and the pace reads 3 before them; two years lets the
# dashboard show last year (``?year=``) from rollups too.
KEEP_MONTHS = 25
STALE_PER_RUN = 3
# Counter calls per base per run: the hot months of a dozen metrics (about 36) with room
# for the stale sweep and a share of missing months. At ~10 ms a call over a million
# orders (index range scans), one run stays well under its 30 s period.
BUDGET_PER_BASE = 150


def kept_months(db: Session, base_id: str, now: datetime) -> list[str]:
    """The months the dashboard reads for the base: the last KEEP_MONTHS and the months
    of its target periods up to now."""
    current = months.key(now)
    wanted = set(months.trailing(current, KEEP_MONTHS))
    for row in bases.targets_of(db, base_id):
        first, _, last = row.period.partition("-")
        if not (first.isdigit() and (not last or last.isdigit())):
            continue
        period_last = min(f"{int(last or first):04d}-12", current)
        wanted.update(months.span(f"{int(first):04d}-01", period_last))
    return sorted(wanted)


def _plan(kept: list[str], hot: set[str], stored: dict[str, datetime]) -> list[str]:
    todo = [m for m in kept if m in hot]
    todo += [m for m in reversed(kept) if m not in stored and m not in hot]
    stale = sorted((at, m) for m, at in stored.items() if m in kept and m not in hot)
    todo += [m for _, m in stale[:STALE_PER_RUN]]
    return todo


def do_rollup_base(
    db: Session, base_id: str, now: datetime | None = None, *, budget: int = BUDGET_PER_BASE
) -> int:
    """Recompute the base's due months (see the module doc); return the counter calls."""
    now = now or utcnow()
    kept = kept_months(db, base_id, now)
    hot = set(months.span(months.key(now - timedelta(days=HOT_DAYS)), months.key(now)))
    rows = {
        (r.metric, r.month): r
        for r in db.scalars(select(MetricMonth).where(MetricMonth.base_id == base_id))
    }
    plans = []
    for metric in metrics():
        stored = {m: r.computed_at for (name, m), r in rows.items() if name == metric.name}
        plans.append((metric, _plan(kept, hot, stored)))
    calls = 0
    # Round by round across metrics, so a tight budget still refreshes every metric's
    # current month first.
    depth = max((len(todo) for _, todo in plans), default=0)
    for i in range(depth):
        for metric, todo in plans:
            if i >= len(todo) or calls >= budget:
                continue
            month = todo[i]
            value = int(metric.counter(db, base_id, months.start(month), months.end(month)))
            calls += 1
            row = rows.get((metric.name, month))
            if row is None:
                row = MetricMonth(base_id=base_id, metric=metric.name, month=month)
                db.add(row)
                rows[(metric.name, month)] = row
            row.value, row.computed_at = value, utcnow()
    db.flush()
    return calls


def do_rollup(db: Session, now: datetime | None = None, *, budget: int = BUDGET_PER_BASE) -> int:
    return sum(do_rollup_base(db, b.id, now, budget=budget) for b in bases.list_bases(db))


def rollup_job(db: Session, payload: dict[str, Any]) -> None:
    """Recurring job handler (``dashboard.rollup``)."""
    do_rollup(db)
