"""The buyer's pages: the buy sheet of a show's shelf item, my orders, an order with its
timeline (cancel, confirm receipt), and my addresses. The merchant's pages: the brand's
orders with a status filter, the CSV export and a sales chart (orders and GMV per hour or
day, for the brand or one show), an order with the ship form and its refund requests to
approve or reject. They call the same services as the API; the buy sheet carries an
Idempotency-Key made when it is drawn, so a double tap places one order."""

from __future__ import annotations

import json
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from livebase.bases import service as bases
from livebase.errors import ApiError, Forbidden, NotFound, ValidationFailed
from livebase.http import DB, get_runtime
from livebase.orders import api, hooks, idempotency, refunds, sales, service
from livebase.orders.models import ORDER_STATUSES
from livebase.orders.schemas import AddressIn, RejectIn, ShipIn
from livebase.shows import service as shows
from livebase.web.render import PageRoute, SignedIn, check_form_csrf, redirect, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
FormText = Annotated[str, Form(max_length=200)]


@router.get("/me/orders", response_class=HTMLResponse)
def my_orders(request: Request, db: DB, me: SignedIn) -> Response:
    rows = service.list_buyer_orders(db, me, status=None, limit=100, cursor=None)[:100]
    return render(request, "orders/mine.html", me, orders=rows)


@router.get("/me/orders/{order_id}", response_class=HTMLResponse)
def my_order(request: Request, order_id: str, db: DB, me: SignedIn) -> Response:
    order = service.check_own_order(db, me, order_id)
    return render(
        request,
        "orders/detail.html",
        me,
        order=order,
        timeline=service.timeline(db, order.id),
        requests=refunds.list_for_order(db, order.id),
        feature_page=service.feature_page(db, order),
    )


@router.post("/me/orders/{order_id}/cancel")
def cancel(
    request: Request, order_id: str, db: DB, me: SignedIn, csrf_token: FormText = ""
) -> Response:
    check_form_csrf(request, me, csrf_token)
    service.do_cancel(db, me, service.check_own_order(db, me, order_id))
    db.commit()
    return redirect(f"/me/orders/{order_id}")


@router.post("/me/orders/{order_id}/complete")
def complete(
    request: Request, order_id: str, db: DB, me: SignedIn, csrf_token: FormText = ""
) -> Response:
    check_form_csrf(request, me, csrf_token)
    order = service.check_own_order(db, me, order_id)
    if order.buyer_id != me.id:
        raise NotFound(f"No order {order_id}.")
    service.do_complete(db, me, order, note="receipt confirmed by the buyer")
    db.commit()
    return redirect(f"/me/orders/{order_id}")


@router.get("/me/addresses", response_class=HTMLResponse)
def my_addresses(request: Request, db: DB, me: SignedIn, next: str = "") -> Response:
    return render(
        request,
        "orders/addresses.html",
        me,
        addresses=service.list_addresses(db, me),
        next=next if next.startswith("/") and not next.startswith("//") else "",
    )


