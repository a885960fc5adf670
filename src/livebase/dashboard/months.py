"""Calendar months (UTC) as "YYYY-MM" keys, the unit of the rollups and charts."""

from __future__ import annotations

import re
from datetime import UTC, datetime

MONTH_RE = re.compile(r"([0-9]{4})-(0[1-9]|1[0-2])")


def key(at: datetime) -> str:
    at = at.astimezone(UTC)
    return f"{at.year:04d}-{at.month:02d}"


def parse(month: str) -> tuple[int, int]:
    m = MONTH_RE.fullmatch(month)
    if m is None:
        raise ValueError(f"not a YYYY-MM month: {month!r}")
    return int(m.group(1)), int(m.group(2))


def start(month: str) -> datetime:
    year, mon = parse(month)
    return datetime(year, mon, 1, tzinfo=UTC)


def add(month: str, n: int) -> str:
    year, mon = parse(month)
    index = year * 12 + (mon - 1) + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def end(month: str) -> datetime:
    return start(add(month, 1))


def span(first: str, last: str) -> list[str]:
    """Every month from ``first`` to ``last``, both included (empty when last < first)."""
    out = []
    month = first
    while month <= last:
        out.append(month)
        month = add(month, 1)
    return out


def trailing(last: str, n: int) -> list[str]:
    """The ``n`` months ending with ``last``, oldest first."""
    return span(add(last, -(n - 1)), last)


def covering(begin: datetime, stop: datetime) -> list[str]:
    """The months that overlap the half-open interval [begin, stop)."""
    last = key(stop)
    if start(last) == stop.astimezone(UTC):
        last = add(last, -1)
    return span(key(begin), last)
