"""The sandbox pay page: the amount, a QR code of the page itself (scan it with a phone
from a desktop screen, as with a real provider's code) and a confirm button."""

from __future__ import annotations

from typing import Annotated

import segno
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from livebase.http import DB, RuntimeDep
from livebase.payments import service
from livebase.payments.parts import PAYMENTS
from livebase.web.render import PageRoute, SignedIn, check_form_csrf, redirect, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
# Module size of the QR code in px: 5 makes a ~200 px code for a pay URL, scannable from
# a phone held at arm's length from a laptop screen.
QR_SCALE = 5


def qr_svg(data: str) -> Markup:
    # segno writes the SVG itself (no user text goes into the markup but the encoded URL,
    # which segno escapes as path data): safe to inline.
    return Markup(segno.make(data, error="m").svg_inline(scale=QR_SCALE, dark="#1d1d1f"))


@router.get("/pay/sandbox/{payment_id}", response_class=HTMLResponse)
def pay_page(request: Request, payment_id: str, db: DB, me: SignedIn, rt: RuntimeDep) -> Response:
    payment, order = service.check_own_payment(db, me, payment_id)
    if payment.provider != rt.part(PAYMENTS).sandbox.name:
        return render(request, "error.html", me, status_code=404, status=404, code="not_found")
    waiting = payment.status == "pending" and payment.confirmed_at is not None
    return render(
        request,
        "payments/sandbox_pay.html",
        me,
        payment=payment,
        order=order,
        qr=qr_svg(payment.pay_url),
        waiting=waiting,
        payable=order.status == "pending_payment" and payment.confirmed_at is None,
    )


@router.post("/pay/sandbox/{payment_id}/confirm")
def confirm(
    request: Request,
    payment_id: str,
    db: DB,
    me: SignedIn,
    rt: RuntimeDep,
    csrf_token: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    service.do_confirm_sandbox(db, me, rt.part(PAYMENTS), payment_id)
    db.commit()
    return redirect(f"/pay/sandbox/{payment_id}")
