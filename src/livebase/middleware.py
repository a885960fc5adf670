"""ASGI middleware: body size limits and the request log."""

from __future__ import annotations

import json
import random
import time

import structlog
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from livebase.errors import ApiError, NotFound, PayloadTooLarge, ValidationFailed
from livebase.http_errors import http_status
from livebase.logs import log_request


class _TooLarge(HTTPException):
    """Raised from ``receive`` when a body without a (truthful) Content-Length passes the
    limit. An HTTPException, because FastAPI turns any other error raised while it reads
    a JSON body into a 400; this way the app's handler answers 413 payload_too_large."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")


class BodyLimitMiddleware:
    """Refuse bodies over the limit with 413 before the app reads them whole.

    Multipart uploads get the upload limit plus room for the form's own framing; every
    other body gets the JSON limit. Chunked bodies are counted as they arrive.
    """

    # Multipart framing (boundaries, part headers) around a 10 MiB file stays far below 64 KiB.
    FORM_OVERHEAD = 64 * 1024

    def __init__(self, app: ASGIApp, json_limit: int, upload_limit: int) -> None:
        self.app = app
        self.json_limit = json_limit
        self.upload_limit = upload_limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        ctype = b""
        declared: bytes | None = None
        chunked = False
        for name, value in scope["headers"]:
            if name == b"content-type":
                ctype = value
            elif name == b"content-length":
                declared = value
            elif name == b"transfer-encoding":
                chunked = True
        if declared is None and not chunked:
            # No Content-Length and no Transfer-Encoding: HTTP/1.1 framing says there is no
            # body (RFC 9112 §6.3), so there is nothing to count. Most GETs end here.
            await self.app(scope, receive, send)
            return
        limit = (
            self.upload_limit + self.FORM_OVERHEAD
            if ctype.decode("latin-1").lower().startswith("multipart/form-data")
            else self.json_limit
        )
        if declared is not None and declared.isdigit() and int(declared) > limit:
            await _send_413(send, limit)
            return
        seen = 0
        started = False

        async def counted_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    raise _TooLarge(limit)
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counted_receive, tracked_send)
        except _TooLarge:
            if not started:
                await _send_413(send, limit)


async def _send_413(send: Send, limit: int) -> None:
    await _send_json(send, PayloadTooLarge(f"The request body is larger than {limit} bytes."))


async def _send_json(send: Send, error: ApiError) -> None:
    body = json.dumps(error.body(), ensure_ascii=False).encode()
    await send(
        {
            "type": "http.response.start",
            "status": http_status(error),
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class RefuseNulMiddleware:
    """A NUL character in the path or the query is refused before routing: no id contains
    one, and PostgreSQL cannot even compare a string holding one (the driver raises: a
    500). A NUL in the path is 404 (no such resource), in the query 422.

    Middleware rather than an app-wide dependency: FastAPI solves a dependency on every
    request at a cost of about a third of a /healthz request (issue 18 item 0b); this
    is two substring tests.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if "\x00" in scope["path"]:
                await _send_json(send, NotFound("No such resource."))
                return
            # The raw query: a NUL arrives percent-encoded (%00) or, from a lax client, as is.
            query: bytes = scope.get("query_string", b"")
            if b"%00" in query or b"\x00" in query:
                await _send_json(
                    send,
                    ValidationFailed(
                        "Query parameters must not contain NUL characters.", loc="query"
                    ),
                )
                return
        await self.app(scope, receive, send)


class RequestLogMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # Random, not secret: the id only ties a response to its log line, and
        # random.getrandbits costs a fraction of os.urandom's system call per request.
        request_id = f"{random.getrandbits(48):012x}"
        structlog.contextvars.bind_contextvars(request_id=request_id)
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-request-id", request_id.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            log_request(
                method=scope["method"],
                path=scope["path"],
                status=status,
                ms=round((time.perf_counter() - start) * 1000, 1),
                request_id=request_id,
            )
            structlog.contextvars.unbind_contextvars("request_id")
