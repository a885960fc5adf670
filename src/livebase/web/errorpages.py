"""Error pages for people: a page URL that does not exist, or a page that failed, answers
in HTML inside the layout and in the visitor's language; the API keeps its JSON bodies.

A request is a page request when its path is not under /api/ and the client accepts HTML
(a browser's Accept header lists text/html; curl's */* and API clients' JSON do not).
"""

from __future__ import annotations

import inspect
import io
from functools import cache
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, Response
from PIL import Image, ImageDraw
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from livebase.accounts import web as signed_in_user
from livebase.accounts.service import Principal
from livebase.http import SESSION_COOKIE, get_runtime
from livebase.logs import get_logger
from livebase.web.render import STATIC_DIR, render_error

log = get_logger("livebase.web")
_CODES = {404: "page_not_found", 405: "method_not_allowed", 403: "forbidden"}


def is_page_request(request: Request) -> bool:
    path = request.url.path
    if path.startswith(("/api/", "/uploads/", "/static/")) or path in ("/healthz", "/readyz"):
        return False
    return "text/html" in request.headers.get("accept", "")


def _principal(request: Request) -> Principal | None:
    """The signed-in user for the layout; no route ran, so nobody resolved the cookie."""
    known: Principal | None = getattr(request.state, "principal", None)
    if known is not None:
        return known
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie:
        return None
    rt = get_runtime(request)
    try:
        with rt.sessions() as db:
            return signed_in_user.request_principal(request, db, rt.settings.secret_key, api=False)
    except Exception:  # the error page must render even when the database is away
        return None


async def _page(request: Request, status: int, code: str) -> Response:
    request.state.principal = await run_in_threadpool(_principal, request)
    return render_error(request, status, code)


@cache
def favicon_ico() -> bytes:
    """The favicon.svg drawing, rasterised for clients that ask for /favicon.ico."""
    size = 64
    img = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    draw.rounded_rectangle((2, 2, 62, 62), radius=14, fill=(228, 57, 60))
    draw.polygon([(24, 17), (24, 47), (48, 32)], fill=(255, 255, 255))
    draw.ellipse((46, 8, 56, 18), fill=(255, 214, 0))
    buf = io.BytesIO()
    img.save(buf, format="ICO", sizes=[(16, 16), (32, 32), (48, 48), (64, 64)])
    return buf.getvalue()


def install(app: FastAPI) -> None:
    """Wrap the JSON handlers (installed first by errors.install_error_handlers) so page
    requests get HTML; everything else goes to the handler that was there before."""
    json_http = app.exception_handlers[StarletteHTTPException]
    json_500 = app.exception_handlers.get(Exception)

    async def http_error(request: Request, exc: Exception) -> Any:
        if (
            isinstance(exc, StarletteHTTPException)
            and exc.status_code in _CODES
            and is_page_request(request)
        ):
            return await _page(request, exc.status_code, _CODES[exc.status_code])
        answer = json_http(request, exc)
        return await answer if inspect.isawaitable(answer) else answer

    async def server_error(request: Request, exc: Exception) -> Any:
        if is_page_request(request):
            log.exception("page failed", path=request.url.path, exc_info=exc)
            return await _page(request, 500, "internal_error")
        if json_500 is not None:
            answer = json_500(request, exc)
            return await answer if inspect.isawaitable(answer) else answer
        raise exc

    async def internal_error_page(request: Request) -> Response | None:
        # Called by http_errors.InternalErrorMiddleware, which catches what no handler did
        # (it logs the error itself): None lets it answer JSON.
        return await _page(request, 500, "internal_error") if is_page_request(request) else None

    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, server_error)
    app.state.render_internal_error = internal_error_page

    @app.get("/favicon.svg", include_in_schema=False)
    def favicon_svg() -> Response:
        return FileResponse(STATIC_DIR / "favicon.svg", media_type="image/svg+xml")

    @app.get("/favicon.ico", include_in_schema=False)
    def favicon() -> Response:
        return Response(
            favicon_ico(), media_type="image/x-icon", headers={"Cache-Control": "max-age=86400"}
        )
