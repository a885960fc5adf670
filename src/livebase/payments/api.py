"""Payment routes: create a payment for one's own pending order, and the providers'
callbacks (DESIGN §5)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError

from livebase.http import DB, Me, RuntimeDep, require_json
from livebase.orders import idempotency
from livebase.payments import service
from livebase.payments.parts import PAYMENTS
from livebase.payments.schemas import PaymentIn

router = APIRouter(prefix="/api/v1", tags=["payments"], dependencies=[Depends(require_json)])
# Callbacks are checked by their signature, over the raw bytes, before anything else.
callbacks = APIRouter(prefix="/api/v1", tags=["payments"])

CREATE_SCOPE = idempotency.scope_of("POST", "/api/v1/orders/{id}/payments")


@router.post("/orders/{order_id}/payments", status_code=201)
def create_payment(
    order_id: str,
    body: PaymentIn,
    me: Me,
    db: DB,
    rt: RuntimeDep,
    idempotency_key: Annotated[str | None, Header(alias=idempotency.HEADER)] = None,
) -> JSONResponse:
    key = idempotency.check_key(idempotency_key)
    digest = idempotency.body_digest({"order_id": order_id, **body.model_dump()})
    replay = idempotency.find(db, me.id, CREATE_SCOPE, key, digest)
    if replay is not None:
        return JSONResponse(replay.response, status_code=replay.status_code)
    payment = service.do_create_payment(db, me, rt.part(PAYMENTS), order_id, body.provider)
    out = service.payment_view(payment)
    try:
        idempotency.do_remember(db, me.id, CREATE_SCOPE, key, digest, 201, out)
        db.commit()
    except IntegrityError:
        # The same key raced in on another request and won: answer what it answered.
        db.rollback()
        replay = idempotency.find(db, me.id, CREATE_SCOPE, key, digest)
        if replay is None:
            raise
        return JSONResponse(replay.response, status_code=replay.status_code)
    return JSONResponse(out, status_code=201)


async def raw_body(request: Request) -> bytes:
    return await request.body()


@callbacks.post("/payments/callbacks/{provider}", status_code=204)
def take_callback(
    provider: str,
    request: Request,
    db: DB,
    rt: RuntimeDep,
    body: Annotated[bytes, Depends(raw_body)],
) -> Response:
    service.do_take_callback(db, rt.part(PAYMENTS), provider, request.headers, body)
    db.commit()
    return Response(status_code=204)
