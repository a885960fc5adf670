"""Fixed-window counters for rate limits: in-process (embedded) or Redis (production).

Both answer the same two questions — how many hits are in the current window, and
record one more — so login throttling works the same on one process or twenty.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

import redis


class RateLimiter(Protocol):
    def count(self, key: str) -> tuple[int, int]:
        """Hits in the current window and seconds until it ends."""

    def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        """Record a hit; return the new count and seconds until the window ends."""

    def hit_many(self, hits: list[tuple[str, int]]) -> list[tuple[int, int]]:
        """:meth:`hit` for several (key, window) pairs, in order."""

    def reset(self, key: str) -> None: ...


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._windows: dict[str, tuple[float, int]] = {}

    def count(self, key: str) -> tuple[int, int]:
        with self._lock:
            ends, n = self._windows.get(key, (0.0, 0))
            now = time.monotonic()
            if ends <= now:
                return 0, 0
            return n, int(ends - now) + 1

    def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        with self._lock:
            now = time.monotonic()
            ends, n = self._windows.get(key, (0.0, 0))
            if ends <= now:
                ends, n = now + window_seconds, 0
                if len(self._windows) > 100_000:  # bound memory under a spray of keys
                    self._windows = {k: v for k, v in self._windows.items() if v[0] > now}
            self._windows[key] = (ends, n + 1)
            return n + 1, int(ends - now) + 1

    def hit_many(self, hits: list[tuple[str, int]]) -> list[tuple[int, int]]:
        return [self.hit(key, window) for key, window in hits]

    def reset(self, key: str) -> None:
        with self._lock:
            self._windows.pop(key, None)


# One hit: INCR, open the window on the first hit (NX: later hits must not extend it),
# and its TTL, in one command (a room's chat calls this for every line).
_HIT = """
local n = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[1], 'NX')
return {n, redis.call('TTL', KEYS[1])}
"""


class RedisRateLimiter:
    def __init__(self, client: redis.Redis, prefix: str = "livebase:rl:") -> None:
        self._r = client
        self._prefix = prefix
        self._hit = client.register_script(_HIT)

    def count(self, key: str) -> tuple[int, int]:
        pipe = self._r.pipeline()
        pipe.get(self._prefix + key)
        pipe.ttl(self._prefix + key)
        raw, ttl = pipe.execute()
        return (int(raw) if raw else 0), max(int(ttl), 0)

    def hit(self, key: str, window_seconds: int) -> tuple[int, int]:
        n, ttl = self._hit(keys=[self._prefix + key], args=[window_seconds])
        return int(n), max(int(ttl), 1)

    def hit_many(self, hits: list[tuple[str, int]]) -> list[tuple[int, int]]:
        """One round trip for all of them (a room's chat lines of one tick)."""
        if len(hits) < 2:
            return [self.hit(key, window) for key, window in hits]
        pipe = self._r.pipeline(transaction=False)
        for key, window in hits:
            self._hit(keys=[self._prefix + key], args=[window], client=pipe)
        return [(int(n), max(int(ttl), 1)) for n, ttl in pipe.execute()]

    def reset(self, key: str) -> None:
        self._r.delete(self._prefix + key)
