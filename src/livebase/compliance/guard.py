"""Chat reputation and flood control: the per-user memory that a single line lacks.

`ChatGuard` is the seam (DESIGN.md §3 style): `MemoryChatGuard` for the embedded mode,
`RedisChatGuard` when several app processes share a room. Both keep, per user:

* identical lines within ``repeat_window`` (the ``repeat_limit``-th copy is spam);
* lines within ``burst_window`` (more than ``burst_limit`` is spam);
* violations within ``reputation_window``, each costing reputation points by the action
  it drew; a user below ``review_below`` gets masks turned into reviews, below
  ``block_below`` into blocks.

The policy lives in `ChatGuard.judge`, shared by both stores, so they cannot drift apart.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from livebase.compliance import normalize
from livebase.compliance.verdict import LABELS, Action, Match, Verdict

FULL_REPUTATION = 100
# Only the latest violations are kept: with the lightest weight (10) ten of them already
# take reputation to 0, so twenty always decide it, and a spammer's history stays small.
MAX_TRACKED_VIOLATIONS = 20


@dataclass(frozen=True, slots=True)
class GuardPolicy:
    # Live chat scrolls by in seconds; the same line three times in 30 s is flooding,
    # twice is someone insisting on a question.
    repeat_window: float = 30.0
    repeat_limit: int = 3
    # A person types at most a line every second or two; 8 lines in 10 s is a script.
    burst_window: float = 10.0
    burst_limit: int = 8
    # Reputation recovers after a day: long enough to outlast one live show.
    reputation_window: float = 86_400.0
    weights: dict[str, int] = field(
        default_factory=lambda: {"mask": 10, "review": 20, "block": 30, "spam": 15}
    )
    review_below: int = 60
    block_below: int = 30


@dataclass(frozen=True, slots=True)
class Activity:
    """What the guard knows after recording a line (the line itself included)."""

    repeats: int
    burst: int
    reputation: int


def line_key(text: str) -> str:
    """Identity of a line for repeat counting: folded, so "666 " and "６６６" are one."""
    return hashlib.blake2b(normalize.stripped(text).encode(), digest_size=8).hexdigest()


class ChatGuard(ABC):
    def __init__(self, policy: GuardPolicy | None = None) -> None:
        self.policy = policy or GuardPolicy()

    @abstractmethod
    def record_line(self, user_id: str, text: str, now: float) -> Activity:
        """Count the line and return the user's activity and current reputation."""

    @abstractmethod
    def record_violation(self, user_id: str, weight: int, now: float) -> int:
        """Lower the user's reputation by ``weight``; return the new reputation."""

    @abstractmethod
    def reputation(self, user_id: str, now: float | None = None) -> int:
        """The user's reputation, 0-100 (100 for a user with no recent violations)."""

    @abstractmethod
    def forget(self, user_id: str) -> None:
        """Drop everything known about the user (a moderator's pardon)."""

    def record_lines(self, lines: list[tuple[str, str]], now: float) -> list[Activity]:
        """:meth:`record_line` for several (user, text) lines, in order (a store with
        round trips does them in one)."""
        return [self.record_line(user_id, text, now) for user_id, text in lines]

    def judge(self, user_id: str, text: str, verdict: Verdict, now: float | None = None) -> Verdict:
        """Combine a line's own verdict with the user's history; record the outcome."""
        now = time.time() if now is None else now
        return self._decide(user_id, text, verdict, self.record_line(user_id, text, now), now)

    def judge_many(
        self, lines: list[tuple[str, str, Verdict]], now: float | None = None
    ) -> list[Verdict]:
        """:meth:`judge` for (user, text, verdict) lines taken together (a room's chat of
        one tick), the lines recorded in one go and in order."""
        now = time.time() if now is None else now
        activities = self.record_lines([(u, t) for u, t, _ in lines], now)
        return [
            self._decide(u, t, v, a, now) for (u, t, v), a in zip(lines, activities, strict=True)
        ]

    def _decide(
        self, user_id: str, text: str, verdict: Verdict, activity: Activity, now: float
    ) -> Verdict:
        p = self.policy
        action: Action = verdict.verdict
        extra: list[Match] = []
        if activity.repeats >= p.repeat_limit:
            extra.append(Match("spam:repeat", "spam", 0, len(text), f"x{activity.repeats}"))
        if activity.burst > p.burst_limit:
            extra.append(Match("spam:burst", "spam", 0, len(text), f"{activity.burst} lines"))
        if extra or (action == "mask" and activity.reputation < p.block_below):
            action = "block"
        elif action == "mask" and activity.reputation < p.review_below:
            action = "review"
        if action != "allow":
            weight = p.weights["spam"] if extra else p.weights[action]
            self.record_violation(user_id, weight, now)
        if action == verdict.verdict and not extra:
            return verdict
        labels = set(verdict.labels) | {m.label for m in extra}
        return replace(
            verdict,
            verdict=action,
            labels=[label for label in LABELS if label in labels],
            masked=verdict.masked if action == "mask" else None,
            matches=[*verdict.matches, *extra],
        )


