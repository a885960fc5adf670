"""The buyer's pages: the buy sheet of a show's shelf item, my orders, an order with its
timeline (and cancel), and my addresses. They call the same services as the API; the buy
sheet carries an Idempotency-Key made when it is drawn, so a double tap places one order."""

from __future__ import annotations

import json
import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from livebase.bases import service as bases
from livebase.errors import ValidationFailed
from livebase.http import DB, get_runtime
from livebase.orders import api, hooks, idempotency, refunds, service
from livebase.orders.schemas import AddressIn
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
    )


@router.post("/me/orders/{order_id}/cancel")
def cancel(
    request: Request, order_id: str, db: DB, me: SignedIn, csrf_token: FormText = ""
) -> Response:
    check_form_csrf(request, me, csrf_token)
    service.do_cancel(db, me, service.check_own_order(db, me, order_id))
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
