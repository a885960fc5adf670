"""The HTTP side of errors: the one table from error code to status, and the handlers
that turn every failure (domain errors, validation, malformed JSON, unknown routes) into
``{"error", "detail"[, "fields"]}``."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from livebase.errors import ApiError, Code

HTTP_STATUS: dict[Code, int] = {
    Code.BAD_REQUEST: 400,
    Code.MALFORMED_JSON: 400,
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
    return ".".join(str(p) for p in parts)


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


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, StarletteHTTPException):
        raise exc
    if exc.status_code == 400 and isinstance(exc.__cause__, UnicodeDecodeError):
        # FastAPI reports a JSON body that is not UTF-8 as a generic 400 parse error.
        return JSONResponse(
            {"error": Code.MALFORMED_JSON, "detail": "The request body is not valid UTF-8 JSON."},
            status_code=400,
        )
    code = str(_CODE_OF_STATUS.get(exc.status_code, "error"))
    detail = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    return JSONResponse(
        {"error": code, "detail": detail},
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
