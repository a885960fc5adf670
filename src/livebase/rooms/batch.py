"""Non-critical frames, queued from any thread, published once per tick in one
``Bus.publish_many`` (one pipelined round trip to Redis).

Why: the room's hot sources — orders (``purchase``, ``stock``), chat from every viewer —
publish many small frames a second. One unpipelined Redis publish per message tops out
near 9k/s here, a pipeline near 44k/s (issue 13). Within a tick the batch also coalesces
what the room would coalesce anyway: the latest ``stock`` per SKU, the latest value of a
state frame, and ``chat``/``purchase`` lines packed into one frame per room (capped: a
room that floods sheds here first, see :data:`STREAM_CAP`).

Critical frames never wait here: they are published at once, because their ``seq`` is
their order.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from livebase.logs import get_logger
from livebase.rooms.bus import Bus

log = get_logger("livebase.rooms")

# A tick's stream frame carries at most this many lines a room: at a 100 ms tick, 400
# chat lines/s per node, more than anyone reads; the rest is shed (counted).
STREAM_CAP = {"chat": 40, "purchase": 40}
STREAM_KEYS = {"chat": "lines", "purchase": "items"}

OnFlush = Callable[[list[tuple[str, str, dict[str, Any]]]], None]


class Batcher:
    def __init__(self, bus: Bus, tick_s: float, on_flush: OnFlush | None = None) -> None:
        self._bus = bus
        self._tick = tick_s
        self._on_flush = on_flush
        self._lock = threading.Lock()
        self._wake = threading.Event()
        # (room, t) -> d, in first-queued order (dicts keep insertion order).
        self._pending: dict[tuple[str, str], dict[str, Any]] = {}
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.shed = 0

    def add(self, room: str, t: str, d: dict[str, Any]) -> None:
        with self._lock:
            key = (room, t)
            have = self._pending.get(key)
            if t in STREAM_KEYS:
                field = STREAM_KEYS[t]
                items = list(d.get(field, ()))
                if have is None:
                    have = self._pending[key] = {field: []}
                room_for = STREAM_CAP[t] - len(have[field])
                self.shed += max(0, len(items) - room_for)
                have[field].extend(items[: max(0, room_for)])
            elif t == "stock" and have is not None:
                have.update(d)  # the latest figure per SKU
            else:
                self._pending[key] = dict(d)  # latest wins
            if self._thread is None and not self._stopped:
                self._thread = threading.Thread(target=self._run, name="rooms-batch", daemon=True)
                self._thread.start()
        self._wake.set()

    def _run(self) -> None:
        while not self._stopped:
            self._wake.wait()
            self._wake.clear()
            if self._stopped:
                break
            # Let the tick's other frames join this batch.
            threading.Event().wait(self._tick)
            self.flush()

    def flush(self) -> None:
        with self._lock:
            pending, self._pending = self._pending, {}
        if not pending:
            return
        items = [(room, t, d) for (room, t), d in pending.items()]
        try:
            self._bus.publish_many(items)
            if self._on_flush is not None:
                self._on_flush(items)
        except Exception:  # Redis down: these frames are lost, the next tick tries again
            log.exception("room batch publish failed", frames=len(items))

    def close(self) -> None:
        self._stopped = True
        self._wake.set()
        self.flush()