def _reputation(weights: Iterable[int]) -> int:
    total = 0
    for w in weights:
        total += w
    return max(0, FULL_REPUTATION - total)


_K = TypeVar("_K")


def _hit_window(store: dict[_K, deque[float]], key: _K, now: float, window: float) -> int:
    """Record a hit at ``now`` in ``key``'s sliding window; return the hits inside it."""
    hits = store.get(key)
    if hits is None:
        hits = store[key] = deque()
    horizon = now - window
    while hits and hits[0] <= horizon:
        hits.popleft()
    hits.append(now)
    return len(hits)


class MemoryChatGuard(ChatGuard):
    """In-process store: deques of timestamps per user, pruned as they are read."""

    # Users silent for longer than every window are swept out every this many lines (at
    # least), so memory follows the active audience, not everyone who ever chatted.
    _SWEEP_EVERY = 10_000

    def __init__(self, policy: GuardPolicy | None = None) -> None:
        super().__init__(policy)
        self._lock = threading.Lock()
        self._lines: dict[str, deque[float]] = {}
        self._repeats: dict[tuple[str, str], deque[float]] = {}
        self._violations: dict[str, deque[tuple[float, int]]] = {}
        self._count = 0

    def record_line(self, user_id: str, text: str, now: float) -> Activity:
        p = self.policy
        # In-process the folded line itself is the key: no hashing needed.
        key = (user_id, normalize.stripped(text))
        with self._lock:
            self._count += 1
            # Sweeping costs one pass over the store; doing it after as many lines as the
            # store holds keeps its cost per line constant.
            if self._count >= max(self._SWEEP_EVERY, len(self._repeats)):
                self._count = 0
                self._sweep(now)
            lines = _hit_window(self._lines, user_id, now, p.burst_window)
            same = _hit_window(self._repeats, key, now, p.repeat_window)
            return Activity(same, lines, self._reputation_locked(user_id, now))

    def record_violation(self, user_id: str, weight: int, now: float) -> int:
        with self._lock:
            q = self._violations.get(user_id)
            if q is None:
                q = self._violations[user_id] = deque(maxlen=MAX_TRACKED_VIOLATIONS)
            q.append((now, weight))
            return self._reputation_locked(user_id, now)

    def reputation(self, user_id: str, now: float | None = None) -> int:
        with self._lock:
            return self._reputation_locked(user_id, time.time() if now is None else now)

    def _reputation_locked(self, user_id: str, now: float) -> int:
        q = self._violations.get(user_id)
        if not q:
            return FULL_REPUTATION
        horizon = now - self.policy.reputation_window
        while q and q[0][0] <= horizon:
            q.popleft()
        total = 0
        for _, w in q:
            total += w
        return max(0, FULL_REPUTATION - total)

    def forget(self, user_id: str) -> None:
        with self._lock:
            self._lines.pop(user_id, None)
            self._violations.pop(user_id, None)
            for key in [k for k in self._repeats if k[0] == user_id]:
                del self._repeats[key]

    def _sweep(self, now: float) -> None:
        p = self.policy
        horizon = now - p.burst_window
        for user in [u for u, q in self._lines.items() if not q or q[-1] <= horizon]:
            del self._lines[user]
        horizon = now - p.repeat_window
        for key in [k for k, q in self._repeats.items() if not q or q[-1] <= horizon]:
            del self._repeats[key]
        horizon = now - p.reputation_window
        for user in [u for u, q in self._violations.items() if not q or q[-1][0] <= horizon]:
            del self._violations[user]


