"""Password hashing (argon2id) and opaque tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

# argon2-cffi's defaults (RFC 9106 low-memory profile): 64 MiB, 3 passes.
_hasher = PasswordHasher()
# Verified against when the username is unknown, so both paths cost the same time and a
# caller cannot learn which usernames exist from the response time.
_DUMMY_HASH = _hasher.hash("livebase-timing-equaliser")


def use_fast_hashing_for_tests() -> None:
    """Cheaper argon2id parameters (still argon2id) so a test suite can create hundreds of
    users; never called by the app."""
    global _hasher, _DUMMY_HASH
    _hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    _DUMMY_HASH = _hasher.hash("livebase-timing-equaliser")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def new_token() -> str:
    # 32 bytes = 256 bits: unguessable, and short enough for a header or cookie.
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def csrf_token(secret_key: str, session_token: str) -> str:
    """A CSRF token bound to one cookie session: forms carry it, the server recomputes it."""
    mac = hmac.new(secret_key.encode(), b"csrf:" + session_token.encode(), hashlib.sha256)
    return mac.hexdigest()[:40]


def csrf_ok(secret_key: str, session_token: str, given: str | None) -> bool:
    return bool(given) and hmac.compare_digest(csrf_token(secret_key, session_token), given or "")
