"""Errors are data: a stable snake_case code for machines, a sentence for people.

Services raise :class:`ApiError` (or a subclass) carrying a :class:`Code`, a detail and,
for bad input, the fields at fault; they know nothing of transports. The HTTP layer maps a
code to a status in one table (:mod:`livebase.http_errors`); a room's WebSocket will send
the same code in an error frame (:func:`error_frame`).
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class Code(StrEnum):
    """Every error code of the contract (DESIGN §4) and those the code uses besides."""

    MALFORMED_JSON = "malformed_json"
    VALIDATION_FAILED = "validation_failed"
    UNAUTHENTICATED = "unauthenticated"
    BAD_CREDENTIALS = "bad_credentials"
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    USERNAME_TAKEN = "username_taken"
    PAYLOAD_TOO_LARGE = "payload_too_large"
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    RATE_LIMITED = "rate_limited"
    IDEMPOTENCY_KEY_REQUIRED = "idempotency_key_required"
    NOT_OPEN = "not_open"
    SHOW_ENDED = "show_ended"
    SOLD_OUT = "sold_out"
    LIMIT_EXCEEDED = "limit_exceeded"
    ALREADY_CLAIMED = "already_claimed"
    IDEMPOTENCY_CONFLICT = "idempotency_conflict"
    INVALID_ID_NUMBER = "invalid_id_number"
    QUOTA_EXCEEDED = "quota_exceeded"
    NOT_ALLOWED_GOODS = "not_allowed_goods"
    HELD_FOR_REVIEW = "held_for_review"
    BAD_SIGNATURE = "bad_signature"
    STALE = "stale"
    OVERLOADED = "overloaded"
    INTERNAL_ERROR = "internal_error"
    # In use beyond §4's list: generic HTTP failures Starlette raises, and readiness.
    BAD_REQUEST = "bad_request"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    NOT_READY = "not_ready"
    FORM_EXPIRED = "form_expired"  # a page form's CSRF token no longer matches
    # Room refusals (DESIGN §7) beside the shared ones above.
    MUTED = "muted"
    BLOCKED = "blocked"
    # A payment provider did not answer, or its answer failed its signature check (502).
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    # A studio slot overlapping an active booking of the same studio (issue 16, studios).
    SLOT_TAKEN = "slot_taken"


class ApiError(Exception):
    """A domain error: a code, a sentence, and optionally the fields at fault."""

    code: Code = Code.BAD_REQUEST

    def __init__(
        self,
        detail: str,
        *,
        code: Code | None = None,
        fields: list[dict[str, str]] | None = None,
        extra: dict[str, Any] | None = None,
        retry_after: int | None = None,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        if code is not None:
            self.code = code
        self.fields = fields
        self.extra = extra
        # Seconds until a retry may succeed (rate limits, shed load); the HTTP layer
        # sends it as Retry-After.
        self.retry_after = retry_after

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"error": str(self.code), "detail": self.detail}
        if self.fields:
            out["fields"] = self.fields
        if self.extra:
            out.update(self.extra)
        return out


def error_frame(exc: ApiError) -> dict[str, Any]:
    """The room protocol's error frame: the same codes as the HTTP API."""
    return {"t": "error", "error": str(exc.code), "detail": exc.detail}


class Unauthenticated(ApiError):
    code = Code.UNAUTHENTICATED


class BadCredentials(ApiError):
    code = Code.BAD_CREDENTIALS


class Forbidden(ApiError):
    code = Code.FORBIDDEN


class NotFound(ApiError):
    code = Code.NOT_FOUND


class Conflict(ApiError):
    code = Code.CONFLICT


class ValidationFailed(ApiError):
    code = Code.VALIDATION_FAILED

    def __init__(self, detail: str, *, loc: str | None = None) -> None:
        fields = [{"loc": loc, "msg": detail}] if loc else None
        super().__init__(detail, fields=fields)


class PayloadTooLarge(ApiError):
    code = Code.PAYLOAD_TOO_LARGE


class UnsupportedMediaType(ApiError):
    code = Code.UNSUPPORTED_MEDIA_TYPE


class RateLimited(ApiError):
    code = Code.RATE_LIMITED

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(detail, retry_after=max(1, retry_after))


class Overloaded(ApiError):
    """The server sheds load rather than queue past its bound (503 with Retry-After)."""

    code = Code.OVERLOADED

    def __init__(self, detail: str, *, retry_after: int = 1) -> None:
        super().__init__(detail, retry_after=max(1, retry_after))
