"""The host console (中控台) page and the viewer's one-tap flash-sale grab.

The console is one page for the people who run a show's room: its host, its organisation's
staff (merchant or agency) and its organisation's room assistants (场控, role
``assistant``). Every action on it is an existing REST call made by ``console.js`` with the
cookie session and the CSRF header (explain, flash sale, coupon, lucky bag, notice, chat
moderation); the page itself only checks access and renders the shelf. The live numbers
come from the room's own frames on the same socket viewers use.

The grab route exists because the flash-sale order endpoint is bearer-only (its hot path
resolves tokens from a cache without a database read); a phone on the viewer page has a
cookie session instead, so this route authenticates the cookie and the CSRF header, picks
the buyer's first address and hands the order to the same sale owner the API uses.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from livebase.accounts import web as signed_in_user
from livebase.accounts.service import Principal
from livebase.bases import service as bases
from livebase.errors import ApiError, Forbidden, NotFound, Unauthenticated, ValidationFailed
from livebase.http import DB, get_runtime
from livebase.http_errors import http_status
from livebase.orders import idempotency
from livebase.orders import service as orders
from livebase.orders.flash_api import FlashOrderIn
from livebase.orders.hotpath import FLASH_OWNERS
from livebase.shows import service as shows
from livebase.shows.models import Show
from livebase.web.i18n import Translator, catalog, pick_lang, translator
from livebase.web.render import PageRoute, SignedIn, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)

ASSISTANT = "assistant"
# Keys the room scripts read in the page's language (see rooms/i18n/*.json).
_SCRIPT_PREFIXES = ("room.", "console.")


def can_run_room(user: Principal, show: Show) -> bool:
    """The show's host, its organisation's staff, or one of its organisation's room
    assistants."""
    return shows.can_manage(user, show) or show.org_id in user.org_ids(ASSISTANT)


def check_run_room(user: Principal, show: Show) -> None:
    if not can_run_room(user, show):
        raise Forbidden("Only the show's host, its organisation's staff and room assistants.")


def page_messages(t: Translator) -> dict[str, str]:
    keys = [k for k in catalog("en") if k.startswith(_SCRIPT_PREFIXES)]
    return {k: t(k) for k in keys}


@router.get("/host/shows/{show_id}/console", response_class=HTMLResponse)
def console(request: Request, show_id: str, db: DB, me: SignedIn) -> Response:
    show = shows.get_show(db, show_id)
    check_run_room(me, show)
    t = translator(pick_lang(request))
    lines = shows.shelf_lines(db, show)
    return render(
        request,
        "rooms/console.html",
        me,
        show=show,
        lines=lines,
        org=bases.get_org(db, show.org_id),
        room_i18n=page_messages(t),
        shelf_json=[
            {
                "no": x.no,
                "sku_id": x.sku_id,
                "title": x.title,
                "price_fen": x.price_fen,
                "live_price_fen": x.live_price_fen,
                "stock": x.stock,
                "thumb_url": x.thumb_url,
            }
            for x in lines
        ],
        # Moderation controls are shown to everyone who runs the room; the rooms REST
        # decides what each may do.
        is_host=me.id == show.host_id,
    )


def _error(exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=http_status(exc))


def _buyer(request: Request, db: DB) -> tuple[Principal, str]:
    """The cookie session's user (CSRF header checked) and the address a grab ships to."""
    secret = get_runtime(request).settings.secret_key
    me = signed_in_user.request_principal(request, db, secret, api=False)
    if me is None:
        raise Unauthenticated("Sign in first.")
    signed_in_user.check_form_csrf(secret, me, request.headers.get(signed_in_user.CSRF_HEADER, ""))
    addresses = orders.list_addresses(db, me)
    if not addresses:
        raise ValidationFailed("Add an address first.", loc="address_id")
    return me, addresses[0].id


@router.post("/shows/{show_id}/flash-sales/{sale_id}/grab")
async def grab(show_id: str, sale_id: str, request: Request) -> Response:
    """One tap on the viewer page: one unit of an open sale to the buyer's first address,
    through the sale's owner exactly as ``POST /api/v1/flash-sales/{id}/orders``."""
    rt = get_runtime(request)
    try:
        key = idempotency.check_key(request.headers.get(idempotency.HEADER))

        def who() -> tuple[Principal, str]:
            with rt.sessions() as db:
                return _buyer(request, db)

        me, address_id = await run_in_threadpool(who)
        owner = await rt.part(FLASH_OWNERS).get(sale_id)
        if owner is None or owner.info.show_id != show_id:
            raise NotFound(f"No flash sale {sale_id} in this show.")
        if owner.stale_status():
            await owner.refresh_status()
        try:
            body = FlashOrderIn(quantity=1, address_id=address_id)
        except ValidationError as exc:  # an address id the schema refuses: not ours
            raise Forbidden("That address cannot be used.") from exc
        digest = idempotency.body_digest(body.model_dump(exclude_none=True))
        answer = owner.submit(me.id, key, digest, 1, address_id, None)
        if isinstance(answer, asyncio.Future):
            answer = await asyncio.shield(answer)
    except ApiError as exc:
        return _error(exc)
    status, content = answer
    return JSONResponse(content, status_code=status)
