"""Importing a base's positive list (service side of ``positive_list``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from livebase.accounts.actors import Actor, actor_name
from livebase.audit.service import do_record
from livebase.bonded import positive_list
from livebase.bonded.models import PositiveLine, PositiveListMode
from livebase.errors import ApiError, Code


def do_import_list(
    db: Session, actor: Actor, base_id: str, text: str, *, replace: bool
) -> dict[str, Any]:
    """All lines or none: a file with any bad line is refused (422) with every bad line
    named, and changes nothing. ``replace``: the base's list becomes exactly the file
    (the shipped common lines stop applying); otherwise the file extends and overrides."""
    lines, errors = positive_list.parse_csv(text)
    if errors:
        raise ApiError(
            f"{len(errors)} line(s) of the file are wrong; nothing was imported.",
            code=Code.VALIDATION_FAILED,
            fields=[{"loc": f"csv.line.{e.line}", "msg": e.error} for e in errors],
            extra={"errors": [{"line": e.line, "error": e.error} for e in errors]},
        )
    if replace:
        db.execute(delete(PositiveLine).where(PositiveLine.base_id == base_id))
    existing = {
        row.hs_code: row
        for row in db.scalars(select(PositiveLine).where(PositiveLine.base_id == base_id))
    }
    added = updated = 0
    for ln in lines:
        row = existing.get(ln.hs_code)
        if row is None:
            db.add(
                PositiveLine(
                    base_id=base_id,
                    hs_code=ln.hs_code,
                    name=ln.name,
                    notes=ln.notes,
                    allowed=ln.allowed,
                )
            )
            added += 1
        else:
            row.name, row.notes, row.allowed = ln.name, ln.notes, ln.allowed
            updated += 1
    mode = db.get(PositiveListMode, base_id)
    if mode is None:
        db.add(PositiveListMode(base_id=base_id, replaces_common=replace))
    elif replace:
        mode.replaces_common = True
    db.flush()
    do_record(
        db,
        actor,
        "positive_list.import",
        "base",
        base_id,
        added=added,
        updated=updated,
        replace=replace,
    )
    return {
        "base_id": base_id,
        "added": added,
        "updated": updated,
        "replace": replace,
        "imported_by": actor_name(actor),
    }


def list_lines(db: Session, base_id: str) -> list[dict[str, Any]]:
    mode = db.get(PositiveListMode, base_id)
    out: dict[str, dict[str, Any]] = {}
    if mode is None or not mode.replaces_common:
        for ln in positive_list.COMMON.values():
            out[ln.hs_code] = {
                "hs_code": ln.hs_code,
                "name": ln.name,
                "notes": ln.notes,
                "allowed": True,
                "source": "common",
            }
    for row in db.scalars(select(PositiveLine).where(PositiveLine.base_id == base_id)):
        out[row.hs_code] = {
            "hs_code": row.hs_code,
            "name": row.name,
            "notes": row.notes,
            "allowed": row.allowed,
            "source": "base",
        }
    return [out[k] for k in sorted(out)]
