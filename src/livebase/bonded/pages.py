"""Pages of bonded goods: the buyer's bonded order (tax, customs state, the pickup code and
its QR once released) and the clerk's counter page (phone first; keyboard entry of the
code, the order and the masked ID, then the last four characters of the ID card)."""

from __future__ import annotations

from typing import Annotated, Any

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from livebase.bases import service as bases
from livebase.bonded import orders as bonded_orders
from livebase.bonded import pickup, pickup_codes
from livebase.errors import ApiError, NotFound
from livebase.http import DB, RuntimeDep
from livebase.orders import service as orders
from livebase.web.render import PageRoute, SignedIn, check_form_csrf, render

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


def _status(exc: ApiError) -> int:
    from livebase.http_errors import HTTP_STATUS

    return HTTP_STATUS.get(exc.code, 400)
