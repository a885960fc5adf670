"""JSON routes of bonded goods (DESIGN §5 "Bonded goods"): identities, quota and quotes,
the positive list, the clerk's pickup look-ups and handovers, and the buyer's and the
operator's actions on a bonded order (cancel before release, return, resend)."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import StreamingResponse

from livebase.bases import service as bases
from livebase.bonded import identities, listing, pickup, report, states, tax
from livebase.bonded import orders as bonded_orders
from livebase.bonded.schemas import (
    CodeIn,
    HandoverIn,
    IdentityIn,
    PositiveListIn,
    QuoteIn,
    ReasonIn,
    RulesIn,
)
from livebase.errors import NotFound
from livebase.http import DB, Me, RuntimeDep, require_json
from livebase.orders import service as orders

router = APIRouter(prefix="/api/v1", tags=["bonded"], dependencies=[Depends(require_json)])


@router.post("/identities", status_code=201)
def create_identity(body: IdentityIn, me: Me, db: DB) -> dict[str, Any]:
    row = identities.do_create_identity(db, me, body.name, body.id_number)
    if body.phone:
        row.phone = body.phone
    db.commit()
    return identities.identity_view(row)


@router.get("/identities")
def list_identities(me: Me, db: DB) -> dict[str, Any]:
    return {
        "items": [identities.identity_view(r) for r in identities.list_identities(db, me)],
        "next_cursor": None,
    }


@router.get("/bonded/quota")
def get_quota(
    me: Me,
    db: DB,
    identity_id: Annotated[str, Query(min_length=1, max_length=40)],
    customs_code: Annotated[str | None, Query(pattern=r"^[0-9]{4}$")] = None,
) -> dict[str, Any]:
    """The buyer's quota this year, measured against the district's yearly limit (the
    ``customs_code`` given, or the strictest district with a bonded warehouse)."""
    return bonded_orders.quota_view(db, me, identity_id, customs_code)


@router.post("/bonded/quotes")
def create_quote(body: QuoteIn, me: Me, db: DB) -> dict[str, Any]:
    return bonded_orders.check_quote(
        db, me, body.identity_id, [(ln.sku_id, ln.quantity) for ln in body.lines], body.freight_fen
    )


CustomsCode = Annotated[str, Path(pattern=r"^[0-9]{4}$")]


@router.get("/bonded/districts/{customs_code}/rules")
def get_district_rules(customs_code: CustomsCode, me: Me, db: DB) -> dict[str, Any]:
    """The rules in force in a customs district (``source``: its own row or national)."""
    return bonded_orders.rules_view(db, customs_code)


@router.put("/bonded/districts/{customs_code}/rules")
def put_district_rules(customs_code: CustomsCode, body: RulesIn, me: Me, db: DB) -> dict[str, Any]:
    """An admin, or an operator of every base with a warehouse in the district."""
    bonded_orders.check_set_rules(db, me, customs_code)
    rules = tax.Rules(body.per_order_fen, body.per_year_fen, body.reduced_bp, body.return_days)
    bonded_orders.check_rules(rules)
    bonded_orders.do_set_rules(db, me, customs_code, rules)
    db.commit()
    return bonded_orders.rules_view(db, customs_code)


@router.post("/bases/{base_id}/positive-list", status_code=201)
def import_positive_list(base_id: str, body: PositiveListIn, me: Me, db: DB) -> dict[str, Any]:
    bases.check_base_operator(db, me, base_id)
    out = listing.do_import_list(db, me, base_id, body.csv, replace=body.mode == "replace")
    db.commit()
    return out


@router.get("/bases/{base_id}/positive-list")
def get_positive_list(base_id: str, db: DB) -> dict[str, Any]:
    bases.get_base(db, base_id)
    return {"items": listing.list_lines(db, base_id), "next_cursor": None}


@router.post("/pickup/lookups")
def pickup_lookup(body: CodeIn, me: Me, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    try:
        out = pickup.do_lookup(db, rt.limiter, me, body.code)
    except pickup.PickupRefused as exc:
        db.rollback()
        pickup.do_record_refusal(db, me, "lookup", exc)
        db.commit()
        raise
    db.commit()
    return out


@router.post("/pickup/handovers", status_code=201)
def pickup_handover(body: HandoverIn, me: Me, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    try:
        out = pickup.do_handover(db, rt.limiter, me, body.code, body.id_last4)
    except pickup.PickupRefused as exc:
        db.rollback()
        pickup.do_record_refusal(db, me, "handover", exc)
        db.commit()
        raise
    db.commit()
    return out


def _own_bonded(db: DB, me: Me, order_id: str) -> None:
    order = orders.check_own_order(db, me, order_id)
    if bonded_orders.bonded_order(db, order.id) is None:
        raise NotFound(f"No bonded order {order_id}.")


@router.get("/bonded/orders/{order_id}")
def get_bonded_order(order_id: str, me: Me, db: DB) -> dict[str, Any]:
    order = orders.check_see_order(db, me, order_id)
    bo = bonded_orders.bonded_order(db, order.id)
    if bo is None:
        raise NotFound(f"No bonded order {order_id}.")
    return bonded_orders.bonded_view(db, order, bo, with_code=order.buyer_id == me.id)


@router.post("/bonded/orders/{order_id}/cancel")
def cancel_bonded(order_id: str, body: ReasonIn, me: Me, db: DB) -> dict[str, Any]:
    _own_bonded(db, me, order_id)
    status = states.do_cancel_before_release(db, me, order_id, body.reason)
    db.commit()
    return {"id": order_id, "status": status}


@router.post("/bonded/orders/{order_id}/returns", status_code=201)
def return_bonded(order_id: str, body: ReasonIn, me: Me, db: DB) -> dict[str, Any]:
    _own_bonded(db, me, order_id)
    status = states.do_return(db, me, order_id, body.reason)
    db.commit()
    return {"id": order_id, "status": status}


@router.post("/bonded/orders/{order_id}/resend")
def resend_bonded(order_id: str, me: Me, db: DB) -> dict[str, Any]:
    """An operator of the order's base sends a rejected declaration again (corrected)."""
    bonded_orders.do_resend_rejected(db, me, order_id)
    db.commit()
    return {"id": order_id, "status": orders.get_order(db, order_id).status}


@router.get("/bases/{base_id}/bonded/summary")
def bonded_summary(base_id: str, me: Me, db: DB) -> dict[str, Any]:
    """The base's operator: declarations by state, problems with reasons, the day's
    pickups per counter, tax collected."""
    bases.check_base_operator(db, me, base_id)
    return report.summary(db, base_id)


@router.get(
    "/bases/{base_id}/bonded/declarations.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "One row per bonded order."}},
)
def bonded_declarations_csv(base_id: str, me: Me, db: DB) -> StreamingResponse:
    """For the customs broker: one row per bonded order, tax by kind, the ID masked."""
    bases.check_base_operator(db, me, base_id)
    buf = io.StringIO()
    buf.write("\ufeff")  # Excel reads UTF-8 only with a BOM
    writer = csv.writer(buf)
    for row in report.broker_rows(db, base_id):
        writer.writerow(row)
    return StreamingResponse(
        iter([buf.getvalue()]),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="bonded-{base_id}.csv"'},
    )
