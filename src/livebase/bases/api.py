from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from livebase.bases import service
from livebase.bases.models import Application, LiveBase, PickupCounter, Warehouse
from livebase.bases.schemas import (
    ApplicationIn,
    MemberIn,
    PickupCounterIn,
    RejectIn,
    WarehouseIn,
)
from livebase.http import DB, NO_BODY, Me, Page, page_of, paged, require_json
from livebase.schemas import rfc3339

ApplicationPage = Annotated[Page, Depends(page_of("app"))]
BasePage = Annotated[Page, Depends(page_of("base"))]
OrgPage = Annotated[Page, Depends(page_of("org"))]
CounterPage = Annotated[Page, Depends(page_of("pc"))]
MemberPage = Annotated[Page, Depends(page_of("rg"))]
WarehousePage = Annotated[Page, Depends(page_of("wh"))]

router = APIRouter(prefix="/api/v1", tags=["bases"], dependencies=[Depends(require_json)])


def base_out(db: DB, base: LiveBase) -> dict[str, Any]:
    return {
        "id": base.id,
        "name": base.name,
        "district": base.district,
        "description": base.description,
        "targets": [
            {"metric": t.metric, "period": t.period, "target": t.target, "actual": t.actual}
            for t in service.target_views(db, base.id)
        ],
    }


def application_out(app: Application) -> dict[str, Any]:
    return {
        "id": app.id,
        "base_id": app.base_id,
        "org_kind": app.org_kind,
        "name": app.name,
        "description": app.description,
        "status": app.status,
        "reason": app.reason,
        "org_id": app.org_id,
        "created_at": rfc3339(app.created_at),
        "decided_at": rfc3339(app.decided_at),
    }


def warehouse_out(wh: Warehouse) -> dict[str, Any]:
    return {
        "id": wh.id,
        "base_id": wh.base_id,
        "name": wh.name,
        "customs_code": wh.customs_code,
        "ems_no": wh.ems_no,
    }


@router.get("/bases")
def list_bases(db: DB, page: BasePage) -> dict[str, Any]:
    rows = service.list_bases(db, limit=page.limit, cursor=page.cursor)
    return paged([base_out(db, b) for b in rows], page)


@router.get("/bases/{base_id}")
def get_base(base_id: str, db: DB) -> dict[str, Any]:
    return base_out(db, service.get_base(db, base_id))


@router.get("/bases/{base_id}/orgs")
def list_orgs(base_id: str, db: DB, page: OrgPage) -> dict[str, Any]:
    service.get_base(db, base_id)
    items = [
        {"id": o.id, "kind": o.kind, "name": o.name, "description": o.description}
        for o in service.list_orgs(db, base_id, limit=page.limit, cursor=page.cursor)
    ]
    return paged(items, page)


@router.post("/bases/{base_id}/applications", status_code=201)
def apply(base_id: str, body: ApplicationIn, me: Me, db: DB) -> dict[str, Any]:
    app = service.do_apply(db, me, base_id, body.org_kind, body.name, body.description)
    db.commit()
    return application_out(app)


@router.get("/bases/{base_id}/applications")
def list_applications(
    base_id: str,
    me: Me,
    db: DB,
    page: ApplicationPage,
    status: Annotated[str | None, Query(pattern="^(pending|approved|rejected)$")] = None,
) -> dict[str, Any]:
    service.get_base(db, base_id)
    rows = service.list_applications(db, me, base_id, status, page.limit, page.cursor)
    return paged([application_out(a) for a in rows], page)


@router.get("/me/applications")
def my_applications(me: Me, db: DB, page: ApplicationPage) -> dict[str, Any]:
    rows = service.list_my_applications(db, me, limit=page.limit, cursor=page.cursor)
    return paged([application_out(app) | {"base_name": name} for app, name in rows], page)


@router.get("/applications/{app_id}")
def get_application(app_id: str, me: Me, db: DB) -> dict[str, Any]:
    return application_out(service.get_application(db, me, app_id))


@router.post("/applications/{app_id}/approve", dependencies=[NO_BODY])
def approve(app_id: str, me: Me, db: DB) -> dict[str, Any]:
    app = service.do_decide(db, me, service.check_decide(db, me, app_id), approve=True)
    db.commit()
    return application_out(app)


@router.post("/applications/{app_id}/reject")
def reject(app_id: str, body: RejectIn, me: Me, db: DB) -> dict[str, Any]:
    app = service.check_decide(db, me, app_id)
    service.do_decide(db, me, app, approve=False, reason=body.reason)
    db.commit()
    return application_out(app)


@router.post("/bases/{base_id}/warehouses", status_code=201)
def create_warehouse(base_id: str, body: WarehouseIn, me: Me, db: DB) -> dict[str, Any]:
    service.check_base_operator(db, me, base_id)
    wh = service.do_create_warehouse(db, me, base_id, body.name, body.customs_code, body.ems_no)
    db.commit()
    return warehouse_out(wh)


@router.get("/bases/{base_id}/warehouses")
def list_warehouses(base_id: str, me: Me, db: DB, page: WarehousePage) -> dict[str, Any]:
    rows = service.list_warehouses(db, me, base_id, limit=page.limit, cursor=page.cursor)
    return paged([warehouse_out(w) for w in rows], page)


@router.get("/orgs/{org_id}/members")
def list_members(org_id: str, me: Me, db: DB, page: MemberPage) -> dict[str, Any]:
    rows = service.list_members(db, me, org_id, limit=page.limit, cursor=page.cursor)
    return paged([asdict(m) for m in rows], page)


@router.post("/orgs/{org_id}/members", status_code=201)
def add_member(org_id: str, body: MemberIn, me: Me, db: DB) -> dict[str, Any]:
    org = service.check_add_member(db, me, org_id)
    member = service.do_add_member(db, me, org, body.username, body.role)
    db.commit()
    return asdict(member)


def counter_out(c: PickupCounter) -> dict[str, Any]:
    return {
        "id": c.id,
        "base_id": c.base_id,
        "warehouse_id": c.warehouse_id,
        "name": c.name,
        "customs_code": c.customs_code,
    }


@router.post("/bases/{base_id}/pickup-counters", status_code=201)
def create_pickup_counter(base_id: str, body: PickupCounterIn, me: Me, db: DB) -> dict[str, Any]:
    service.check_base_operator(db, me, base_id)
    counter = service.do_create_pickup_counter(
        db, me, base_id, body.name, body.warehouse_id, body.customs_code
    )
    db.commit()
    return counter_out(counter)


@router.get("/bases/{base_id}/pickup-counters")
def list_pickup_counters(base_id: str, db: DB, page: CounterPage) -> dict[str, Any]:
    rows = service.list_pickup_counters(db, base_id, limit=page.limit, cursor=page.cursor)
    return paged([counter_out(c) for c in rows], page)
