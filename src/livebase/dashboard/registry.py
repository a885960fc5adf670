"""The metrics registry: every figure of the dashboard is a ``features.MetricSpec`` some
feature declares; nothing here lists them. Resolved once per process from FEATURES."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy.orm import Session

from livebase.features import MetricSpec, load

Counter = Callable[[Session, str, datetime, datetime], int]
# The plan's headline figures lead the page in this order; every other metric follows in
# the order the features declare them.
LEADING = ("gmv_fen", "orders_paid", "shows_held", "live_hours", "brands_incubated")


@dataclass(frozen=True)
class Metric:
    spec: MetricSpec
    counter: Counter
    feature: str

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def cumulative(self) -> bool:
        return self.spec.cumulative

    def label(self, lang: str) -> str:
        return self.spec.label_zh if lang == "zh" else self.spec.label_en


@cache
def metrics() -> tuple[Metric, ...]:
    found = [
        Metric(spec, counter, lf.feature.name)
        for lf in load()
        for spec, counter, _monthly in lf.metrics
    ]

    def rank(m: Metric) -> int:
        return LEADING.index(m.name) if m.name in LEADING else len(LEADING)

    return tuple(sorted(found, key=rank))  # stable: the rest keep the features' order


def metric(name: str) -> Metric | None:
    return next((m for m in metrics() if m.name == name), None)


def names() -> tuple[str, ...]:
    return tuple(m.name for m in metrics())
