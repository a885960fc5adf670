"""Room numbers shared by every node: viewers now and peak, likes, watch time, chat lines
(accepted, held, blocked) and the last chat lines a new viewer sees.

Two implementations behind one interface, like the bus: :class:`MemoryCounters` (one
process) and :class:`RedisCounters` (every node adds its share). Each room hub calls
:meth:`Counters.tick` once per tick with its own viewer count and the likes it took since
the last tick, and gets the room's totals back: one round trip (a Lua script) per room
per tick per node, whatever the number of viewers.

A node's viewer count is written with an expiry (a few ticks): a node that dies stops
counting within seconds instead of haunting the room's number forever.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis

# A node's viewer count counts for this long after its last tick (ticks are 0.1-0.5 s; a
# node busy for 5 s is as good as gone for the room's number).
NODE_TTL_MS = 5000
# Recent chat kept for a new viewer's snapshot.
RECENT_CHAT = 50
# Room keys outlive the show by a week: the post-show review reads them at the end.
KEY_TTL_S = 7 * 86400
FIGURES = ("chat_lines", "held_lines", "blocked_lines")


@dataclass(frozen=True)
class Totals:
    viewers: int
    peak: int
    likes: int


@dataclass(frozen=True)
class Figures:
    peak_viewers: int
    watch_seconds: float
    likes: int
    chat_lines: int
    held_lines: int
    blocked_lines: int


class Counters(Protocol):
    blocking: bool  # True when a call is a network round trip (run it off the loop)

    def tick(self, room: str, node: str, viewers: int, likes: int, dt: float) -> Totals: ...
    def totals(self, room: str) -> Totals: ...
    def count(self, room: str, what: str, n: int = 1) -> None: ...
    def push_chat(self, room: str, lines: list[dict[str, Any]]) -> None: ...
    def recent_chat(self, room: str) -> list[dict[str, Any]]: ...
    def figures(self, room: str) -> Figures: ...
    def sample(self, room: str, minute: int, viewers: int) -> None: ...
    def timeline(self, room: str) -> list[tuple[int, int]]: ...


@dataclass
class _Room:
    nodes: dict[str, tuple[int, float]] = field(default_factory=dict)
    peak: int = 0
    likes: int = 0
    watch: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)
    minutes: dict[int, int] = field(default_factory=dict)
    chat: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=RECENT_CHAT))


class MemoryCounters:
    blocking = False

    def __init__(self) -> None:
        self._rooms: dict[str, _Room] = {}
        self._lock = threading.Lock()

    def _room(self, room: str) -> _Room:
        r = self._rooms.get(room)
        if r is None:
            r = self._rooms[room] = _Room()
        return r

    def _now(self, r: _Room) -> int:
        t = time.monotonic()
        return sum(n for n, exp in r.nodes.values() if exp > t)

    def tick(self, room: str, node: str, viewers: int, likes: int, dt: float) -> Totals:
        with self._lock:
            r = self._room(room)
            r.nodes[node] = (viewers, time.monotonic() + NODE_TTL_MS / 1000)
            r.likes += likes
            r.watch += viewers * dt
            now = self._now(r)
            r.peak = max(r.peak, now)
            return Totals(now, r.peak, r.likes)

    def totals(self, room: str) -> Totals:
        with self._lock:
            r = self._room(room)
            return Totals(self._now(r), r.peak, r.likes)

    def count(self, room: str, what: str, n: int = 1) -> None:
        with self._lock:
            counts = self._room(room).counts
            counts[what] = counts.get(what, 0) + n

    def push_chat(self, room: str, lines: list[dict[str, Any]]) -> None:
        with self._lock:
            self._room(room).chat.extend(lines)

    def recent_chat(self, room: str) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._room(room).chat)

    def figures(self, room: str) -> Figures:
        with self._lock:
            r = self._room(room)
            return Figures(r.peak, r.watch, r.likes, *(r.counts.get(k, 0) for k in FIGURES))

    def sample(self, room: str, minute: int, viewers: int) -> None:
        with self._lock:
            m = self._room(room).minutes
            m[minute] = max(m.get(minute, 0), viewers)

    def timeline(self, room: str) -> list[tuple[int, int]]:
        with self._lock:
            return sorted(self._room(room).minutes.items())


# KEYS: nodes hash, likes, peak, watch, figures. ARGV: node, viewers, now_ms, ttl_ms,
# likes delta, watch delta, key ttl, then (figure, delta) pairs this node counted since its
# last tick. Sums the nodes still alive (dropping the expired), raises the peak.
_TICK = """
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. (tonumber(ARGV[3]) + tonumber(ARGV[4])))
local now = tonumber(ARGV[3])
local total = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local v = all[i + 1]
  local sep = string.find(v, ':')
  local n = tonumber(string.sub(v, 1, sep - 1))
  local exp = tonumber(string.sub(v, sep + 1))
  if exp > now then total = total + n else redis.call('HDEL', KEYS[1], all[i]) end
