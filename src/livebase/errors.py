"""Errors are data: a stable snake_case code for machines, a sentence for people.

Services raise :class:`ApiError` subclasses (they know nothing of HTTP beyond the status
each code maps to); the handlers here turn every failure into
``{"error", "detail"[, "fields"]}``.
"""

from __future__ import annotations

import json
import secrets
from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import iter_route_contexts
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class ApiError(Exception):
    status = 400
    code = "malformed_json"

    def __init__(
        self,
        detail: str,
        *,
        code: str | None = None,
        status: int | None = None,
        fields: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        if status is not None:
            self.status = status
        self.fields = fields
        self.headers = headers
        self.extra = extra

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": self.code, "detail": self.detail}
        if self.fields:
            out["fields"] = self.fields
        if self.extra:
            out.update(self.extra)
        return out


class Unauthenticated(ApiError):
    status, code = 401, "unauthenticated"


class BadCredentials(ApiError):
    status, code = 401, "bad_credentials"


class Forbidden(ApiError):
    status, code = 403, "forbidden"


class NotFound(ApiError):
    status, code = 404, "not_found"


class Conflict(ApiError):
    status, code = 409, "conflict"


class ValidationFailed(ApiError):
    status, code = 422, "validation_failed"

    def __init__(self, detail: str, *, loc: str | None = None) -> None:
        fields = [{"loc": loc, "msg": detail}] if loc else None
        super().__init__(detail, fields=fields)


class PayloadTooLarge(ApiError):
    status, code = 413, "payload_too_large"


class UnsupportedMediaType(ApiError):
    status, code = 415, "unsupported_media_type"


class RateLimited(ApiError):
    status, code = 429, "rate_limited"

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(max(1, retry_after))})


_STATUS_CODES = {
    # The only 400s not raised as ApiError come from reading the body (see _http_error).
    400: "malformed_json",
    401: "unauthenticated",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def _loc(parts: tuple[Any, ...] | list[Any]) -> str:
    # A location can carry a client's dict key, which may itself be what was refused (a
    # lone surrogate): escape what UTF-8 cannot encode, or the error answer would fail too.
    return ".".join(str(p) for p in parts).encode("utf-8", "backslashreplace").decode("utf-8")


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return JSONResponse(
            {"error": "malformed_json", "detail": "The request body is not valid JSON."},
            status_code=400,
        )
    fields = [{"loc": _loc(e.get("loc", ())), "msg": str(e.get("msg", ""))} for e in errors]
    first = fields[0] if fields else {"loc": "body", "msg": "invalid"}
    return JSONResponse(
        {
            "error": "validation_failed",
            "detail": f"{first['loc']}: {first['msg']}",
            "fields": fields,
        },
        status_code=422,
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
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 400:
        cause = exc.__cause__
        for kind, sentence in _UNREADABLE.items():
            if isinstance(cause, kind):
                return JSONResponse({"error": "malformed_json", "detail": sentence}, 400)
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request)
    code = _STATUS_CODES.get(exc.status_code, "error")
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
            body = json.dumps(
                {"error": "internal_error", "detail": self.DETAIL, "request_id": request_id}
            ).encode()
            await send(
                {
                    "type": "http.response.start",
                    "status": 500,
                    "headers": [*headers, (b"content-length", str(len(body)).encode())],
                }
            )
            await send({"type": "http.response.body", "body": body})


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
