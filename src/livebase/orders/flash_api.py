"""Flash-sale and coupon routes (DESIGN §5), and the benchmark's routes.

The order route is async and runs on the event loop: authentication through the token
cache, the decision in the sale's owner, the write in its batch (``orders.hotpath``).
Managing routes (create, open, close, coupons) are ordinary sync routes.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import Field, StrictInt, ValidationError, model_validator
from starlette.concurrency import run_in_threadpool

from livebase.errors import NotFound, UnsupportedMediaType
from livebase.http import DB, NO_BODY, Me, RuntimeDep, require_json
from livebase.orders import coupons, flash, hotpath, idempotency
from livebase.orders.hotpath import FLASH_OWNERS
from livebase.orders.tokencache import TOKEN_CACHE
from livebase.runtime import Runtime
from livebase.schemas import MAX_COUNT, AwareDatetime, Body, Count, Fen, Text
from livebase.shows import service as shows

router = APIRouter(prefix="/api/v1", tags=["flash sales"])
_json = [Depends(require_json)]

Quantity = Annotated[StrictInt, Field(ge=1, le=MAX_COUNT)]
Id = Annotated[Text, Field(min_length=1, max_length=40)]


class SaleIn(Body):
    sku_id: Id
    price_fen: Fen
    quantity: Quantity
    per_buyer_limit: Quantity
    starts_at: AwareDatetime
    ends_at: AwareDatetime


class FlashOrderIn(Body):
    quantity: Quantity
    address_id: Id | None = None
    pickup_counter_id: Id | None = None

    @model_validator(mode="after")
    def _one_destination(self) -> FlashOrderIn:
        if (self.address_id is None) == (self.pickup_counter_id is None):
            raise ValueError("give exactly one of address_id and pickup_counter_id")
        return self


class CouponIn(Body):
    quantity: Quantity
    kind: Literal["amount", "percent"]
    amount_fen: Fen | None = None
    percent: Count | None = None
    cap_fen: Fen | None = None
    min_spend_fen: Fen = 0
    expires_at: AwareDatetime


def _owners(rt: Runtime) -> hotpath.FlashOwners:
    return rt.part(FLASH_OWNERS)


# The order route and the bare benchmark route come first: the router tries its routes
# in declaration order (docs/http.md, "Finding the route"), and these take the burst.


def _check_json(request: Request) -> None:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json" and not (ctype.startswith("application/") and "+json" in ctype):
        raise UnsupportedMediaType(f"Send JSON (Content-Type: application/json), not {ctype}.")


async def _order_body(request: Request) -> FlashOrderIn:
    """The body read straight from its bytes (pydantic's JSON parser), as the bare
    benchmark route does, instead of through FastAPI's dependency solver: errors are the
    ones FastAPI would raise (``loc`` under ``body``), answered by the same handler."""
    raw = await request.body()
    if not raw:
        missing = {"type": "missing", "loc": ("body",), "msg": "Field required", "input": None}
        raise RequestValidationError([missing])
    try:
        return FlashOrderIn.model_validate_json(raw)
    except ValidationError as exc:
        errors = [{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]
        raise RequestValidationError(errors) from None


# The order route reads its own body; the document still describes it.
_ORDER_BODY = {
    "required": True,
    "content": {"application/json": {"schema": FlashOrderIn.model_json_schema()}},
}


@router.post(
    "/flash-sales/{sale_id}/orders",
    status_code=201,
    openapi_extra={"requestBody": _ORDER_BODY},
)
async def order_from_sale(sale_id: str, request: Request) -> Response:
    """The hot path: no threadpool, no database read unless the batch writes."""
    _check_json(request)
    body = await _order_body(request)
    rt: Runtime = request.app.state.runtime
    me = await rt.part(TOKEN_CACHE).require(request)
    key = idempotency.check_key(request.headers.get(idempotency.HEADER))
    owner = await _owners(rt).get(sale_id)
    if owner is None:
        raise NotFound(f"No flash sale {sale_id}.")
    if owner.stale_status():
        await owner.refresh_status()
    digest = idempotency.body_digest(body.model_dump(exclude_none=True))
    answer = owner.submit(
        me.id,
        key,
        digest,
        body.quantity,
        body.address_id,
        body.pickup_counter_id,
        me.display_name,
    )
    if isinstance(answer, asyncio.Future):
        # Shielded: a client that hangs up does not cancel what other requests with the
        # same key wait for, nor the batch.
        answer = await asyncio.shield(answer)
    return _respond(answer)


def _respond(answer: hotpath.Answer) -> Response:
    """The answer as a response; a refusal goes out as the bytes rendered with it, an
    order through orjson (the same bytes as JSONResponse's for these plain values)."""
    headers = hotpath.headers_of(answer)
    rendered = getattr(answer, "rendered", None)
    if rendered is None:
        rendered = orjson.dumps(answer[1])
    return Response(rendered, answer[0], headers, media_type="application/json")


@router.post("/bench/noop", include_in_schema=False)
async def bench_noop(request: Request) -> JSONResponse:
    """bare: the same middleware, body parsing and cached authentication; writes nothing."""
    rt: Runtime = request.app.state.runtime
    _bench_only(rt)
    _check_json(request)
    await rt.part(TOKEN_CACHE).require(request)
    FlashOrderIn.model_validate_json(await request.body())
    idempotency.check_key(request.headers.get(idempotency.HEADER))
    return JSONResponse({"ok": True})


@router.post("/shows/{show_id}/flash-sales", status_code=201, dependencies=_json)
def create_sale(show_id: str, body: SaleIn, me: Me, db: DB) -> dict[str, Any]:
    show = shows.check_manage_show(db, me, show_id)
    sale = flash.do_create_sale(db, me, show, flash.SaleSpec(**body.model_dump()))
    db.commit()
    return flash.sale_view(sale)


@router.get("/flash-sales/{sale_id}")
def read_sale(sale_id: str, db: DB) -> dict[str, Any]:
    return flash.sale_view(flash.get_sale(db, sale_id))


@router.post("/flash-sales/{sale_id}/open", dependencies=[*_json, NO_BODY])
def open_sale(sale_id: str, me: Me, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    sale = flash.check_manage_sale(db, me, sale_id)
    flash.do_open(db, me, sale)
    db.commit()
    _owners(rt).note_status(sale.id, sale.status)
    return flash.sale_view(sale)


@router.post("/flash-sales/{sale_id}/close", dependencies=[*_json, NO_BODY])
def close_sale(sale_id: str, me: Me, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    sale = flash.check_manage_sale(db, me, sale_id)
    flash.do_close(db, me, sale)
    db.commit()
    _owners(rt).note_status(sale.id, "closed")
    return flash.sale_view(sale)


# -- coupons ----------------------------------------------------------------------------


@router.post("/shows/{show_id}/coupons", status_code=201, dependencies=_json)
def create_coupon(show_id: str, body: CouponIn, me: Me, db: DB) -> dict[str, Any]:
    show = shows.check_manage_show(db, me, show_id)
    coupon = coupons.do_create_coupon(db, me, show, coupons.CouponSpec(**body.model_dump()))
    db.commit()
    return coupons.coupon_view(coupon)


@router.get("/coupons/{coupon_id}")
def read_coupon(coupon_id: str, db: DB) -> dict[str, Any]:
    return coupons.coupon_view(coupons.get_coupon(db, coupon_id))


@router.post("/coupons/{coupon_id}/claims", status_code=201, dependencies=[*_json, NO_BODY])
def claim_coupon(coupon_id: str, request: Request, me: Me, db: DB) -> JSONResponse:
    key = idempotency.check_key(request.headers.get(idempotency.HEADER))
    status, content = coupons.do_claim(db, me, coupon_id, key)
    return JSONResponse(content, status_code=status)


# -- benchmark routes (LIVEBASE_BENCH_ROUTES=1 only) ----------------------------------


def _bench_only(rt: Runtime) -> None:
    if not rt.settings.bench_routes:
        raise NotFound("Not found.")


@router.post("/bench/flash-sales/{sale_id}/orders/{mode}", include_in_schema=False)
async def bench_single(
    sale_id: str, mode: Literal["b0", "b1"], body: FlashOrderIn, request: Request
) -> Response:
    """B0: one transaction per order with the conditional update; B1: the same after
    ``SELECT ... FOR UPDATE`` of the sale row. Both in the threadpool, like CRUD routes."""
    rt: Runtime = request.app.state.runtime
    _bench_only(rt)
    _check_json(request)
    me = await rt.part(TOKEN_CACHE).require(request)
    key = idempotency.check_key(request.headers.get(idempotency.HEADER))
    owner = await _owners(rt).get(sale_id)
    if owner is None:
        raise NotFound(f"No flash sale {sale_id}.")
    digest = idempotency.body_digest(body.model_dump(exclude_none=True))
    fut: asyncio.Future[hotpath.Answer] = asyncio.get_running_loop().create_future()
    ask = hotpath.Ask(
        me.id, key, digest, body.quantity, body.address_id, body.pickup_counter_id, fut
    )
    async with rt.admission.slot():
        result = await run_in_threadpool(
            hotpath.write_batch, rt, owner.info, [ask], lock_first=mode == "b1"
        )
    answer = result.answers[0]
    if answer is None:
        code = result.refused[0]
        answer = hotpath.error_answer(code, hotpath.REFUSAL_DETAIL[code])
    return _respond(answer)
