"""The ``rooms.Bus`` seam (DESIGN §3, §7): publish a frame to a show's room, subscribe to a
room, keep the room's ``seq`` and a short history of its critical frames for resume.

Two implementations pass the same tests (``tests/rooms/test_bus.py``, parametrised):

- :class:`MemoryBus` for the embedded mode (one process);
- :class:`RedisBus` for several app nodes: ``seq`` and history live in Redis (so a viewer
  resumes on any node) and frames go out on one pub/sub channel per room.

A frame is ``{"t": TYPE, "seq": N, "ts": UNIX_MS, "d": {...}}``. Only critical frames
(``CRITICAL``) raise ``seq`` and enter the history; every other frame carries the room's
current ``seq``. ``publish`` assigns ``seq`` and appends to the history in one step (a lock;
in Redis one Lua script), so the history is in ``seq`` order whatever the number of
publishers.

Services never publish here directly: they queue a typed event with ``notify_on_commit``
and :mod:`livebase.rooms.frames` forwards it after the commit (nothing reaches a room for a
rolled-back transaction).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import redis

from livebase.logs import get_logger

log = get_logger("livebase.rooms")

# DESIGN §7's critical class: never dropped, sequenced, replayed on resume.
CRITICAL = frozenset(
    {
        "show",
        "sale_open",
        "sale_close",
        "sold_out",
        "price",
        "coupon",
        "bag_start",
        "bag_draw",
        "notice",
    }
)


@dataclass(frozen=True)
class Frame:
    t: str
    seq: int
    ts: int
    d: dict[str, Any] = field(default_factory=dict)

    @property
    def critical(self) -> bool:
        return self.t in CRITICAL

    def to_dict(self) -> dict[str, Any]:
        return {"t": self.t, "seq": self.seq, "ts": self.ts, "d": self.d}

    def encode(self) -> str:
        return _encode(self.t, self.seq, self.ts, self.d)

    @classmethod
    def decode(cls, raw: str | bytes) -> Frame:
        obj = json.loads(raw)
        return cls(obj["t"], int(obj["seq"]), int(obj["ts"]), obj["d"])


def _encode(t: str, seq: int, ts: int, d: Mapping[str, Any]) -> str:
    return json.dumps(
        {"t": t, "seq": seq, "ts": ts, "d": d}, ensure_ascii=False, separators=(",", ":")
    )


def _now_ms() -> int:
    return int(time.time() * 1000)


# A listener gets the room and the frame, on the publishing thread (memory) or the bus's
# listener thread (Redis); it must not block: a room hub hands the frame to its loop.
Listener = Callable[[str, Frame], None]


class Bus(Protocol):
    def publish(self, room: str, t: str, d: Mapping[str, Any]) -> Frame:
        """Send a frame to every subscriber of ``room`` (on every node); returns it."""
        ...

    def publish_many(self, items: Sequence[tuple[str, str, Mapping[str, Any]]]) -> list[Frame]:
        """Publish ``(room, t, d)`` items in order, in one round trip where the bus has
        one (a tick's batch: Redis pipelines it)."""
        ...

    def subscribe(self, room: str, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` for each frame of ``room`` from now on; returns the
        unsubscribe function."""
        ...

    def seq(self, room: str) -> int:
        """The room's current ``seq`` (0 before its first critical frame)."""
        ...

    def since(self, room: str, seq: int) -> list[Frame] | None:
        """The critical frames after ``seq``, in order; None when some of them are no
        longer kept (the client gets ``gap`` and a fresh snapshot)."""
        ...

    def close(self) -> None: ...


def _missed(kept: list[Frame], current: int, seq: int) -> list[Frame] | None:
    if seq < 0 or seq > current:
        return None  # a seq this room never had: start afresh
    missed = [f for f in kept if f.seq > seq]
    if len(missed) != current - seq:
        return None  # the oldest missed frames fell out of the history
    return missed


def _deliver(listeners: list[Listener], room: str, frame: Frame) -> None:
    for fn in listeners:
        try:
            fn(room, frame)
        except Exception:  # one broken listener must not starve the others
            log.exception("room listener failed", room=room, t=frame.t)


@dataclass
class _Room:
    seq: int = 0
    history: deque[Frame] = field(default_factory=deque)
    listeners: list[Listener] = field(default_factory=list)


class MemoryBus:
    """One process: rooms in a dict, listeners called on the publishing thread."""

    def __init__(self, history: int = 1000) -> None:
        self._history = history
        self._rooms: dict[str, _Room] = {}
        self._lock = threading.Lock()

    def _room(self, room: str) -> _Room:
        r = self._rooms.get(room)
        if r is None:
            r = self._rooms[room] = _Room(history=deque(maxlen=self._history))
        return r

    def publish(self, room: str, t: str, d: Mapping[str, Any]) -> Frame:
        with self._lock:
            r = self._room(room)
            if t in CRITICAL:
                r.seq += 1
            frame = Frame(t, r.seq, _now_ms(), dict(d))
            if frame.critical:
                r.history.append(frame)
            listeners = list(r.listeners)
        _deliver(listeners, room, frame)
        return frame

    def publish_many(self, items: Sequence[tuple[str, str, Mapping[str, Any]]]) -> list[Frame]:
        return [self.publish(room, t, d) for room, t, d in items]

    def subscribe(self, room: str, listener: Listener) -> Callable[[], None]:
        with self._lock:
            self._room(room).listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                r = self._rooms.get(room)
                if r is not None and listener in r.listeners:
                    r.listeners.remove(listener)

        return unsubscribe

    def seq(self, room: str) -> int:
        with self._lock:
            return self._room(room).seq

    def since(self, room: str, seq: int) -> list[Frame] | None:
        with self._lock:
            r = self._room(room)
            return _missed(list(r.history), r.seq, seq)

    def close(self) -> None:
        with self._lock:
            self._rooms.clear()


# KEYS: seq key, history key, channel. ARGV: critical (1/0), head, tail, history length.
# The frame is built here so its seq is the one INCR gave; the history is a list, newest
# first, trimmed to its length.
_PUBLISH = """
local seq
if ARGV[1] == '1' then
  seq = redis.call('INCR', KEYS[1])
else
  seq = tonumber(redis.call('GET', KEYS[1]) or '0')
end
local frame = ARGV[2] .. seq .. ARGV[3]
if ARGV[1] == '1' then
  redis.call('LPUSH', KEYS[2], frame)
  redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[4]) - 1)
end
redis.call('PUBLISH', KEYS[3], frame)
return frame
"""


class RedisBus:
    """Several nodes: ``seq`` and history in Redis, one pub/sub channel per room, frames
    read by one listener thread per node and handed to this node's listeners."""

    def __init__(self, client: redis.Redis, history: int = 1000, prefix: str = "livebase:") -> None:
        self._client = client
        self._history = history
        self._prefix = prefix
        self._script = client.register_script(_PUBLISH)
        self._listeners: dict[str, list[Listener]] = {}
        self._lock = threading.Lock()
        self._pubsub: Any = None
        self._thread: Any = None

    def _key(self, room: str, what: str) -> str:
        return f"{self._prefix}room:{room}:{what}"

    def _call(self, room: str, t: str, d: Mapping[str, Any]) -> tuple[list[str], list[Any]]:
        # The encoded frame split around its seq, which only the script knows.
        whole = _encode(t, 0, _now_ms(), d)
        head, sep, tail = whole.partition('"seq":0')
        if not sep:
            raise ValueError("frame encoding lost its seq")
        keys = [self._key(room, "seq"), self._key(room, "history"), self._key(room, "frames")]
        return keys, ["1" if t in CRITICAL else "0", head + '"seq":', tail, self._history]

    def publish(self, room: str, t: str, d: Mapping[str, Any]) -> Frame:
        keys, args = self._call(room, t, d)
        return Frame.decode(self._script(keys=keys, args=args))

    def publish_many(self, items: Sequence[tuple[str, str, Mapping[str, Any]]]) -> list[Frame]:
        if not items:
            return []
        # One round trip for the tick's batch: pipelined, the server runs the scripts in
        # order, so seq and history stay in order (docs/realtime.md "Across nodes").
        pipe = self._client.pipeline(transaction=False)
        for room, t, d in items:
            keys, args = self._call(room, t, d)
            self._script(keys=keys, args=args, client=pipe)
        return [Frame.decode(raw) for raw in pipe.execute()]

    def _on_message(self, message: dict[str, Any]) -> None:
        channel = message["channel"]
        channel = channel.decode() if isinstance(channel, bytes) else channel
        room = channel[len(self._prefix + "room:") : -len(":frames")]
        with self._lock:
            listeners = list(self._listeners.get(room, ()))
        _deliver(listeners, room, Frame.decode(message["data"]))

    def subscribe(self, room: str, listener: Listener) -> Callable[[], None]:
        channel = self._key(room, "frames")
        with self._lock:
            listeners = self._listeners.setdefault(room, [])
            listeners.append(listener)
            if len(listeners) == 1:
                if self._pubsub is None:
                    self._pubsub = self._client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call]
                # Subscribing waits for Redis' confirmation, so a frame published after
                # subscribe() returns is delivered.
                self._pubsub.subscribe(**{channel: self._on_message})
                self._confirm(channel)
                if self._thread is None:
                    self._thread = self._pubsub.run_in_thread(sleep_time=0.2, daemon=True)

        def unsubscribe() -> None:
            with self._lock:
                subs = self._listeners.get(room, [])
                if listener in subs:
                    subs.remove(listener)
                if not subs and self._pubsub is not None:
                    self._listeners.pop(room, None)
                    self._pubsub.unsubscribe(channel)

        return unsubscribe

    def _confirm(self, channel: str) -> None:
        # PUBSUB NUMSUB counts this node's subscription once Redis has taken it; bounded.
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if self._thread is None:
                self._pubsub.get_message(timeout=0.1)  # reads the confirmation
            counts = dict(self._client.pubsub_numsub(channel))
            if counts.get(channel.encode(), counts.get(channel, 0)):
                return
        raise TimeoutError(f"Redis did not confirm the subscription to {channel}")

    def seq(self, room: str) -> int:
        return int(self._client.get(self._key(room, "seq")) or 0)

    def since(self, room: str, seq: int) -> list[Frame] | None:
        pipe = self._client.pipeline(transaction=True)
        pipe.get(self._key(room, "seq"))
        pipe.lrange(self._key(room, "history"), 0, -1)
        current, kept = pipe.execute()
        frames = [Frame.decode(raw) for raw in reversed(kept)]
        return _missed(frames, int(current or 0), seq)

    def close(self) -> None:
        with self._lock:
            if self._thread is not None:
                # Stop and wait for the reader before closing the connection it reads.
                self._thread.stop()
                self._thread.join(timeout=5)
                self._thread = None
            if self._pubsub is not None:
                self._pubsub.close()
                self._pubsub = None
            self._listeners.clear()
