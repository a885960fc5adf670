"""The base dashboard: every registry metric month by month, the plan's targets against
their actuals, and a forecast to each target's end at the current pace.

Figures come from the monthly rollups (``metric_months``, kept by ``rollup.py``); a month
not rolled up yet is counted live from the metric's counter, so a figure is never missing,
only slower. ``source="live"`` counts everything live: the naive path the benchmark and the
tests compare the rollups with.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from livebase.accounts.actors import Actor
from livebase.accounts.service import Principal
from livebase.bases import service as bases
from livebase.bases.models import BaseTarget, LiveBase
from livebase.dashboard import months
from livebase.dashboard.models import MetricMonth
from livebase.dashboard.registry import Metric, metric, metrics
from livebase.db import utcnow
from livebase.errors import Forbidden, ValidationFailed

Source = Literal["rollup", "live"]
PERIOD_RE = re.compile(r"([0-9]{4})(?:-([0-9]{4}))?")
# Years a target or a dashboard may name: the plan's horizon is years, not centuries.
FIRST_YEAR, LAST_YEAR = 2000, 2100
MAX_PERIOD_YEARS = 10
CHART_MONTHS = 12
# The pace is the mean of the last three full months: one month is noise (a 618 month,
# a Spring Festival month), a year hides a change of pace.
PACE_MONTHS = 3
# A Gregorian month on average, to turn the time left into months of pace.
MONTH_SECONDS = 365.2425 / 12 * 86400


# --- access -----------------------------------------------------------------------------


def check_view(db: Session, principal: Principal, base_id: str) -> LiveBase:
    """The base, when the principal may see its full dashboard: its operators and admins.
    The base itself is public, so another base's staff get 403, not 404."""
    base = bases.get_base(db, base_id)
    if not principal.has("operator", base_id=base_id):
        raise Forbidden("Only this base's operators see its dashboard.")
    return base


OPS_ONLY = "Only a base's operators see the operations pages."


# --- periods and targets ------------------------------------------------------------------


def parse_period(period: str, loc: str = "body.period") -> tuple[int, int]:
    """ "2025" → (2025, 2025); "2022-2025" → (2022, 2025)."""
    m = PERIOD_RE.fullmatch(period)
    if m is None:
        raise ValidationFailed('A period is a year "YYYY" or years "YYYY-YYYY".', loc=loc)
    first = int(m.group(1))
    last = int(m.group(2) or first)
    if not (FIRST_YEAR <= first <= last <= LAST_YEAR) or last - first >= MAX_PERIOD_YEARS:
        raise ValidationFailed(
            f"A period runs forwards within {FIRST_YEAR}–{LAST_YEAR}, "
            f"at most {MAX_PERIOD_YEARS} years.",
            loc=loc,
        )
    return first, last


def check_month(month: str) -> str:
    try:
        year, _ = months.parse(month)
    except ValueError:
        raise ValidationFailed("month must be YYYY-MM.", loc="query.month") from None
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationFailed(f"month must be within {FIRST_YEAR}–{LAST_YEAR}.", loc="query.month")
    return month


@dataclass(frozen=True)
class TargetIn:
    metric: str
    period: str
    target: int
    reported: int = 0


def do_replace_targets(
    db: Session, actor: Actor, base_id: str, targets: Iterable[TargetIn]
) -> list[BaseTarget]:
    """Make the base's targets exactly these (PUT): set each, delete those not named."""
    wanted = list(targets)
    seen: set[tuple[str, str]] = set()
    for i, t in enumerate(wanted):
        if metric(t.metric) is None:
            raise ValidationFailed(f"Unknown metric {t.metric}.", loc=f"body.targets.{i}.metric")
        parse_period(t.period, loc=f"body.targets.{i}.period")
        if (t.metric, t.period) in seen:
            raise ValidationFailed(
                f"{t.metric} {t.period} is named twice.", loc=f"body.targets.{i}.period"
            )
        seen.add((t.metric, t.period))
    for row in bases.targets_of(db, base_id):
        if (row.metric, row.period) not in seen:
            bases.do_delete_target(db, actor, row)
    for t in wanted:
        bases.do_set_target(db, actor, base_id, t.metric, t.period, t.target, t.reported)
    return bases.targets_of(db, base_id)


