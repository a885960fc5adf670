"""Pages of bonded goods: the buyer's bonded order (tax, customs state, the pickup code and
its QR once released) and the clerk's counter page (phone first; keyboard entry of the
code, the order and the masked ID, then the last four characters of the ID card)."""

from __future__ import annotations

import json
import secrets
from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from livebase.bases import service as bases
from livebase.bonded import orders as bonded_orders
from livebase.bonded import pickup, pickup_codes
from livebase.errors import ApiError, NotFound
from livebase.http import DB, RuntimeDep, get_runtime
from livebase.orders import service as orders
from livebase.web.render import PageRoute, SignedIn, check_form_csrf, redirect, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
FormText = Annotated[str, Form(max_length=40)]
# 6 px modules: a 10-digit code's QR is ~150 px, read by a counter scanner from a phone.
QR_SCALE = 6


def _qr(data: str) -> Markup:
    # A full QR code, not the Micro QR segno.make picks for 10 digits (phone scanners and
    # most counter scanners do not read Micro QR). segno writes the SVG: safe to inline.
    return Markup(
        segno.make_qr(data, error="m").svg_inline(scale=QR_SCALE, dark="#1d1d1f", omitsize=True)
    )


@router.get("/bonded/orders/{order_id}", response_class=HTMLResponse)
def bonded_order_page(request: Request, order_id: str, db: DB, me: SignedIn) -> Response:
    order = orders.check_own_order(db, me, order_id)
    bo = bonded_orders.bonded_order(db, order.id)
    if bo is None:
        raise NotFound(f"No bonded order {order_id}.")
    view = bonded_orders.bonded_view(db, order, bo, with_code=order.buyer_id == me.id)
    code = view["pickup_code"]
    counter = bases.get_pickup_counter(db, bo.pickup_counter_id) if bo.pickup_counter_id else None
    return render(
        request,
        "bonded/order.html",
        me,
        order=order,
        b=view,
        counter=counter,
        code=pickup_codes.display(code) if code else None,
        qr=_qr(code) if code else None,
        expires=bo.code_expires_at,
    )


def _counter_names(db: DB, counters: set[str]) -> list[str]:
    return [bases.get_pickup_counter(db, c).name for c in sorted(counters)]


def _counter(
    request: Request, db: DB, me: SignedIn, *, status_code: int = 200, **context: Any
) -> Response:
    counters = pickup.check_clerk(me)
    return render(
        request,
        "bonded/counter.html",
        me,
        status_code=status_code,
        counters=_counter_names(db, counters),
        **context,
    )


@router.get("/counter", response_class=HTMLResponse)
def counter_page(request: Request, db: DB, me: SignedIn) -> Response:
    return _counter(request, db, me)


