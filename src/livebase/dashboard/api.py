"""The dashboard's JSON, its exports and the operator's targets."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from livebase.dashboard import export, months, service
from livebase.dashboard.schemas import TargetsIn
from livebase.dashboard.service import Dashboard, TargetFigure
from livebase.db import utcnow
from livebase.http import DB, Me, require_json
from livebase.schemas import rfc3339

router = APIRouter(prefix="/api/v1", tags=["dashboard"], dependencies=[Depends(require_json)])


def target_out(t: TargetFigure) -> dict[str, Any]:
    return {
        "metric": t.metric,
        "period": t.period,
        "target": t.target,
        "reported": t.reported,
        "counted": t.counted,
        "actual": t.actual,
        "progress": round(t.progress, 4),
        "forecast": t.projected,
        "status": t.status,
        "ends_at": rfc3339(t.ends_at),
    }


def dashboard_out(d: Dashboard) -> dict[str, Any]:
    return {
        "base_id": d.base.id,
        "name": d.base.name,
        "district": d.base.district,
        "year": d.year,
        "through": d.through,
        "as_of": rfc3339(d.as_of),
        "rolled_up_at": rfc3339(d.rolled_up_at),
        "metrics": [
            {
                "metric": f.metric.name,
                "label_zh": f.metric.spec.label_zh,
                "label_en": f.metric.spec.label_en,
                "unit": f.metric.spec.unit,
                "cumulative": f.metric.cumulative,
                "months": [{"month": m, "value": v} for m, v in f.months],
                "month_value": f.month_value,
                "ytd": f.ytd,
                # Per month, rounded: money stays integer fen.
                "pace_per_month": round(f.pace),
            }
            for f in d.figures
        ],
        "targets": [target_out(t) for t in d.targets],
    }


@router.get("/bases/{base_id}/dashboard")
def get_dashboard(
    base_id: str,
    me: Me,
    db: DB,
    year: Annotated[int | None, Query(ge=service.FIRST_YEAR, le=service.LAST_YEAR)] = None,
    source: Annotated[
        Literal["rollup", "live"],
        Query(description="live: count every figure from the records (slow; diagnostics)."),
    ] = "rollup",
) -> dict[str, Any]:
    base = service.check_view(db, me, base_id)
    return dashboard_out(service.build(db, base, year=year, source=source))


def _month_export(db: DB, me: Me, base_id: str, month: str | None) -> Dashboard:
    base = service.check_view(db, me, base_id)
    month = service.check_month(month) if month is not None else months.key(utcnow())
    return service.build(db, base, through=month)


def _attachment(content: bytes, media_type: str, name: str) -> Response:
    return Response(
        content,
        media_type=media_type,
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/bases/{base_id}/dashboard.csv")
def dashboard_csv(base_id: str, me: Me, db: DB, month: str | None = None) -> Response:
    d = _month_export(db, me, base_id, month)
    return _attachment(
        export.to_csv(d), "text/csv; charset=utf-8", f"dashboard-{base_id}-{d.through}.csv"
    )


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/bases/{base_id}/dashboard.xlsx")
def dashboard_xlsx(base_id: str, me: Me, db: DB, month: str | None = None) -> Response:
    d = _month_export(db, me, base_id, month)
    return _attachment(export.to_xlsx(d), XLSX, f"dashboard-{base_id}-{d.through}.xlsx")


@router.put("/bases/{base_id}/targets")
def put_targets(base_id: str, body: TargetsIn, me: Me, db: DB) -> dict[str, Any]:
    service.check_view(db, me, base_id)
    service.do_replace_targets(
        db,
        me,
        base_id,
        [service.TargetIn(t.metric, t.period, t.target, t.reported) for t in body.targets],
    )
    db.commit()
    base = service.check_view(db, me, base_id)
    return {"targets": [target_out(t) for t in service.build(db, base).targets]}
