"""Bearer tokens resolved on the event loop without a database read per request.

The flash-sale hot path (and the bench's no-op endpoint) authenticate through this cache:
a token's principal (or its absence) is kept for ``TTL`` seconds, so a revoked token stops
working on the hot path within one second; the CRUD routes keep resolving per request.
Concurrent misses for one token share one look-up, which runs in the threadpool.
"""

from __future__ import annotations

import asyncio
import hashlib
import time
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from livebase.accounts.service import Principal, resolve_token
from livebase.errors import Unauthenticated
from livebase.runtime import Part, Runtime

# Revocation must take effect within a second (issue 12); a 1 s TTL is that bound.
TTL = 1.0
# Beyond this many entries the expired ones are dropped (a burst of 50,000 buyers fits).
MAX_ENTRIES = 200_000


class TokenCache:
    def __init__(self, rt: Runtime, ttl: float = TTL) -> None:
        self._rt = rt
        self._ttl = ttl
        self._entries: dict[bytes, tuple[float, Principal | None]] = {}
        self._loading: dict[bytes, asyncio.Future[Principal | None]] = {}

    def _lookup(self, raw: str) -> Principal | None:
        with self._rt.sessions() as db:
            principal = resolve_token(db, raw, kind="api")
            if principal is not None:
                db.expunge_all()  # the user row travels detached, read-only
            return principal

    async def principal(self, raw: str) -> Principal | None:
        key = hashlib.sha256(raw.encode()).digest()
        now = time.monotonic()
        hit = self._entries.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        pending = self._loading.get(key)
        if pending is not None:
            return await pending
        fut: asyncio.Future[Principal | None] = asyncio.get_running_loop().create_future()
        self._loading[key] = fut
        try:
            principal = await run_in_threadpool(self._lookup, raw)
        except BaseException as exc:
            fut.set_exception(exc)
            fut.exception()  # retrieved: waiters get it, nobody logs it as lost
            raise
        finally:
            self._loading.pop(key, None)
        if len(self._entries) >= MAX_ENTRIES:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
        self._entries[key] = (time.monotonic() + self._ttl, principal)
        fut.set_result(principal)
        return principal

    async def require(self, request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("Sign in first: send `Authorization: Bearer <token>`.")
        principal = await self.principal(value.strip())
        if principal is None:
            raise Unauthenticated("The token is invalid, expired or revoked.")
        return principal


def _build(rt: Runtime) -> Any:
    return TokenCache(rt)


TOKEN_CACHE: Part[TokenCache] = Part("orders.token_cache", _build)
