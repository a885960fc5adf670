"""Admission to the database: how many requests may hold a session at once.

Sync routes run in AnyIO's threadpool (40 threads), and a request that uses the database
passes through it several times (dependencies, the route, the response's validation).
When more requests could hold a pooled connection than the pool has, a request holding a
connection waits for a thread while every thread waits for a connection: the server
stalls until the pool's timeout. So requests are admitted here, in the event loop, before
they are given a session: at most ``slots`` at once (the pool has a connection for each,
so an admitted request never waits on the pool), up to ``queue`` more wait for a slot for
at most ``timeout`` seconds, and the rest are refused at once with 503 ``overloaded``.
A waiting request holds neither a thread nor a connection. See docs/http.md.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from sqlalchemy.orm import Session

from livebase.errors import Overloaded


class Admission:
    def __init__(self, slots: int, queue: int, timeout: float, *, close_inline: bool) -> None:
        self.slots = slots
        self.queue = queue
        self.timeout = timeout
        # fast_acquire: a free slot is taken without yielding to the event loop, which
        # would cost every database request one more loop iteration.
        self._free = anyio.Semaphore(slots, fast_acquire=True)
        # Sessions are closed in threads of their own, never in the routes' threadpool:
        # closing returns the connection, and must not wait behind requests waiting for it.
        self._closers = anyio.CapacityLimiter(slots)
        self._close_inline = close_inline

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._free.value == 0 and self._free.statistics().tasks_waiting >= self.queue:
            raise Overloaded(
                f"The server is busy: {self.queue} requests are already waiting. Retry shortly."
            )
        try:
            with anyio.fail_after(self.timeout):
                await self._free.acquire()
        except TimeoutError:
            raise Overloaded(
                f"The server is busy: no database slot freed within {self.timeout:g} s. "
                "Retry shortly."
            ) from None
        try:
            yield
        finally:
            self._free.release()

    async def close(self, session: Session) -> None:
        """Close a request's session, giving its connection back to the pool.

        A session that holds no transaction, or one on SQLite (a rollback on a local file
        takes microseconds), is closed right here; PostgreSQL's rollback is a network round
        trip and runs in a thread, so the event loop never waits on the network.
        """
        with anyio.CancelScope(shield=True):
            if self._close_inline or not session.in_transaction():
                session.close()
            else:
                await anyio.to_thread.run_sync(session.close, limiter=self._closers)

    def statistics(self) -> dict[str, int]:
        return {
            "slots": self.slots,
            "free": self._free.value,
            "waiting": self._free.statistics().tasks_waiting,
        }
