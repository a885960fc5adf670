"""Request plumbing shared by every feature's routes: the database session, the
signed-in principal (resolved by ``accounts.web``), the client address, content-type
checks, and pagination."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.exceptions import HTTPException as StarletteHTTPException

from livebase.accounts.service import Principal
from livebase.accounts.web import SESSION_COOKIE as SESSION_COOKIE  # re-exported for pages
from livebase.accounts.web import UNSAFE_METHODS, request_principal
from livebase.errors import (
    ApiError,
    Code,
    Overloaded,
    Unauthenticated,
    UnsupportedMediaType,
    ValidationFailed,
)
from livebase.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


async def get_db(request: Request) -> AsyncIterator[Session]:
    """One session per request that needs the database. Routes commit explicitly after the
    service call, so a response is only sent once its change is durable; anything raised
    rolls back.

    Async on purpose: the request is admitted (or refused with 503 overloaded) in the
    event loop, holding no thread while it waits, and only then gets a session; see
    livebase.admission and docs/http.md "Under load"."""
    rt = get_runtime(request)
    async with rt.admission.slot():
        session = rt.sessions()
        try:
            yield session
        except PoolTimeout as exc:
            # Only reachable when something outside admission drained the pool's reserve.
            raise Overloaded("The server is busy: no database connection is free.") from exc
        finally:
            await rt.admission.close(session)


def client_address(request: Request) -> str:
    # Behind a proxy named in LIVEBASE_TRUSTED_PROXIES, uvicorn's proxy-headers middleware
    # already put the real address here; we never read X-Forwarded-For ourselves.
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


async def require_json(request: Request) -> None:
    """JSON endpoints answer another content type with 415, and JSON that is not UTF-8
    with 400 (DESIGN §4). Python's json reads UTF-16 and UTF-32 bytes as well; their NUL
    bytes, which UTF-8 JSON can never hold (controls are escaped), give them away."""
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
    raw = await request.body()  # already read (and kept) by FastAPI for the body field
    if b"\x00" in raw:
        raise ApiError("The request body is not UTF-8 JSON.", code=Code.MALFORMED_JSON)


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
    except (ValueError, RecursionError) as exc:  # also JSONDecodeError, UnicodeDecodeError
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


Limit = Annotated[int, Query(ge=1, le=100, description="Items per page.")]
# An id as db.new_id makes them: a prefix, "_", 26 Crockford base32 characters.
_ID_BODY = "[0-9a-hjkmnp-tv-z]{26}"


class Page:
    """``?limit=`` (1–100, default 20) and ``?cursor=`` (the last id seen)."""

    def __init__(self, limit: int = 20, cursor: str | None = None) -> None:
        self.limit = limit
        self.cursor = cursor


def page_of(prefix: str) -> Callable[..., Page]:
    """The paging parameters of a list of ids with ``prefix``, as a dependency
    (``page: Annotated[Page, Depends(page_of("prd"))]``): a cursor that is not such an id
    is refused (422) rather than silently answering the first or an empty page."""

    def dependency(limit: Limit = 20, cursor: str | None = None) -> Page:
        return Page(limit, cursor)

    # Set as an object: under `from __future__ import annotations` an annotation that
    # uses `prefix` would be a string FastAPI cannot resolve outside this call.
    dependency.__annotations__["cursor"] = Annotated[
        str | None,
        Query(pattern=f"^{prefix}_{_ID_BODY}$", description="The next_cursor of a page."),
    ]
    PAGE_DEPENDENCIES.add(dependency)
    return dependency


# Every page_of dependency made: the OpenAPI document gives their routes the Page schema.
PAGE_DEPENDENCIES: set[Callable[..., Page]] = set()
# Any kind of id, for lists whose items are not of one kind.
PageDep = Annotated[Page, Depends(page_of("[a-z]{2,5}"))]


def paged(items: Sequence[Mapping[str, object]], page: Page) -> dict[str, object]:
    """Shape a list fetched with ``limit + 1`` rows into ``{items, next_cursor}``."""
    more = len(items) > page.limit
    items = items[: page.limit]
    return {"items": items, "next_cursor": str(items[-1]["id"]) if more and items else None}


async def read_upload(request: Request, limit: int) -> bytes:
    """The one file of an upload form, in a field named ``file``; at most ``limit + 1``
    bytes are read, so the image check can tell an oversized file."""
    try:
        form = await request.form(max_files=1, max_fields=4)
    except StarletteHTTPException as exc:
        if exc.status_code != 400:  # the body limit's 413 passes through
            raise
        # Starlette refuses a second file, a fifth field or broken framing with a bare 400.
        raise ValidationFailed(
            f"{exc.detail} Send one image in the form field `file`.", loc="file"
        ) from exc
    file = form.get("file")
    if not isinstance(file, StarletteUpload):
        raise ValidationFailed("Send the image in a form field named `file`.", loc="file")
    return await file.read(limit + 1)


def body_error(detail: str) -> ApiError:
    return ApiError(detail, code=Code.VALIDATION_FAILED)