# --- figures ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetFigure:
    metric: str
    period: str
    target: int
    reported: int
    counted: int
    actual: int  # reported + counted
    progress: float  # actual / target, 0..∞
    projected: int  # the actual at the period's end at the current pace
    status: str  # "met" | "on_track" | "behind" | "missed"
    ends_at: datetime


@dataclass
class MetricFigure:
    metric: Metric
    months: list[tuple[str, int]]  # the chart: (month, value), oldest first
    month_value: int  # the last month's (the month of an export)
    ytd: int  # the year so far: a flow's sum, a cumulative figure's standing
    pace: float  # per month
    targets: list[TargetFigure] = field(default_factory=list)


@dataclass
class Dashboard:
    base: LiveBase
    year: int
    through: str  # the last month counted (the current month, or the export's)
    as_of: datetime
    rolled_up_at: datetime | None  # the oldest rollup row read; None when all were live
    figures: list[MetricFigure]

    @property
    def targets(self) -> list[TargetFigure]:
        return [t for f in self.figures for t in f.targets]


def _read(
    db: Session, base_id: str, wanted: dict[str, set[str]], source: Source
) -> tuple[dict[tuple[str, str], int], datetime | None]:
    """The values of the wanted (metric → months), from rollups where they exist."""
    values: dict[tuple[str, str], int] = {}
    oldest: datetime | None = None
    all_months = {m for ms in wanted.values() for m in ms}
    if source == "rollup" and all_months:
        rows = db.execute(
            select(
                MetricMonth.metric, MetricMonth.month, MetricMonth.value, MetricMonth.computed_at
            ).where(
                MetricMonth.base_id == base_id,
                MetricMonth.metric.in_(list(wanted)),
                MetricMonth.month >= min(all_months),
                MetricMonth.month <= max(all_months),
            )
        )
        for name, month, value, at in rows:
            if month in wanted[name]:
                values[(name, month)] = value
                oldest = at if oldest is None or at < oldest else oldest
    for name, ms in wanted.items():
        m = metric(name)
        for month in ms:
            if m is not None and (name, month) not in values:
                values[(name, month)] = int(
                    m.counter(db, base_id, months.start(month), months.end(month))
                )
    return values, oldest


def _pace_months(through: str, as_of: datetime) -> list[str]:
    # Full months only: the "through" month counts when it is over.
    last = through if as_of >= months.end(through) else months.add(through, -1)
    return months.trailing(last, PACE_MONTHS)


def _target_months(m: Metric, first: int, last: int, through: str) -> list[str]:
    period_last = min(f"{last:04d}-12", through)
    if m.cumulative:
        return [period_last if f"{first:04d}-01" <= through else through]
    return months.span(f"{first:04d}-01", period_last)


def _forecast(
    row: BaseTarget, counted: int, pace: float, as_of: datetime, first: int, last: int
) -> TargetFigure:
    actual = row.reported + counted
    start = datetime(first, 1, 1, tzinfo=UTC)
    ends = datetime(last + 1, 1, 1, tzinfo=UTC)
    if as_of >= ends:
        projected = actual
    else:
        left = (ends - max(as_of, start)).total_seconds() / MONTH_SECONDS
        projected = actual + round(max(pace, 0.0) * left)
    if actual >= row.target:
        status = "met"
    elif as_of >= ends:
        status = "missed"
    else:
        status = "on_track" if projected >= row.target else "behind"
    progress = actual / row.target if row.target else 0.0
    return TargetFigure(
        row.metric,
        row.period,
        row.target,
        row.reported,
        counted,
        actual,
        progress,
        projected,
        status,
        ends,
    )


