"""``Idempotency-Key`` (DESIGN §4): the same key and body within 24 h returns the first
response; the same key with another body is 409 ``idempotency_conflict``; a missing key is
400 ``idempotency_key_required``. Keys are per user and per endpoint (``scope``).

The record is written in the same transaction as what the request created, so a key is
taken exactly when its effect is durable. Two requests racing with one key: the second
insert hits the primary key; the caller rolls back and answers the first one's record
(:func:`find`). The flash-sale hot path writes the same rows in its batches.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete
from sqlalchemy.orm import Session

from livebase.db import utcnow
from livebase.errors import ApiError, Code
from livebase.orders.models import IdempotencyRecord

HEADER = "Idempotency-Key"
# How long a key answers with its first response (DESIGN §4: 24 h).
TTL = timedelta(hours=24)
MAX_KEY = 64


def check_key(raw: str | None) -> str:
    """The key as given, or 400 when it is missing or not 1–64 printable ASCII characters."""
    if raw is None or raw == "":
        raise ApiError(
            f"Send an {HEADER} header (1–64 printable characters) with this request.",
            code=Code.IDEMPOTENCY_KEY_REQUIRED,
        )
    if len(raw) > MAX_KEY or not all(0x21 <= ord(c) <= 0x7E for c in raw):
        raise ApiError(
            f"{HEADER} must be 1–{MAX_KEY} printable ASCII characters without spaces.",
            code=Code.VALIDATION_FAILED,
            fields=[{"loc": f"header.{HEADER}", "msg": "1–64 printable characters"}],
        )
    return raw


def body_digest(body: Any) -> bytes:
    """SHA-256 of the request body in a canonical JSON form (key order and spacing do not
    make two bodies different)."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).digest()


@dataclass(frozen=True)
class Replay:
    status_code: int
    response: dict[str, Any]


def find(db: Session, user_id: str, scope: str, key: str, digest: bytes) -> Replay | None:
    """The first answer to this key, if it is still kept; 409 when it came with another
    body."""
    row = db.get(IdempotencyRecord, (user_id, scope, key))
    if row is None or row.created_at < utcnow() - TTL:
        return None
    if row.body_sha256 != digest:
        raise ApiError(
            f"This {HEADER} was used with another request body.",
            code=Code.IDEMPOTENCY_CONFLICT,
        )
    return Replay(row.status_code, row.response)


def do_remember(
    db: Session,
    user_id: str,
    scope: str,
    key: str,
    digest: bytes,
    status_code: int,
    response: dict[str, Any],
) -> None:
    """Record the answer in the caller's transaction. An expired record of the same key is
    replaced."""
    db.execute(
        delete(IdempotencyRecord).where(
            IdempotencyRecord.user_id == user_id,
            IdempotencyRecord.scope == scope,
            IdempotencyRecord.key == key,
            IdempotencyRecord.created_at < utcnow() - TTL,
        )
    )
    db.add(
        IdempotencyRecord(
            user_id=user_id,
            scope=scope,
            key=key,
            body_sha256=digest,
            status_code=status_code,
            response=response,
        )
    )
    db.flush()


def do_purge_expired(db: Session) -> int:
    result = db.execute(
        delete(IdempotencyRecord).where(IdempotencyRecord.created_at < utcnow() - TTL)
    )
    return int(getattr(result, "rowcount", 0) or 0)


def scope_of(method: str, path_template: str) -> str:
    """The endpoint a key belongs to, e.g. ``POST /api/v1/orders``."""
    return f"{method} {path_template}"[:80]


__all__ = [
    "HEADER",
    "Replay",
    "body_digest",
    "check_key",
    "do_purge_expired",
    "do_remember",
    "find",
    "scope_of",
]
