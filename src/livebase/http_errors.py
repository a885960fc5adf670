"""The HTTP side of errors: the one table from error code to status, and the handlers
that turn every failure (domain errors, validation, malformed JSON, unknown routes) into
``{"error", "detail"[, "fields"]}``."""

from __future__ import annotations

import json
import secrets

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from livebase.errors import ApiError, Code

HTTP_STATUS: dict[Code, int] = {
    # First for 400: the only 400s not raised as ApiError come from reading the body.
    Code.MALFORMED_JSON: 400,
    Code.BAD_REQUEST: 400,
    Code.IDEMPOTENCY_KEY_REQUIRED: 400,
    Code.BAD_SIGNATURE: 400,
    Code.STALE: 400,
    Code.UNAUTHENTICATED: 401,
    Code.BAD_CREDENTIALS: 401,
    Code.FORBIDDEN: 403,
    Code.FORM_EXPIRED: 403,
    Code.MUTED: 403,
    Code.BLOCKED: 403,
    Code.NOT_FOUND: 404,
    Code.METHOD_NOT_ALLOWED: 405,
    Code.CONFLICT: 409,
    Code.USERNAME_TAKEN: 409,
    Code.NOT_OPEN: 409,
    Code.SHOW_ENDED: 409,
    Code.SOLD_OUT: 409,
    Code.LIMIT_EXCEEDED: 409,
    Code.ALREADY_CLAIMED: 409,
    Code.IDEMPOTENCY_CONFLICT: 409,
    Code.QUOTA_EXCEEDED: 409,
    Code.NOT_ALLOWED_GOODS: 409,
    Code.HELD_FOR_REVIEW: 409,
    Code.SLOT_TAKEN: 409,
    Code.PAYLOAD_TOO_LARGE: 413,
    Code.UNSUPPORTED_MEDIA_TYPE: 415,
    Code.VALIDATION_FAILED: 422,
    Code.INVALID_ID_NUMBER: 422,
    Code.RATE_LIMITED: 429,
    Code.INTERNAL_ERROR: 500,
    Code.PROVIDER_UNAVAILABLE: 502,
    Code.OVERLOADED: 503,
    Code.NOT_READY: 503,
}

# Starlette's own HTTPExceptions (unknown route, wrong method) carry a status; name it.
# The first code listed for a status is its generic one.
_CODE_OF_STATUS: dict[int, Code] = {}
for _code, _status in HTTP_STATUS.items():
    _CODE_OF_STATUS.setdefault(_status, _code)


def http_status(exc: ApiError) -> int:
    return HTTP_STATUS[exc.code]


def http_headers(exc: ApiError) -> dict[str, str] | None:
    return {"Retry-After": str(exc.retry_after)} if exc.retry_after is not None else None


def _loc(parts: tuple[object, ...] | list[object]) -> str:
    # A location can carry a client's dict key, which may itself be what was refused (a
    # lone surrogate): escape what UTF-8 cannot encode, or the error answer would fail too.
    return ".".join(str(p) for p in parts).encode("utf-8", "backslashreplace").decode("utf-8")


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, ApiError):  # registered for ApiError only
        raise exc
    return JSONResponse(exc.body(), status_code=http_status(exc), headers=http_headers(exc))


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, RequestValidationError):
        raise exc
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return JSONResponse(
            {"error": Code.MALFORMED_JSON, "detail": "The request body is not valid JSON."},
            status_code=HTTP_STATUS[Code.MALFORMED_JSON],
        )
    fields = [{"loc": _loc(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in errors]
    first = fields[0] if fields else {"loc": "body", "msg": "invalid"}
    return JSONResponse(
        {
            "error": Code.VALIDATION_FAILED,
            "detail": f"{first['loc']}: {first['msg']}",
            "fields": fields,
        },
        status_code=HTTP_STATUS[Code.VALIDATION_FAILED],
    )


# FastAPI reports a body that json cannot read as a generic 400 parse error whose cause
# says why; each cause gets a sentence, all of them the contract's malformed_json.
_UNREADABLE = {
    UnicodeDecodeError: "The request body is not valid UTF-8 JSON.",
    RecursionError: "The request body is nested too deeply.",
    # int() refuses more than 4,300 digits (CPython's limit against quadratic parsing).
    ValueError: "The request body holds a number too long to read.",
}


def _allowed_methods(request: Request) -> str:
    """Every method the path answers, across all the routes that share it: Starlette's
    own Allow names only the first route that matched the path (GET of GET/PATCH/DELETE)."""
    methods: set[str] = set()
    # FastAPI keeps included routers nested; a route context is one route as mounted.
    for route in iter_route_contexts(request.app.router.routes):
        match, _ = route.matches({**request.scope, "method": "GET"})
        if match != Match.NONE:
            methods |= set(route.methods or ())
    return ", ".join(sorted(methods))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):
        raise exc
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 400:
        for kind, sentence in _UNREADABLE.items():
            if isinstance(exc.__cause__, kind):
                return JSONResponse({"error": Code.MALFORMED_JSON, "detail": sentence}, 400)
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    code = str(_CODE_OF_STATUS.get(exc.status_code, "error"))
    detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return JSONResponse(
        {"error": code, "detail": detail}, status_code=exc.status_code, headers=headers or None
    )


class InternalErrorMiddleware:
    """Any unhandled exception answers ``{"error": "internal_error", "detail",
    "request_id"}`` (the id is the request log's, so a report can be found in the log).

    Starlette's own last-resort handler answers plain text and then re-raises, and uvicorn
    closes a connection whose app raised: the client's next request on it was reset. Here
    the exception ends with the answer, so the connection lives on. Sits inside the request
    log (which adds X-Request-Id to the answer) and outside the body limit (whose
    too-large signal must pass through to it).
    """

    DETAIL = "Something went wrong on our side. Quote the request id when you report it."

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked_send)
        except Exception as exc:
            if started or isinstance(exc, StarletteHTTPException):
                raise  # half an answer is out (only closing tells the client), or not ours
            headers = [(b"content-type", b"application/json")]
            request_id = structlog.contextvars.get_contextvars().get("request_id")
            if request_id is None:  # not under the request log: name the answer ourselves
                request_id = secrets.token_hex(6)
                structlog.contextvars.bind_contextvars(request_id=request_id)
                headers.append((b"x-request-id", request_id.encode()))
            structlog.get_logger("livebase.errors").exception(
                "unhandled error", method=scope.get("method"), path=scope.get("path")
            )
            # Pages answer in HTML, in the layout (web/errorpages.py sets the renderer);
            # the API, and a page whose error page fails too, get the JSON body.
            app = scope.get("app")
            render = getattr(getattr(app, "state", None), "render_internal_error", None)
            if render is not None:
                try:
                    page = await render(Request(scope, receive))
                except Exception:
                    structlog.get_logger("livebase.errors").exception("error page failed")
                    page = None
                if page is not None:
                    page.headers["x-request-id"] = request_id
                    await page(scope, receive, send)
                    return
            body = json.dumps(
                {"error": Code.INTERNAL_ERROR, "detail": self.DETAIL, "request_id": request_id}
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": HTTP_STATUS[Code.INTERNAL_ERROR],
                    "headers": [*headers, (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