def build(
    db: Session,
    base: LiveBase,
    *,
    year: int | None = None,
    through: str | None = None,
    now: datetime | None = None,
    source: Source = "rollup",
) -> Dashboard:
    """The base's dashboard for ``year`` (default: now's), counting up to the month
    ``through`` (default: the current month; an export names its month)."""
    now = now or utcnow()
    current = months.key(now)
    if through is None:
        year = year or now.year
        through = min(current, f"{year:04d}-12")
    year = year or months.parse(through)[0]
    as_of = min(now, months.end(through))
    chart = months.trailing(through, CHART_MONTHS)
    ytd_months = months.span(f"{year:04d}-01", min(through, f"{year:04d}-12"))
    pace_months = _pace_months(through, as_of)
    targets = []
    for row in bases.targets_of(db, base.id):
        try:
            first, last = parse_period(row.period)
        except ValidationFailed:
            continue  # set before periods were checked; not counted, not shown
        targets.append((row, first, last))

    wanted: dict[str, set[str]] = {}
    for m in metrics():
        ms = set(chart) | set(ytd_months) | set(pace_months)
        if m.cumulative:
            ms.add(months.add(pace_months[0], -1))  # the increase over the pace months
        for row, first, last in targets:
            if row.metric == m.name:
                ms.update(_target_months(m, first, last, through))
        wanted[m.name] = ms
    values, oldest = _read(db, base.id, wanted, source)

    figures = []
    for m in metrics():
        v = {month: values[(m.name, month)] for month in wanted[m.name]}
        if m.cumulative:
            before = v[months.add(pace_months[0], -1)]
            pace = (v[pace_months[-1]] - before) / PACE_MONTHS
            ytd = v[ytd_months[-1]] if ytd_months else 0
        else:
            pace = sum(v[p] for p in pace_months) / PACE_MONTHS
            ytd = sum(v[p] for p in ytd_months)
        fig = MetricFigure(m, [(c, v[c]) for c in chart], v[through], ytd, pace)
        for row, first, last in targets:
            if row.metric != m.name:
                continue
            tm = _target_months(m, first, last, through)
            counted = v[tm[-1]] if m.cumulative else sum(v[t] for t in tm)
            fig.targets.append(_forecast(row, counted, pace, as_of, first, last))
        figures.append(fig)
    return Dashboard(base, year, through, as_of, oldest, figures)


def target_for_month(fig: MetricFigure, month: str) -> TargetFigure | None:
    """The target an export's row reports: one for the month's year, else the shortest
    period that contains it."""
    year = months.parse(month)[0]
    holding = []
    for t in fig.targets:
        first, last = parse_period(t.period)
        if first <= year <= last:
            holding.append((last - first, t.period, t))
    return min(holding)[2] if holding else None


def current_figures(db: Session, base_id: str, now: datetime | None = None) -> dict[str, int]:
    """This month's rolled-up figures (no live counting: for the hub's cards)."""
    month = months.key(now or utcnow())
    rows = db.execute(
        select(MetricMonth.metric, MetricMonth.value).where(
            MetricMonth.base_id == base_id, MetricMonth.month == month
        )
    )
    return {name: value for name, value in rows}


def district_bases(db: Session, principal: Principal, district: str) -> list[LiveBase]:
    """The bases of a district the principal may compare: all of them for an admin, the
    ones they operate for an operator (another base's figures are its own business; its
    public summary page is open to all)."""
    in_district = [b for b in bases.list_bases(db) if b.district == district]
    if principal.is_admin:
        return in_district
    mine = principal.base_ids("operator")
    if not mine:
        raise Forbidden("Only a base's operators see the district's figures.")
    return [b for b in in_district if b.id in mine]


def districts(db: Session, principal: Principal) -> list[str]:
    return sorted({b.district for b in bases.operated_bases(db, principal, OPS_ONLY)})
