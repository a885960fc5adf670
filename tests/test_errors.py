"""Errors are data: one enum of codes, statuses only in the HTTP layer, the same codes in
room error frames; and no `assert` standing in for a check in production code."""

from __future__ import annotations

import ast
from pathlib import Path

import livebase
from livebase import errors
from livebase.errors import ApiError, Code, error_frame
from livebase.http_errors import HTTP_STATUS, http_headers, http_status
from livebase.shows.service import ShowEnded

# DESIGN §4, "Codes in use".
CONTRACT_CODES = """malformed_json validation_failed unauthenticated bad_credentials forbidden
not_found conflict username_taken payload_too_large unsupported_media_type rate_limited
idempotency_key_required not_open show_ended sold_out limit_exceeded already_claimed
idempotency_conflict invalid_id_number quota_exceeded not_allowed_goods held_for_review
bad_signature stale overloaded internal_error""".split()  # noqa: SIM905 (as §4 reads)
SRC = Path(livebase.__file__).parent


def test_every_contract_code_is_in_the_enum_and_every_code_has_one_status() -> None:
    assert set(CONTRACT_CODES) <= {c.value for c in Code}
    assert set(HTTP_STATUS) == set(Code)
    assert HTTP_STATUS[Code.RATE_LIMITED] == 429 and HTTP_STATUS[Code.OVERLOADED] == 503
    assert HTTP_STATUS[Code.SHOW_ENDED] == 409 and HTTP_STATUS[Code.INTERNAL_ERROR] == 500


def test_domain_errors_carry_a_code_and_no_status() -> None:
    exc = ShowEnded("The show has ended.")
    assert exc.code is Code.SHOW_ENDED and not hasattr(exc, "status")
    assert http_status(exc) == 409
    limited = errors.RateLimited("slow down", retry_after=0)
    assert http_headers(limited) == {"Retry-After": "1"}


def test_room_error_frames_reuse_the_codes() -> None:
    exc = ApiError("Sign in to chat.", code=Code.UNAUTHENTICATED)
    assert error_frame(exc) == {"t": "error", "error": "unauthenticated", "detail": exc.detail}


def test_services_name_codes_from_the_enum_not_string_literals() -> None:
    """`code="..."` literals were scattered through services; now only Code members."""
    offenders = []
    for path in SRC.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Call):
                literal = any(
                    kw.arg in ("code", "status") and isinstance(kw.value, ast.Constant)
                    for kw in node.keywords
                )
                if literal and _is_error(node):
                    offenders.append(f"{path.relative_to(SRC)}:{node.lineno}")
    assert offenders == []


def _is_error(node: ast.Call) -> bool:
    name = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", "")
    return name in {c for c in dir(errors) if isinstance(getattr(errors, c), type)}


def test_production_code_has_no_assert() -> None:
    """`assert` vanishes under `python -O`; a check that matters raises a real error."""
    found = [
        f"{path.relative_to(SRC)}:{node.lineno}"
        for path in SRC.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.Assert)
    ]
    assert found == []