@router.post("/me/addresses")
def add_address(
    request: Request,
    db: DB,
    me: SignedIn,
    name: FormText,
    phone: FormText,
    province: FormText,
    city: FormText,
    district: FormText,
    detail: FormText,
    csrf_token: FormText = "",
    next: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    # The API's own validation, so the page and the API refuse the same addresses.
    try:
        body = AddressIn(
            name=name, phone=phone, province=province, city=city, district=district, detail=detail
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ValidationFailed(f"{first['loc'][0]}: {first['msg']}", loc="form") from None
    service.do_create_address(db, me, service.AddressSpec(**body.model_dump()))
    db.commit()
    safe = next.startswith("/") and not next.startswith("//")
    return redirect(next if safe else "/me/addresses")


@router.get("/shows/{show_id}/buy", response_class=HTMLResponse)
def buy_sheet(request: Request, show_id: str, sku: str, db: DB, me: SignedIn) -> Response:
    show = shows.get_show(db, show_id)
    line = next((x for x in shows.shelf_lines(db, show) if x.sku_id == sku), None)
    if line is None:
        raise ValidationFailed("That item is not on this show's shelf.", loc="sku")
    for hook in hooks.hooks_of(db):  # imported goods: the bonded buy sheet
        other = hook.buy_page(db, show_id, sku)
        if other is not None:
            return redirect(other)
    return render(
        request,
        "orders/buy.html",
        me,
        show=show,
        lines=shows.shelf_lines(db, show),
        org=bases.get_org(db, show.org_id),
        can_manage=shows.can_manage(me, show),
        line=line,
        price=line.live_price_fen or line.price_fen,
        addresses=service.list_addresses(db, me),
        key=secrets.token_urlsafe(16),
    )


@router.post("/shows/{show_id}/buy")
def buy(
    request: Request,
    show_id: str,
    db: DB,
    me: SignedIn,
    sku_id: FormText,
    address_id: FormText,
    key: FormText,
    quantity: Annotated[int, Form(ge=1, le=999)] = 1,
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    body = {
        "show_id": show_id,
        "lines": [{"sku_id": sku_id, "quantity": quantity}],
        "address_id": address_id,
    }

    def create() -> dict[str, object]:
        destination = service.check_destination(db, me, address_id, None)
        order = service.do_checkout(
            db,
            me,
            show_id=show_id,
            lines=[service.LineSpec(sku_id, quantity)],
            destination=destination,
            pay_window=get_runtime(request).settings.pay_window,
        )
        return service.order_view(order)

    # The same scope as the API: a key is one order whether it came from a page or a client.
    scope = idempotency.scope_of("POST", "/api/v1/orders")
    answer = api.idempotent(db, me.id, scope, key, body, create)
    order_id = json.loads(bytes(answer.body))["id"]
    return redirect(f"/me/orders/{order_id}")


# --- the merchant's side -------------------------------------------------------------------

MERCHANT_PAGE = 50  # orders per page of the list


def _first_error(exc: ValidationError) -> ValidationFailed:
    first = exc.errors()[0]
    loc = ".".join(str(x) for x in first["loc"]) or "form"
    return ValidationFailed(f"{loc}: {first['msg']}", loc=f"form.{loc}")


@router.get("/merchant/orders", response_class=HTMLResponse)
def merchant_orders_home(request: Request, db: DB, me: SignedIn) -> Response:
    """The organisations whose orders this user sees; straight to the one when only one."""
    if me.is_admin:
        orgs = [o for b in bases.list_bases(db) for o in bases.list_orgs(db, b.id)]
    else:
        orgs = [bases.get_org(db, oid) for oid in sorted(me.org_ids("merchant", "agency"))]
    orgs = [o for o in orgs if o.kind == "brand"] or orgs
    if not orgs:
        raise Forbidden("Only a brand's staff see its orders.")
    if len(orgs) == 1:
        return redirect(f"/merchant/orgs/{orgs[0].id}/orders")
    return render(request, "orders/merchant_home.html", me, orgs=orgs)


@router.get("/merchant/orgs/{org_id}/orders", response_class=HTMLResponse)
def merchant_orders(
    request: Request,
    org_id: str,
    db: DB,
    me: SignedIn,
    status: str = "",
    bucket: str = "hour",
    show: str = "",
    cursor: str = "",
) -> Response:
    service.check_org_orders(db, me, org_id)
    if status and status not in ORDER_STATUSES:
        raise ValidationFailed(f"No order status {status}.", loc="query.status")
    chosen: sales.Bucket = "day" if bucket == "day" else "hour"
    by_show = sales.sales_by_show(db, org_id)
    show_titles = {}
    for row in by_show:
        try:
            show_titles[row.show_id] = shows.get_show(db, row.show_id).title
        except ApiError:
            show_titles[row.show_id] = row.show_id
    show_id = show if show in show_titles else None
    series = sales.sales_series(db, org_id, chosen, show_id=show_id)
    rows = service.list_org_orders(
        db, org_id, status=status or None, limit=MERCHANT_PAGE, cursor=cursor or None
    )
    more = rows[MERCHANT_PAGE - 1].id if len(rows) > MERCHANT_PAGE else None
    chart = {
        "bucket": chosen,
        "x": series.starts,
        "orders": series.orders,
        "gmv_yuan": [g / 100 for g in series.gmv_fen],
    }
    return render(
        request,
        "orders/merchant_list.html",
        me,
        org=bases.get_org(db, org_id),
        orders=rows[:MERCHANT_PAGE],
        more=more,
        status=status,
        statuses=ORDER_STATUSES,
        bucket=chosen,
        show_id=show_id or "",
        by_show=by_show,
        show_titles=show_titles,
        series=series,
        chart_json=json.dumps(chart),
    )


@router.get("/merchant/orders/{order_id}", response_class=HTMLResponse)
def merchant_order(request: Request, order_id: str, db: DB, me: SignedIn) -> Response:
    order = service.check_merchant_order(db, me, order_id)
    counter = None
    if order.pickup_counter_id:
        try:
            counter = bases.get_pickup_counter(db, order.pickup_counter_id)
        except ApiError:
            counter = None
    return render(
        request,
        "orders/merchant_detail.html",
        me,
        order=order,
        org=bases.get_org(db, order.org_id),
        buyer=service.buyer_name(db, order.buyer_id),
        counter=counter,
        can_ship=order.status in service.ship_states(db, order),
        timeline=service.timeline(db, order.id),
        requests=refunds.list_for_order(db, order.id),
    )


@router.post("/merchant/orders/{order_id}/ship")
def merchant_ship(
    request: Request,
    order_id: str,
    db: DB,
    me: SignedIn,
    carrier: FormText = "",
    tracking_no: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    order = service.check_merchant_order(db, me, order_id)
    try:
        body = ShipIn(carrier=carrier, tracking_no=tracking_no)
    except ValidationError as exc:
        raise _first_error(exc) from None
    service.do_ship(db, me, order, body.carrier, body.tracking_no)
    db.commit()
    return redirect(f"/merchant/orders/{order_id}")


@router.post("/merchant/refund-requests/{request_id}/{decision}")
def merchant_decide(
    request: Request,
    request_id: str,
    decision: str,
    db: DB,
    me: SignedIn,
    reason: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    if decision not in ("approve", "reject"):
        raise NotFound("Not found.")
    row = refunds.check_decide(db, me, request_id)
    why: str | None = None
    if decision == "reject":
        try:
            why = RejectIn(reason=reason).reason
        except ValidationError as exc:
            raise _first_error(exc) from None
    refunds.do_decide(db, me, row, approve=decision == "approve", reason=why)
    db.commit()
    return redirect(f"/merchant/orders/{row.order_id}")