end
local likes = redis.call('INCRBY', KEYS[2], ARGV[5])
if tonumber(ARGV[6]) > 0 then redis.call('INCRBYFLOAT', KEYS[4], ARGV[6]) end
local peak = tonumber(redis.call('GET', KEYS[3]) or '0')
if total > peak then peak = total; redis.call('SET', KEYS[3], peak) end
for i = 1, 4 do redis.call('EXPIRE', KEYS[i], ARGV[7]) end
if #ARGV > 7 then
  for i = 8, #ARGV, 2 do redis.call('HINCRBY', KEYS[5], ARGV[i], ARGV[i + 1]) end
  redis.call('EXPIRE', KEYS[5], ARGV[7])
end
return {total, peak, likes}
"""


class RedisCounters:
    """Chat figures (:meth:`count`, once per line) are added up on the node and go to
    Redis with the room's next tick (the same script, no round trip of their own) or when
    :meth:`figures` is read: a room's figures in Redis are at most one tick behind on
    each node."""

    blocking = True

    def __init__(self, client: redis.Redis, prefix: str = "livebase:") -> None:
        self._client = client
        self._prefix = prefix
        self._tick = client.register_script(_TICK)
        self._lock = threading.Lock()
        self._counted: dict[str, dict[str, int]] = {}

    def _key(self, room: str, what: str) -> str:
        return f"{self._prefix}room:{room}:{what}"

    def _keys(self, room: str) -> list[str]:
        return [self._key(room, k) for k in ("nodes", "likes", "peak", "watch", "figures")]

    def _take_counted(self, room: str) -> list[str | int]:
        with self._lock:
            counted = self._counted.pop(room, None)
        return [x for what, n in (counted or {}).items() for x in (what, n)]

    def tick(self, room: str, node: str, viewers: int, likes: int, dt: float) -> Totals:
        now_ms = int(time.time() * 1000)
        counted = self._take_counted(room)
        args: list[str | int] = [
            node, viewers, now_ms, NODE_TTL_MS, likes, f"{viewers * dt:.3f}", KEY_TTL_S
        ]  # fmt: skip
        try:
            raw = self._tick(keys=self._keys(room), args=args + counted)
        except Exception:
            self._restore(room, counted)  # Redis away for a moment: count them next time
            raise
        return Totals(int(raw[0]), int(raw[1]), int(raw[2]))

    def _restore(self, room: str, counted: list[str | int]) -> None:
        for i in range(0, len(counted), 2):
            self.count(room, str(counted[i]), int(counted[i + 1]))

    def totals(self, room: str) -> Totals:
        return self.tick(room, "_reader", 0, 0, 0.0)

    def count(self, room: str, what: str, n: int = 1) -> None:
        with self._lock:
            counted = self._counted.setdefault(room, {})
            counted[what] = counted.get(what, 0) + n

    def push_chat(self, room: str, lines: list[dict[str, Any]]) -> None:
        if not lines:
            return
        key = self._key(room, "chat")
        pipe = self._client.pipeline(transaction=False)
        pipe.rpush(key, *[json.dumps(x, ensure_ascii=False) for x in lines])
        pipe.ltrim(key, -RECENT_CHAT, -1)
        pipe.expire(key, KEY_TTL_S)
        pipe.execute()

    def recent_chat(self, room: str) -> list[dict[str, Any]]:
        return [json.loads(x) for x in self._client.lrange(self._key(room, "chat"), 0, -1)]

    def figures(self, room: str) -> Figures:
        t = self.totals(room)  # a tick of its own: this node's counted figures go with it
        pipe = self._client.pipeline(transaction=False)
        pipe.get(self._key(room, "watch"))
        pipe.hgetall(self._key(room, "figures"))
        watch, counts = pipe.execute()
        c = {k.decode() if isinstance(k, bytes) else k: int(v) for k, v in counts.items()}
        return Figures(t.peak, float(watch or 0), t.likes, *(c.get(k, 0) for k in FIGURES))

    def sample(self, room: str, minute: int, viewers: int) -> None:
        # Every node samples the room's total; the largest figure of a minute stays.
        key = self._key(room, "minutes")
        field_ = str(minute)
        pipe = self._client.pipeline(transaction=False)
        pipe.hget(key, field_)
        have = pipe.execute()[0]
        if have is None or int(have) < viewers:
            self._client.hset(key, field_, viewers)
            self._client.expire(key, KEY_TTL_S)

    def timeline(self, room: str) -> list[tuple[int, int]]:
        raw = self._client.hgetall(self._key(room, "minutes"))
        return sorted((int(k), int(v)) for k, v in raw.items())