@router.post("/counter/lookup", response_class=HTMLResponse)
def counter_lookup(
    request: Request,
    db: DB,
    me: SignedIn,
    rt: RuntimeDep,
    code: FormText,
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    try:
        found = pickup.do_lookup(db, rt.limiter, me, code)
    except pickup.PickupRefused as exc:
        db.rollback()
        pickup.do_record_refusal(db, me, "lookup", exc)
        db.commit()
        return _counter(request, db, me, status_code=_status(exc), error_text=exc.detail, code=code)
    db.commit()
    return _counter(request, db, me, found=found, code=pickup_codes.normalise(code))


@router.post("/counter/handover", response_class=HTMLResponse)
def counter_handover(
    request: Request,
    db: DB,
    me: SignedIn,
    rt: RuntimeDep,
    code: FormText,
    id_last4: FormText,
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    try:
        done = pickup.do_handover(db, rt.limiter, me, code, id_last4)
    except pickup.PickupRefused as exc:
        db.rollback()
        pickup.do_record_refusal(db, me, "handover", exc)
        db.commit()
        again = None
        if exc.outcome == "wrong_id":  # the same order stays on screen for a second try
            try:
                again = pickup.do_lookup(db, rt.limiter, me, code)
                db.commit()
            except ApiError:
                db.rollback()
        return _counter(
            request,
            db,
            me,
            status_code=_status(exc),
            error_text=exc.detail,
            found=again,
            code=pickup_codes.normalise(code),
        )
    db.commit()
    return _counter(request, db, me, done=done)


# --- the operator's page of a base's bonded orders ---------------------------------------


@router.get("/ops/bonded", response_class=HTMLResponse)
def ops_bonded(
    request: Request,
    db: DB,
    me: SignedIn,
    base_id: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """Declarations by state (bars), the orders waiting on someone with customs' reason (a
    resend button for the rejected), the day's pickups per counter, tax collected, the
    district rules and the broker's CSV. A base's operators (and admins) only."""
    from livebase.bonded import report
    from livebase.dashboard import service as dashboard

    operated = bases.operated_bases(db, me, dashboard.OPS_ONLY)
    if base_id:
        base = dashboard.check_view(db, me, base_id)
    elif operated:
        base = operated[0]
    else:
        raise NotFound("No base to show.")
    summary = report.summary(db, base.id)
    top = max(summary["by_state"].values(), default=0)
    codes = sorted({w.customs_code for w in bases.list_warehouses(db, me, base.id)})
    return render(
        request,
        "bonded/ops.html",
        me,
        base=base,
        bases=operated,
        s=summary,
        top=top,
        rules=[bonded_orders.rules_view(db, c) for c in codes],
        resent=request.query_params.get("resent"),
    )


@router.post("/ops/bonded/orders/{order_id}/resend")
def ops_bonded_resend(
    request: Request, order_id: str, db: DB, me: SignedIn, csrf_token: FormText = ""
) -> Response:
    check_form_csrf(request, me, csrf_token)
    bo = bonded_orders.do_resend_rejected(db, me, order_id)
    db.commit()
    return redirect(f"/ops/bonded?base_id={bo.base_id}&resent={order_id}")


def _status(exc: ApiError) -> int:
    from livebase.http_errors import HTTP_STATUS

    return HTTP_STATUS.get(exc.code, 400)


# --- the in-show buy sheet of imported goods ---------------------------------------------


def _sheet(
    request: Request, db: DB, me: SignedIn, show_id: str, sku: str, **extra: Any
) -> Response:
    from livebase.bonded import identities
    from livebase.shows import service as shows

    show = shows.get_show(db, show_id)
    lines = shows.shelf_lines(db, show)
    line = next((x for x in lines if x.sku_id == sku), None)
    if line is None:
        raise NotFound("That item is not on this show's shelf.")
    mine = identities.list_identities(db, me)
    chosen = extra.pop("identity_id", None) or (mine[0].id if mine else None)
    quote = None
    if chosen is not None:
        quote = bonded_orders.check_quote(db, me, chosen, [(sku, 1)], 0)
    basket = bonded_orders.basket_of(db, sku)
    counters = [
        c
        for c in bases.list_pickup_counters(db, show.base_id)
        if basket is not None and c.warehouse_id == basket.warehouse_id
    ]
    return render(
        request,
        "bonded/buy.html",
        me,
        show=show,
        lines=lines,
        org=bases.get_org(db, show.org_id),
        can_manage=shows.can_manage(me, show),
        line=line,
        identities=mine,
        chosen=chosen,
        quote=quote,
        counters=counters,
        addresses=orders.list_addresses(db, me),
        key=secrets.token_urlsafe(16),
        **extra,
    )


@router.get("/shows/{show_id}/buy-bonded", response_class=HTMLResponse)
def bonded_buy_sheet(
    request: Request, show_id: str, sku: str, db: DB, me: SignedIn, identity: str = ""
) -> Response:
    return _sheet(request, db, me, show_id, sku, identity_id=identity or None)


@router.post("/shows/{show_id}/buy-bonded/identity", response_class=HTMLResponse)
def bonded_buy_identity(
    request: Request,
    show_id: str,
    db: DB,
    me: SignedIn,
    sku_id: FormText,
    name: FormText,
    id_number: FormText,
    csrf_token: FormText = "",
) -> Response:
    """The identity is asked once: kept for every later imported order."""
    from livebase.bonded import identities

    check_form_csrf(request, me, csrf_token)
    try:
        row = identities.do_create_identity(db, me, name, id_number)
    except ApiError as exc:
        db.rollback()
        return _sheet(request, db, me, show_id, sku_id, error_text=exc.detail)
    db.commit()
    return redirect(f"/shows/{show_id}/buy-bonded?sku={sku_id}&identity={row.id}")


@router.post("/shows/{show_id}/buy-bonded")
def bonded_buy(
    request: Request,
    show_id: str,
    db: DB,
    me: SignedIn,
    sku_id: FormText,
    identity_id: FormText,
    destination: FormText,
    key: FormText,
    quantity: Annotated[int, Form(ge=1, le=999)] = 1,
    csrf_token: FormText = "",
) -> Response:
    from livebase.orders import api as orders_api
    from livebase.orders import idempotency

    check_form_csrf(request, me, csrf_token)
    kind, _, dest_id = destination.partition(":")
    address_id = dest_id if kind == "address" else None
    counter_id = dest_id if kind == "counter" else None
    body: dict[str, object] = {
        "show_id": show_id,
        "lines": [{"sku_id": sku_id, "quantity": quantity}],
        "identity_id": identity_id,
        **({"address_id": address_id} if address_id else {"pickup_counter_id": counter_id}),
    }

    def create() -> dict[str, object]:
        dest = orders.check_destination(db, me, address_id, counter_id)
        order = orders.do_checkout(
            db,
            me,
            show_id=show_id,
            lines=[orders.LineSpec(sku_id, quantity)],
            destination=dest,
            pay_window=get_runtime(request).settings.pay_window,
            identity_id=identity_id,
        )
        return orders.order_view(order)

    try:
        answer = orders_api.idempotent(
            db, me.id, idempotency.scope_of("POST", "/api/v1/orders"), key, body, create
        )
    except ApiError as exc:
        db.rollback()
        return _sheet(
            request, db, me, show_id, sku_id, error_text=exc.detail, identity_id=identity_id
        )
    order_id = json.loads(bytes(answer.body))["id"]
    return redirect(f"/me/orders/{order_id}")
