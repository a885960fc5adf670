"""JSON routes of orders (DESIGN §5 "Orders, flash sales, coupons, payments"): addresses,
checkout, the buyer's orders, cancel and refund requests, and the brand's side (its
orders, CSV export, ship, refund decisions)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy.exc import IntegrityError

from livebase.db import utcnow
from livebase.errors import NotFound
from livebase.http import DB, NO_BODY, Me, PageDep, RuntimeDep, paged, require_json
from livebase.orders import idempotency, refunds, service
from livebase.orders.models import ORDER_STATUSES, Order
from livebase.orders.schemas import AddressIn, OrderIn, RefundRequestIn, RejectIn, ShipIn
from livebase.schemas import rfc3339

router = APIRouter(prefix="/api/v1", tags=["orders"], dependencies=[Depends(require_json)])

StatusQuery = Annotated[str | None, Query(pattern="^(" + "|".join(ORDER_STATUSES) + ")$")]
KeyHeader = Annotated[str | None, Header(alias=idempotency.HEADER)]


def idempotent(
    db: DB,
    user_id: str,
    scope: str,
    raw_key: str | None,
    body: dict[str, Any],
    create: Callable[[], dict[str, Any]],
) -> JSONResponse:
    """Answer a creating POST once per ``Idempotency-Key`` (DESIGN §4). The record is
    written in the transaction of what the request created; a request that lost a race
    for the same key rolls back and answers the winner's response. A refused request
    (4xx) records nothing: it changed nothing, and a retry may succeed."""
    key = idempotency.check_key(raw_key)
    digest = idempotency.body_digest(body)
    replay = idempotency.find(db, user_id, scope, key, digest)
    if replay is not None:
        return JSONResponse(replay.response, status_code=replay.status_code)
    out = create()
    try:
        idempotency.do_remember(db, user_id, scope, key, digest, 201, out)
        db.commit()
    except IntegrityError:
        db.rollback()
        replay = idempotency.find(db, user_id, scope, key, digest)
        if replay is None:
            raise
        return JSONResponse(replay.response, status_code=replay.status_code)
    return JSONResponse(out, status_code=201)


# --- addresses ------------------------------------------------------------------------


@router.post("/addresses", status_code=201)
def create_address(body: AddressIn, me: Me, db: DB) -> dict[str, Any]:
    row = service.do_create_address(db, me, service.AddressSpec(**body.model_dump()))
    db.commit()
    return service.address_view(row)


@router.get("/addresses")
def list_addresses(me: Me, db: DB) -> dict[str, Any]:
    return {
        "items": [service.address_view(a) for a in service.list_addresses(db, me)],
        "next_cursor": None,
    }


# --- the buyer's side -----------------------------------------------------------------


@router.post("/orders", status_code=201)
def create_order(
    body: OrderIn, me: Me, db: DB, rt: RuntimeDep, key: KeyHeader = None
) -> JSONResponse:
    def create() -> dict[str, Any]:
        destination = service.check_destination(db, me, body.address_id, body.pickup_counter_id)
        order = service.do_checkout(
            db,
            me,
            show_id=body.show_id,
            lines=[service.LineSpec(line.sku_id, line.quantity) for line in body.lines],
            destination=destination,
            coupon_claim_id=body.coupon_claim_id,
            pay_window=rt.settings.pay_window,
            identity_id=body.identity_id,
        )
        return service.order_view(order)

    scope = idempotency.scope_of("POST", "/api/v1/orders")
    return idempotent(
        db, me.id, scope, key, body.model_dump(mode="json", exclude_none=True), create
    )


@router.get("/orders")
def list_my_orders(me: Me, db: DB, page: PageDep, status: StatusQuery = None) -> dict[str, Any]:
    rows = service.list_buyer_orders(db, me, status=status, limit=page.limit, cursor=page.cursor)
    return paged([service.order_view(o) for o in rows], page)


def detail(db: DB, order: Order) -> dict[str, Any]:
    out = service.order_view(order)
    out["timeline"] = [service.transition_view(t) for t in service.timeline(db, order.id)]
    out["refund_requests"] = [
        refunds.refund_request_view(r) for r in refunds.list_for_order(db, order.id)
    ]
    return out


@router.get("/orders/{order_id}")
def get_order(order_id: str, me: Me, db: DB) -> dict[str, Any]:
    return detail(db, service.check_see_order(db, me, order_id))


@router.post("/orders/{order_id}/cancel", dependencies=[NO_BODY])
def cancel_order(order_id: str, me: Me, db: DB) -> dict[str, Any]:
    order = service.check_own_order(db, me, order_id)
    service.do_cancel(db, me, order)
    db.commit()
    return detail(db, service.get_order(db, order_id))


@router.post("/orders/{order_id}/complete", dependencies=[NO_BODY])
def complete_order(order_id: str, me: Me, db: DB) -> dict[str, Any]:
    """The buyer confirms receipt (确认收货): ``shipped → completed``."""
    order = service.check_own_order(db, me, order_id)
    if order.buyer_id != me.id:  # staff may read an order; only its buyer receives it
        raise NotFound(f"No order {order_id}.")
    service.do_complete(db, me, order, note="receipt confirmed by the buyer")
    db.commit()
    return detail(db, service.get_order(db, order_id))


@router.post("/orders/{order_id}/refund-requests", status_code=201)
def request_refund(order_id: str, body: RefundRequestIn, me: Me, db: DB) -> dict[str, Any]:
    order = service.check_own_order(db, me, order_id)
    row = refunds.do_file(db, me, order, body.reason)
    db.commit()
    return refunds.refund_request_view(row)


# --- the brand's side ---------------------------------------------------------------------


@router.get("/orgs/{org_id}/orders")
def list_org_orders(
    org_id: str, me: Me, db: DB, page: PageDep, status: StatusQuery = None
) -> dict[str, Any]:
    service.check_org_orders(db, me, org_id)
    rows = service.list_org_orders(db, org_id, status=status, limit=page.limit, cursor=page.cursor)
    return paged([service.order_view(o) for o in rows], page)


CSV_COLUMNS = (
    "order_id",
    "created_at",
    "status",
    "show_id",
    "sku_id",
    "title",
    "attrs",
    "unit_price_fen",
    "quantity",
    "goods_fen",
    "discount_fen",
    "total_fen",
    "paid_at",
    "shipped_at",
    "carrier",
    "tracking_no",
    "name",
    "phone",
    "address",
    "pickup_counter_id",
)


def _csv_rows(orders: Iterator[Order]) -> Iterator[list[Any]]:
    for o in orders:
        to = o.ship_to or {}
        address = " ".join(str(to.get(k, "")) for k in ("province", "city", "district", "detail"))
        for ln in o.lines:  # one row per line: a merchant's pick list
            attrs = " ".join(f"{k}:{v}" for k, v in ln.attrs.items())
            yield [
                o.id,
                rfc3339(o.created_at),
                o.status,
                o.show_id or "",
                ln.sku_id,
                ln.title,
                attrs,
                ln.unit_price_fen,
                ln.quantity,
                o.goods_fen,
                o.discount_fen,
                o.total_fen,
                rfc3339(o.paid_at) or "",
                rfc3339(o.shipped_at) or "",
                o.carrier or "",
                o.tracking_no or "",
                to.get("name", ""),
                to.get("phone", ""),
                address.strip(),
                o.pickup_counter_id or "",
            ]


@router.get(
    "/orgs/{org_id}/orders.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "the orders as CSV"}},
)
def export_org_orders(org_id: str, me: Me, db: DB, status: StatusQuery = None) -> StreamingResponse:
    service.check_org_orders(db, me, org_id)
    rows = list(_csv_rows(iter(service.iter_org_orders(db, org_id, status))))

    def body() -> Iterator[str]:
        # A BOM first: Excel, which most merchants open this with, then reads UTF-8.
        buf = io.StringIO()
        buf.write("\ufeff")
        writer = csv.writer(buf)
        writer.writerow(CSV_COLUMNS)
        writer.writerows(rows)
        yield buf.getvalue()

    name = f"orders-{org_id}-{utcnow():%Y%m%d}.csv"
    return StreamingResponse(
        body(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.post("/orders/{order_id}/ship")
def ship_order(order_id: str, body: ShipIn, me: Me, db: DB) -> dict[str, Any]:
    order = service.check_merchant_order(db, me, order_id)
    service.do_ship(db, me, order, body.carrier, body.tracking_no)
    db.commit()
    return detail(db, service.get_order(db, order_id))


@router.post("/refund-requests/{request_id}/approve", dependencies=[NO_BODY])
def approve_refund(request_id: str, me: Me, db: DB) -> dict[str, Any]:
    row = refunds.check_decide(db, me, request_id)
    refunds.do_decide(db, me, row, approve=True, reason=None)
    db.commit()
    return refunds.refund_request_view(row)


@router.post("/refund-requests/{request_id}/reject")
def reject_refund(request_id: str, body: RejectIn, me: Me, db: DB) -> dict[str, Any]:
    row = refunds.check_decide(db, me, request_id)
    refunds.do_decide(db, me, row, approve=False, reason=body.reason)
    db.commit()
    return refunds.refund_request_view(row)
