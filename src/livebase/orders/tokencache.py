"""Bearer tokens resolved on the event loop without a database read per request.

The flash-sale hot path (and the bench's no-op endpoint) authenticate through this cache;
the CRUD routes keep resolving per request.

- A resolved token is kept ``TTL`` seconds; an unknown or invalid one ``NEGATIVE_TTL``.
- Revocation still takes effect within about a second: while the cache is in use it asks
  the database once per ``POLL_S`` which tokens were revoked since its last look
  (``accounts.service.revoked_since``, one query per node per second, not per request)
  and drops them.
- Misses are resolved together: the first-seen tokens of one millisecond go to the
  database in one look-up (one query of columns, tokens joined to their users) in the
  threadpool, so a burst of 50,000 buyers arriving at once costs a few hundred queries,
  not 50,000. What is kept is a `TokenUser` (id, display name, token id), not a
  Principal with an ORM user and its grants: the hot path needs no roles (any signed-in
  user may buy), and building ORM objects for every first-seen buyer was the largest
  share of the order route's CPU in the 2026-12-04 profile (docs/flash-sale.md).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from livebase.accounts.security import token_digest
from livebase.accounts.service import TokenUser, resolve_token_users, revoked_since
from livebase.db import utcnow
from livebase.errors import Unauthenticated
from livebase.logs import get_logger
from livebase.runtime import Part, Runtime

log = get_logger("livebase.tokencache")

# A resolved token is trusted this long between revocation polls' notices; the roles it
# carries may be this stale on the hot path (which needs none: any user may buy).
TTL = 60.0
# An invalid token is refused from memory this long (a flood of bad tokens costs one
# look-up per token per second).
NEGATIVE_TTL = 1.0
# Revocation takes effect within this (plus one query's time).
POLL_S = 1.0
# The revocation look-up overlaps the previous one by this much: app clocks may differ.
OVERLAP = timedelta(seconds=5)
# How long first-seen tokens are gathered into one look-up.
GATHER_S = 0.001
MAX_ENTRIES = 200_000


class TokenCache:
    def __init__(self, rt: Runtime) -> None:
        self._rt = rt
        self._entries: dict[str, tuple[float, TokenUser | None]] = {}
        self._waiting: dict[str, tuple[str, asyncio.Future[TokenUser | None]]] = {}
        self._gathering = False
        self._polled_mono = time.monotonic()
        self._polled_wall = utcnow()
        self._polling = False
        # Background tasks are kept referenced until done (the loop holds them weakly).
        self._tasks: set[asyncio.Task[None]] = set()

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- look-ups ----------------------------------------------------------------------

    async def user(self, raw: str) -> TokenUser | None:
        self._maybe_poll()
        digest = token_digest(raw)
        hit = self._entries.get(digest)
        if hit is not None and hit[0] > time.monotonic():
            return hit[1]
        waiting = self._waiting.get(digest)
        if waiting is not None:
            return await asyncio.shield(waiting[1])
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[TokenUser | None] = loop.create_future()
        self._waiting[digest] = (raw, fut)
        if not self._gathering:
            self._gathering = True
            self._spawn(self._resolve_gathered())
        return await asyncio.shield(fut)

    async def _resolve_gathered(self) -> None:
        await asyncio.sleep(GATHER_S)
        batch, self._waiting = self._waiting, {}
        self._gathering = False
        raws = [raw for raw, _ in batch.values()]
        try:
            # Through admission like every database request: the pool holds a connection
            # only for admitted work (livebase.admission).
            async with self._rt.admission.slot():
                found = await run_in_threadpool(self._lookup, raws)
        except Exception as exc:
            for _, fut in batch.values():
                if not fut.done():
                    fut.set_exception(exc)
                    fut.exception()
            return
        now = time.monotonic()
        if len(self._entries) >= MAX_ENTRIES:
            self._entries = {k: v for k, v in self._entries.items() if v[0] > now}
        for digest, (raw, fut) in batch.items():
            user = found.get(raw)
            self._entries[digest] = (now + (TTL if user else NEGATIVE_TTL), user)
            if not fut.done():
                fut.set_result(user)

    def _lookup(self, raws: list[str]) -> dict[str, TokenUser]:
        with self._rt.sessions() as db:
            return resolve_token_users(db, raws, kind="api")

    # -- revocation --------------------------------------------------------------------

    def _maybe_poll(self) -> None:
        if self._polling or time.monotonic() - self._polled_mono < POLL_S:
            return
        self._polling = True
        self._spawn(self._poll())

    async def _poll(self) -> None:
        started_mono, started_wall = time.monotonic(), utcnow()
        try:
            since = self._polled_wall - OVERLAP
            async with self._rt.admission.slot():
                revoked = await run_in_threadpool(self._revoked, since)
            for digest in revoked:
                self._entries.pop(digest, None)
            self._polled_wall = started_wall
        except Exception:  # the next poll looks further back (since is unchanged)
            log.exception("token revocation poll failed")
        finally:
            self._polled_mono = started_mono
            self._polling = False

    def _revoked(self, since: datetime) -> list[str]:
        with self._rt.sessions() as db:
            return revoked_since(db, since)

    async def require(self, request: Request) -> TokenUser:
        header = request.headers.get("authorization", "")
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("Sign in first: send `Authorization: Bearer <token>`.")
        user = await self.user(value.strip())
        if user is None:
            raise Unauthenticated("The token is invalid, expired or revoked.")
        return user


def _build(rt: Runtime) -> TokenCache:
    return TokenCache(rt)


TOKEN_CACHE: Part[TokenCache] = Part("orders.token_cache", _build)
