"""Request plumbing shared by every feature's routes: the database session, the
signed-in principal (resolved by ``accounts.web``), the client address, content-type
checks, and pagination."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session

from livebase.accounts.service import Principal
from livebase.accounts.web import SESSION_COOKIE as SESSION_COOKIE  # re-exported for pages
from livebase.accounts.web import UNSAFE_METHODS, request_principal
from livebase.errors import (
    ApiError,
    Code,
    NotFound,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)
from livebase.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


def get_db(request: Request) -> Iterator[Session]:
    """One session per request. Routes commit explicitly after the service call, so a
    response is only sent once its change is durable; anything raised rolls back."""
    with get_runtime(request).sessions() as session:
        yield session


def client_address(request: Request) -> str:
    # Behind a proxy, uvicorn's --proxy-headers (with --forwarded-allow-ips) already puts
    # the real address here; we never trust X-Forwarded-For ourselves.
    return request.client.host if request.client else "unknown"


def optional_principal(
    request: Request, db: Annotated[Session, Depends(get_db)]
) -> Principal | None:
    cached: Principal | None = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    secret = get_runtime(request).settings.secret_key
    principal = request_principal(request, db, secret, api=True)
    request.state.principal = principal
    return principal


def current_principal(
    principal: Annotated[Principal | None, Depends(optional_principal)],
) -> Principal:
    if principal is None:
        raise Unauthenticated("Sign in first: send `Authorization: Bearer <token>`.")
    return principal


def require_json(request: Request) -> None:
    """JSON endpoints answer another content type with 415 before reading the body."""
    if request.method not in UNSAFE_METHODS:
        return
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    has_body = request.headers.get("content-length", "0") != "0" or bool(
        request.headers.get("transfer-encoding")
    )
    if not has_body and not ctype:
        return
    json_like = ctype == "application/json" or (
        ctype.startswith("application/") and ctype.endswith("+json")
    )
    if not json_like:
        raise UnsupportedMediaType(
            f"Send JSON (Content-Type: application/json), not {ctype or 'nothing'}."
        )


async def require_empty_body(request: Request) -> None:
    """Commands that take no body (approve, start, end, rotate, delete) accept none, `{}`
    or `null`. Anything else is refused like any other body: unreadable JSON is 400 and a
    field is an unknown field (422), so a client that sends `{"status": ...}` learns the
    field is not honoured instead of being ignored."""
    raw = await request.body()
    if not raw.strip():
        return
    try:
        value = json.loads(raw)
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise ApiError("The request body is not valid JSON.", code=Code.MALFORMED_JSON) from exc
    if value is None or value == {}:
        return
    names = list(value) if isinstance(value, dict) else []
    fields = [{"loc": f"body.{name}", "msg": "Extra inputs are not permitted"} for name in names]
    raise ApiError(
        "This command takes no body.",
        code=Code.VALIDATION_FAILED,
        fields=fields or [{"loc": "body", "msg": "This command takes no body."}],
    )


NO_BODY = Depends(require_empty_body)


async def refuse_nul(request: Request) -> None:
    """A NUL character in a path or query value is refused here: no id contains one, and
    PostgreSQL cannot even compare a string holding one (the driver raises: a 500).
    Async because it does no I/O: as a sync dependency every request of the app would
    hop to the threadpool for it, the flash-sale hot path included."""
    if any("\x00" in str(v) for v in request.path_params.values()):
        raise NotFound("No such resource.")
    if any("\x00" in k or "\x00" in v for k, v in request.query_params.multi_items()):
        raise ValidationFailed("Query parameters must not contain NUL characters.", loc="query")


def require_multipart(request: Request) -> None:
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "multipart/form-data":
        raise UnsupportedMediaType(
            f"Upload files as multipart/form-data, not {ctype or 'nothing'}."
        )


DB = Annotated[Session, Depends(get_db)]
Me = Annotated[Principal, Depends(current_principal)]
MaybeMe = Annotated[Principal | None, Depends(optional_principal)]
RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


class Page:
    """``?limit=`` (1–100, default 20) and ``?cursor=`` (the last id seen)."""

    def __init__(
        self,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
        cursor: Annotated[str | None, Query(max_length=64)] = None,
    ) -> None:
        self.limit = limit
        self.cursor = cursor


PageDep = Annotated[Page, Depends()]


def paged(items: list[dict[str, object]], page: Page) -> dict[str, object]:
    """Shape a list fetched with ``limit + 1`` rows into ``{items, next_cursor}``."""
    more = len(items) > page.limit
    items = items[: page.limit]
    return {"items": items, "next_cursor": str(items[-1]["id"]) if more and items else None}


def body_error(detail: str) -> ApiError:
    return ApiError(detail, code=Code.VALIDATION_FAILED)