# One line's record, atomically: KEYS lines, same, viol; ARGV member, now, and per window
# its lowest kept score and expiry (scores are computed in Python: Lua would print them
# with 14 digits and lose the microseconds). Returns {lines, same, violation members}.
_RECORD_LINE = """
for i = 1, 2 do
  redis.call('ZREMRANGEBYSCORE', KEYS[i], '-inf', ARGV[1 + 2 * i])
  redis.call('ZADD', KEYS[i], ARGV[2], ARGV[1])
  redis.call('EXPIRE', KEYS[i], ARGV[2 + 2 * i])
end
redis.call('ZREMRANGEBYSCORE', KEYS[3], '-inf', ARGV[7])
return {redis.call('ZCARD', KEYS[1]), redis.call('ZCARD', KEYS[2]),
        redis.call('ZRANGE', KEYS[3], 0, -1)}
"""


class RedisChatGuard(ChatGuard):
    """Shared store: one sorted set per counter, scored by time, expiring with its window.

    One round trip per line (a Lua script: the chat path's Redis cost is one command to
    pack and one reply to parse, not ten). Keys: ``{prefix}lines:{user}``,
    ``{prefix}same:{user}:{line}``, ``{prefix}viol:{user}``.
    """

    def __init__(self, client: Any, prefix: str = "livebase:guard:",
                 policy: GuardPolicy | None = None) -> None:  # fmt: skip
        super().__init__(policy)
        self._r = client
        self.prefix = prefix
        self._record_line = client.register_script(_RECORD_LINE)

    def _member(self, now: float, weight: int = 0) -> str:
        # Unique per event: two lines in the same microsecond still count twice.
        return f"{weight}:{now:.6f}:{uuid.uuid4().hex[:12]}"

    def record_line(self, user_id: str, text: str, now: float) -> Activity:
        keys, args = self._line_call(user_id, text, now)
        return _activity(self._record_line(keys=keys, args=args))

    def _line_call(self, user_id: str, text: str, now: float) -> tuple[list[str], list[Any]]:
        p = self.policy
        keys = [
            f"{self.prefix}lines:{user_id}",
            f"{self.prefix}same:{user_id}:{line_key(text)}",
            f"{self.prefix}viol:{user_id}",
        ]
        args = [
            self._member(now),
            repr(now),
            repr(now - p.burst_window),
            math.ceil(p.burst_window) + 1,
            repr(now - p.repeat_window),
            math.ceil(p.repeat_window) + 1,
            repr(now - p.reputation_window),
        ]
        return keys, args

    def record_lines(self, lines: list[tuple[str, str]], now: float) -> list[Activity]:
        if len(lines) < 2:
            return [self.record_line(user_id, text, now) for user_id, text in lines]
        pipe = self._r.pipeline(transaction=False)
        for user_id, text in lines:
            keys, args = self._line_call(user_id, text, now)
            self._record_line(keys=keys, args=args, client=pipe)
        return [_activity(reply) for reply in pipe.execute()]

    def record_violation(self, user_id: str, weight: int, now: float) -> int:
        p = self.policy
        key = f"{self.prefix}viol:{user_id}"
        pipe = self._r.pipeline()
        pipe.zremrangebyscore(key, "-inf", now - p.reputation_window)
        pipe.zadd(key, {self._member(now, weight): now})
        pipe.zremrangebyrank(key, 0, -MAX_TRACKED_VIOLATIONS - 1)
        pipe.expire(key, math.ceil(p.reputation_window) + 1)
        pipe.zrange(key, 0, -1)
        return _reputation(_weights(pipe.execute()[4]))

    def reputation(self, user_id: str, now: float | None = None) -> int:
        now = time.time() if now is None else now
        key = f"{self.prefix}viol:{user_id}"
        members = self._r.zrangebyscore(key, now - self.policy.reputation_window, "+inf")
        return _reputation(_weights(members))

    def forget(self, user_id: str) -> None:
        keys = [f"{self.prefix}lines:{user_id}", f"{self.prefix}viol:{user_id}"]
        keys += list(self._r.scan_iter(match=f"{self.prefix}same:{user_id}:*", count=500))
        self._r.delete(*keys)


def _activity(reply: list[Any]) -> Activity:
    """The record-line script's reply: {lines, same, violation members}."""
    lines, same, viol = reply
    return Activity(int(same), int(lines), _reputation(_weights(viol)))


def _weights(members: list[Any]) -> list[int]:
    out: list[int] = []
    for m in members:
        s = m.decode() if isinstance(m, bytes) else str(m)
        out.append(int(s.split(":", 1)[0]))
    return out


__all__ = [
    "Activity",
    "ChatGuard",
    "GuardPolicy",
    "MemoryChatGuard",
    "RedisChatGuard",
]
