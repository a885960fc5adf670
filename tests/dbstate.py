"""Snapshots of the whole database, to prove that a refused request changed nothing.

`snapshot(rt)` dumps every table of `livebase.models.metadata` (rows sorted by primary
key, values as their repr); `changes(before, after)` names the tables whose rows differ
and shows the rows that appeared or vanished, so a failure says what was written.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from livebase.models import metadata
from livebase.runtime import Runtime

Row = tuple[str, ...]
Snapshot = dict[str, list[Row]]


def snapshot(rt: Runtime) -> Snapshot:
    out: Snapshot = {}
    with rt.engine.connect() as conn:
        for table in metadata.sorted_tables:
            rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = [tuple(repr(v) for v in row) for row in rows]
    return out


def changes(before: Snapshot, after: Snapshot) -> str:
    """An empty string when nothing changed, else a readable account of what did."""
    lines = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name, []), after.get(name, [])
        if old == new:
            continue
        gone = [r for r in old if r not in new]
        came = [r for r in new if r not in old]
        lines.append(f"{name}: {len(old)} -> {len(new)} rows; gone {gone}; new {came}")
    return "\n".join(lines)


def files_under(root: Path) -> set[str]:
    if not root.exists():
        return set()
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}
