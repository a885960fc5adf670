"""One hub per live room per node, on the app's event loop (docs/realtime.md "Hub").

The hub is the only place a room's frames are encoded. Three classes of frame (DESIGN §7):

* **critical** (``show``, ``sale_open`` ... ``notice``): forwarded the moment the bus
  hands them over, in ``seq`` order (a hole is filled from the bus's history first),
  never dropped; a connection whose critical backlog passes the bound is closed 4408.
* **state** (``viewers``, ``likes``, ``stock``, ``explaining``, ``sale``, ``slow_mode``):
  coalesced, latest value wins, sent at most once per tick.
* **stream** (``chat``, ``purchase``): packed into one frame per tick, capped per room;
  under load these are shed first (a backed-up connection drops them and is sent one
  ``state`` frame when it catches up).

Every frame is encoded once (:class:`Encoded`: the JSON text and the complete WebSocket
frame) and the same object goes to every connection. A connection writes the pre-built
frame to its transport when it can reach it (``livebase.rooms.wire``), or hands the text
to the ASGI ``send`` in its own sender task; either way a slow connection only grows its
own bounded backlog and the loop never waits for it.
"""

from __future__ import annotations

import asyncio
import enum
import json
import time
import uuid
from collections import deque
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.websockets import WebSocket

from livebase.logs import get_logger
from livebase.rooms.bus import CRITICAL, Bus, Frame
from livebase.rooms.counters import Counters, Totals
from livebase.rooms.wire import RawSocket, RoomWebSocketProtocol, text_frame

log = get_logger("livebase.rooms")

STATE_TYPES = frozenset({"viewers", "likes", "stock", "explaining", "sale", "slow_mode"})
STREAM_TYPES = {"chat": "lines", "purchase": "items"}
# Stream items a room sends per tick (per node). 20 chat lines at a 100 ms tick is 200 a
# second: more than a screen can scroll; the newest win, the host's lines always.
STREAM_PER_TICK = {"chat": 20, "purchase": 10}
# A hub with no viewers stays this long (a refresh or a network blip comes straight back).
IDLE_CLOSE_S = 15.0
# Consecutive shed frames after which a connection that reads nothing is cut (4408):
# with only chat flowing no critical backlog would ever form.
CLOSE_TOO_SLOW = 4408


def encode_json(t: str, seq: int, ts: int, d: Any) -> str:
    return json.dumps(
        {"t": t, "seq": seq, "ts": ts, "d": d}, ensure_ascii=False, separators=(",", ":")
    )


@dataclass(frozen=True, slots=True)
class Encoded:
    """A frame encoded once: the JSON text (ASGI path) and the whole WebSocket frame."""

    t: str
    seq: int
    critical: bool
    text: str
    wire: bytes

    @classmethod
    def build(cls, t: str, seq: int, d: Any, ts: int | None = None) -> Encoded:
        text = encode_json(t, seq, ts if ts is not None else now_ms(), d)
        return cls(t, seq, t in CRITICAL, text, text_frame(text.encode()))

    @classmethod
    def of(cls, frame: Frame) -> Encoded:
        return cls.build(frame.t, frame.seq, frame.d, frame.ts)


def now_ms() -> int:
    return int(time.time() * 1000)


class ConnState(enum.Enum):
    OPENING = "opening"  # registered, its snapshot (or resume) not yet sent
    LIVE = "live"
    CLOSING = "closing"  # cut (4403, 4408) or leaving
    CLOSED = "closed"


@dataclass
class Viewer:
    """Who holds a connection: a user (maybe anonymous) and their role in this room."""

    user_id: str | None
    name: str
    role: str  # anonymous, viewer, host, assistant, moderator

    @property
    def staff(self) -> bool:
        return self.role in ("host", "assistant", "moderator")


# The backlog of every connection with nothing queued: one shared empty deque (only
# ``Connection._queue`` appends, and it gives the connection its own deque first), so an
# idle viewer does not carry a deque block of its own (~760 bytes).
_NO_BACKLOG: deque[Encoded] = deque(maxlen=0)


class Connection:
    __slots__ = (
        "_sender",
        "_wake",
        "backlog",
        "bound",
        "buffer_limit",
        "close_code",
        "closed",
        "critical_waiting",
        "early",
        "hub",
        "joined",
        "last_seq",
        "raw",
        "shed_in_row",
        "shed_total",
        "sock",
        "stale",
        "state",
        "viewer",
        "ws",
    )  # fmt: skip

    def __init__(
        self,
        hub: Hub,
        ws: WebSocket,
        viewer: Viewer,
        raw: RoomWebSocketProtocol | None,
        *,
        bound: int,
        buffer_limit: int,
    ) -> None:
        self.hub = hub
        self.ws = ws
        self.viewer = viewer
        self.raw = raw
        # The transport the raw path writes to, taken once the handshake is done (go_live).
        self.sock: RawSocket | None = None
        self.state = ConnState.OPENING
        self.bound = bound
        self.buffer_limit = buffer_limit
        self.backlog: deque[Encoded] = _NO_BACKLOG
        self.critical_waiting = 0
        self.shed_in_row = 0
        self.shed_total = 0
        self.stale = False  # shed a state or stream frame: owes it a `state` frame
        self.last_seq = 0
        self.early: list[Encoded] = []
        self.close_code: int | None = None
        # The ASGI path's events: set once the connection must stop (cut), and the sender's
        # wake-up. A raw connection has neither (an idle one costs less): a cut interrupts
        # its receive instead (RoomWebSocketProtocol.interrupt).
        self.closed: asyncio.Event | None = asyncio.Event() if raw is None else None
        self._wake: asyncio.Event | None = asyncio.Event() if raw is None else None
        self._sender: asyncio.Task[None] | None = None
        self.joined = time.monotonic()

    # -- delivery ------------------------------------------------------------------------

    def offer(self, enc: Encoded) -> None:
        if self.state is ConnState.LIVE:
            self._push(enc)
        elif self.state is ConnState.OPENING:
            if enc.critical or len(self.early) < self.bound:
                self.early.append(enc)
            if sum(1 for e in self.early if e.critical) > self.bound:
                self.cut(CLOSE_TOO_SLOW)

    def go_live(self, first: list[Encoded], after_seq: int) -> None:
        """Send ``first`` (snapshot or resume frames), then what arrived meanwhile: the
        critical frames after ``after_seq`` and every other frame."""
        if self.state is not ConnState.OPENING:
            return
        self.state = ConnState.LIVE
        self.last_seq = after_seq
        if self.raw is None:
            self._sender = asyncio.get_running_loop().create_task(self._send_loop())
        else:
            self.sock = self.raw.raw_socket()
            if self.sock is None:  # closed while its snapshot was read
                self.cut(None)
                return
        for enc in first:
            self._write(enc)
        early, self.early = self.early, []
        for enc in early:
            self._push(enc)

    def _push(self, enc: Encoded) -> None:
        if enc.critical:
            if enc.seq <= self.last_seq:
                return  # already in its snapshot or replay
            self.last_seq = enc.seq
        self._write(enc)

    def _write(self, enc: Encoded) -> None:
        sock = self.sock
        if (
            sock is not None
            and not self.backlog
            and sock.get_write_buffer_size() <= self.buffer_limit
        ):
            try:
                sock.write(enc.wire)
            except RuntimeError:  # the transport closed under us (peer gone)
                self.cut(None)
            return
        self._queue(enc)

    def _queue(self, enc: Encoded) -> None:
        if self.backlog is _NO_BACKLOG:
            self.backlog = deque()
        if enc.critical:
            self.critical_waiting += 1
            if self.critical_waiting > self.bound:
                self.cut(CLOSE_TOO_SLOW)
                return
            self.backlog.append(enc)
        elif len(self.backlog) >= self.bound:
            self.stale = True
            self.shed_total += 1
            self.shed_in_row += 1
            if self.shed_in_row > 4 * self.bound:
                self.cut(CLOSE_TOO_SLOW)
            return
        else:
            self.backlog.append(enc)
        self.hub.backlogged.add(self)
        if self._wake is not None:
            self._wake.set()

    def drain(self) -> bool:
        """Raw path: write what the transport takes now; True when the backlog is empty."""
        sock = self.sock
        if sock is None or self.state is not ConnState.LIVE:
            return not self.backlog
        if sock.is_closing():
            self.cut(None)
            return True
        while self.backlog and sock.get_write_buffer_size() <= self.buffer_limit:
            enc = self.backlog.popleft()
            if enc.critical:
                self.critical_waiting -= 1
            try:
                sock.write(enc.wire)
            except RuntimeError:
                self.cut(None)
                return True
        if not self.backlog:
            self.shed_in_row = 0
            self.backlog = _NO_BACKLOG  # give the deque back
        return not self.backlog

    async def _send_loop(self) -> None:
        """ASGI path: one sender per connection, so an awaiting send blocks only it."""
        wake = self._wake
        if wake is None:  # a raw connection has no sender
            return
        try:
            while self.state is ConnState.LIVE:
                if not self.backlog:
                    self.shed_in_row = 0
                    wake.clear()
                    await wake.wait()
                    continue
                enc = self.backlog.popleft()
                if enc.critical:
                    self.critical_waiting -= 1
                await self.ws.send_text(enc.text)
        except Exception:  # the peer went away: the receive side notices and leaves
            self.cut(None)

    def send_direct(self, obj: dict[str, Any]) -> None:
        """A frame for this connection only (an error, a pong): small, rare, unshared."""
        text = json.dumps(obj, ensure_ascii=False, separators=(",", ":"))
        enc = Encoded(str(obj.get("t", "")), 0, False, text, text_frame(text.encode()))
        if self.state is ConnState.LIVE:
            self._write(enc)

    # -- ending --------------------------------------------------------------------------

    def cut(self, code: int | None) -> None:
        """Stop delivering; ``code`` (4403, 4408) is sent as the close frame."""
        if self.state in (ConnState.CLOSING, ConnState.CLOSED):
            return
        self.state = ConnState.CLOSING
        self.close_code = code
        self.sock = None
        self.backlog = _NO_BACKLOG
        self.early.clear()
        if self.raw is not None:
            self.raw.interrupt()
        if self._wake is not None and self.closed is not None:
            self._wake.set()
            self.closed.set()

    def finish(self) -> None:
        self.state = ConnState.CLOSED
        if self._wake is not None:
            self._wake.set()
        if self._sender is not None:
            self._sender.cancel()


@dataclass
class _Buffers:
    """What one tick gathers: the state to coalesce, the stream lines to pack."""

    state: dict[str, Any] = field(default_factory=dict)
    sales: dict[str, dict[str, Any]] = field(default_factory=dict)
    stock: dict[str, int] = field(default_factory=dict)
    chat: list[dict[str, Any]] = field(default_factory=list)
    purchase: list[dict[str, Any]] = field(default_factory=list)
    shed: int = 0


SnapshotReader = Callable[[str], dict[str, Any]]


class Hub:
    """A room on this node: its connections, its tick, its view of the room's state."""

    def __init__(self, rooms: Rooms, show_id: str) -> None:
        self.rooms = rooms
        self.show_id = show_id
        self.conns: set[Connection] = set()
        # Connections with something queued (or owed a `state` frame): the tick drains
        # these, not every connection of the room.
        self.backlogged: set[Connection] = set()
        self.seq = 0
        self.totals = Totals(0, 0, 0)
        self.slow_mode = 0
        self.sanctions: dict[tuple[str, str], float | None] = {}  # (user, kind) -> until
        self.recent_chat: deque[dict[str, Any]] = deque(maxlen=50)
        self.version = 0  # bumped by anything a snapshot shows besides counters
        self._buf = _Buffers()
        self._likes = 0
        self._sampled = 0
        self._sampled_n = 0
        self._ahead: dict[int, Frame] = {}
        self._filling = False
        self._unsubscribe: Callable[[], None] | None = None
        self._task: asyncio.Task[None] | None = None
        self._snap: tuple[int, float, dict[str, Any]] | None = None
        self._snap_task: asyncio.Task[dict[str, Any]] | None = None
        # The shared encoded snapshot: (key, built at, frame, seq), and the one being built.
        self._snap_enc: tuple[tuple[int, int, int], float, Encoded, int] | None = None
        self._snap_enc_task: asyncio.Task[tuple[Encoded, int]] | None = None
        self._snap_enc_key: tuple[int, int, int] | None = None
        self.chat_seen = 0  # chat frames taken from the bus (a snapshot's chat changes)
        self._empty_since: float | None = time.monotonic()
        self.opened = asyncio.Event()
        self.sent_frames = 0

    # -- life ----------------------------------------------------------------------------

    async def open(self) -> None:
        r = self.rooms
        loop = asyncio.get_running_loop()

        def listener(room: str, frame: Frame) -> None:
            # Any thread: the bus's listener thread (Redis) or a publisher (memory).
            with suppress(RuntimeError):  # the loop closed under us at shutdown
                loop.call_soon_threadsafe(self.on_frame, frame)

        def setup() -> tuple[Callable[[], None], int, dict[str, Any]]:
            unsubscribe = r.bus.subscribe(self.show_id, listener)
            return unsubscribe, r.bus.seq(self.show_id), r.load_room(self.show_id)

        self._unsubscribe, self.seq, loaded = await asyncio.to_thread(setup)
        self.slow_mode = loaded["slow_mode"]
        for user_id, kind, until in loaded["sanctions"]:
            self.sanctions[(user_id, kind)] = until
        self.recent_chat.extend(loaded["chat"])
        self._task = loop.create_task(self._run())
        self.opened.set()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._unsubscribe is not None:
            await asyncio.to_thread(self._unsubscribe)
        for c in list(self.conns):
            c.cut(1001)
        try:  # take this node's viewers out of the room's number now
            await self._counters(0, 0, 0.0)
        except Exception:
            log.warning("room counters unavailable at close", show_id=self.show_id)

    # -- connections ---------------------------------------------------------------------

    def join(self, conn: Connection) -> None:
        self.conns.add(conn)
        self._empty_since = None

    def leave(self, conn: Connection) -> None:
        self.conns.discard(conn)
        self.backlogged.discard(conn)
        conn.finish()
        if not self.conns:
            self._empty_since = time.monotonic()

    def banned(self, user_id: str | None) -> bool:
        return user_id is not None and (user_id, "ban") in self.sanctions

    def muted_until(self, user_id: str) -> float | None:
        if (user_id, "mute") not in self.sanctions:
            return None
        until = self.sanctions[(user_id, "mute")]
        if until is not None and until <= time.time():
            del self.sanctions[(user_id, "mute")]
            return None
        return until if until is not None else float("inf")

    # -- frames from the bus (loop thread) -----------------------------------------------

    def on_frame(self, frame: Frame) -> None:
        t = frame.t
        if frame.critical:
            self._critical(frame)
        elif t in STREAM_TYPES:
            items = frame.d.get(STREAM_TYPES[t], [])
            if t == "chat":
                self._buf.chat.extend(items)
                self.recent_chat.extend(items)
                self.chat_seen += 1
            else:
                self._buf.purchase.extend(items)
        elif t == "stock":
            self._buf.stock.update(frame.d)
            self.version += 1
        elif t == "sale":
            self._buf.sales[str(frame.d.get("id"))] = frame.d
            self.version += 1
        elif t == "slow_mode":
            self.slow_mode = int(frame.d.get("seconds", 0))
            self._buf.state[t] = frame.d
            self.version += 1
        elif t in STATE_TYPES:
            self._buf.state[t] = frame.d
            self.version += 1
        elif t == "mod":
            self._mod(frame.d)

    def _mod(self, d: dict[str, Any]) -> None:
        user_id, kind = str(d["user_id"]), str(d["kind"])
        if d.get("lifted"):
            self.sanctions.pop((user_id, kind), None)
            return
        until = d.get("until")
        self.sanctions[(user_id, kind)] = (
            datetime.fromisoformat(until).timestamp() if isinstance(until, str) else None
        )
        if kind == "ban":
            for c in list(self.conns):
                if c.viewer.user_id == user_id:
                    c.cut(4403)

    def _critical(self, frame: Frame) -> None:
        if frame.seq <= self.seq:
            return  # a duplicate (a refill raced the live frame)
        if frame.seq > self.seq + 1:
            self._ahead[frame.seq] = frame
            if not self._filling:
                self._filling = True
                asyncio.get_running_loop().create_task(self._fill())
            return
        self._send_critical(frame)
        while self.seq + 1 in self._ahead:
            self._send_critical(self._ahead.pop(self.seq + 1))

    def _send_critical(self, frame: Frame) -> None:
        self.seq = frame.seq
        self.version += 1
        self.fanout(Encoded.of(frame))

    async def _fill(self) -> None:
        """Frames arrived past a hole (two publishers' threads raced, or a pub/sub
        message was lost): take the missing ones from the bus's history, in order."""
        try:
            missed = await asyncio.to_thread(self.rooms.bus.since, self.show_id, self.seq)
            for f in missed or []:
                if f.seq > self.seq:
                    self._ahead.setdefault(f.seq, f)
            while self._ahead:
                nxt = min(self._ahead)
                if nxt > self.seq + 1 and missed is not None:
                    break
                self._send_critical(self._ahead.pop(nxt))
        finally:
            self._filling = False

    def fanout(self, enc: Encoded) -> None:
        """Offer ``enc`` to every connection. The common case — a live raw connection
        with nothing queued and room in its transport's buffer — is written here inline
        (one buffer check and one ``write`` of the shared bytes); anything else takes
        ``Connection.offer``. Nothing here adds or removes connections, so the set is
        walked as it is."""
        self.sent_frames += 1
        wire, critical, seq = enc.wire, enc.critical, enc.seq
        live = ConnState.LIVE
        for c in self.conns:
            sock = c.sock
            if (
                sock is not None
                and c.state is live
                and not c.backlog
                and sock.get_write_buffer_size() <= c.buffer_limit
            ):
                if critical:
                    if seq <= c.last_seq:
                        continue  # already in its snapshot or replay
                    c.last_seq = seq
                try:
                    sock.write(wire)
                except RuntimeError:  # the transport closed under us (peer gone)
                    c.cut(None)
            else:
                c.offer(enc)

    # -- the tick ------------------------------------------------------------------------

    async def _run(self) -> None:
        tick = self.rooms.tick_s
        last = time.monotonic()
        while True:
            started = time.monotonic()
            try:
                await self._tick(started - last)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("room tick failed", show_id=self.show_id)
            last = started
            if self._empty_since is not None and started - self._empty_since > IDLE_CLOSE_S:
                self.rooms.retire(self)
                return
            await asyncio.sleep(max(0.0, tick - (time.monotonic() - started)))

    async def _counters(self, viewers: int, likes: int, dt: float) -> Totals:
        r = self.rooms
        if r.counters.blocking:
            return await asyncio.to_thread(
                r.counters.tick, self.show_id, r.node, viewers, likes, dt
            )
        return r.counters.tick(self.show_id, r.node, viewers, likes, dt)

    async def _sample(self, minute: int, viewers: int) -> None:
        c = self.rooms.counters
        if c.blocking:
            await asyncio.to_thread(c.sample, self.show_id, minute, viewers)
        else:
            c.sample(self.show_id, minute, viewers)

    async def _tick(self, dt: float) -> None:
        likes, self._likes = self._likes, 0
        viewers = len(self.conns)  # leave() takes a connection out as it closes
        totals = await self._counters(viewers, likes, dt)
        buf, self._buf = self._buf, _Buffers()
        seq = self.seq
        if (totals.viewers, totals.peak) != (self.totals.viewers, self.totals.peak):
            self.fanout(Encoded.build("viewers", seq, {"now": totals.viewers, "peak": totals.peak}))
        if totals.likes != self.totals.likes:
            self.fanout(Encoded.build("likes", seq, {"total": totals.likes}))
        self.totals = totals
        minute = int(time.time() // 60)
        # Viewers per minute (the minute's peak) for the post-show review's chart: written
        # when the minute turns or its figure rises, not every tick.
        if minute != self._sampled or totals.viewers > self._sampled_n:
            self._sampled, self._sampled_n = minute, totals.viewers
            await self._sample(minute, totals.viewers)
        if buf.stock:
            self.fanout(Encoded.build("stock", seq, buf.stock))
        for d in buf.sales.values():
            self.fanout(Encoded.build("sale", seq, d))
        for t, d in buf.state.items():
            self.fanout(Encoded.build(t, seq, d))
        if buf.chat:
            self.fanout(Encoded.build("chat", seq, {"lines": _pick(buf.chat, "chat")}))
        if buf.purchase:
            items = buf.purchase[-STREAM_PER_TICK["purchase"] :]
            self.fanout(Encoded.build("purchase", seq, {"items": items}))
        await self._catch_up()

    async def _catch_up(self) -> None:
        """Drain raw backlogs; a connection that shed frames and caught up gets one
        `state` frame with every latest value."""
        owed = []
        for c in list(self.backlogged):
            empty = c.drain() if c.sock is not None else not c.backlog
            if empty:
                self.backlogged.discard(c)
                if c.stale and c.state is ConnState.LIVE:
                    owed.append(c)
        if owed:
            enc = Encoded.build("state", self.seq, await self.state_d())
            for c in owed:
                c.stale = False
                c.offer(enc)

    def like(self, n: int) -> None:
        self._likes += n

    # -- snapshots -----------------------------------------------------------------------

    async def room_d(self) -> dict[str, Any]:
        """The database part of the room as of now, read once for every viewer joining
        within a tick of each other (a burst of 200 reads the database once)."""
        cached = self._snap
        now = time.monotonic()
        if cached is not None and cached[0] == self.version and now - cached[1] < self.rooms.tick_s:
            return cached[2]
        if self._snap_task is None or self._snap_task.done():
            version = self.version
            self._snap_task = asyncio.get_running_loop().create_task(self._read(version))
        return await asyncio.shield(self._snap_task)

    async def _read(self, version: int) -> dict[str, Any]:
        d = await asyncio.to_thread(self.rooms.read_room, self.show_id)
        self._snap = (version, time.monotonic(), d)
        return d

    def live_d(self) -> dict[str, Any]:
        t = self.totals
        return {"viewers": {"now": t.viewers, "peak": t.peak}, "likes": {"total": t.likes}}

    async def snapshot(self) -> tuple[Encoded, int]:
        """A snapshot and the seq it is good for. Viewers who join while nothing reaches
        the room (no frame from the bus, no frame fanned out, within one tick) share one
        encoded snapshot: a burst of joins reads the bus, encodes and keeps in memory one
        snapshot instead of one each. Anything that arrives between the snapshot and a
        viewer's joining changes the key, so a cached snapshot never misses a frame the
        viewer would not also get live; only the viewer count may be a tick old (the next
        tick's ``viewers`` frame carries it)."""
        key = (self.version, self.sent_frames, self.chat_seen)
        cached = self._snap_enc
        if (
            cached is not None
            and cached[0] == key
            and time.monotonic() - cached[1] < self.rooms.tick_s
        ):
            return cached[2], cached[3]
        task = self._snap_enc_task
        if task is None or task.done() or self._snap_enc_key != key:
            task = asyncio.get_running_loop().create_task(self._build_snapshot(key))
            self._snap_enc_task, self._snap_enc_key = task, key
        return await asyncio.shield(task)

    async def _build_snapshot(self, key: tuple[int, int, int]) -> tuple[Encoded, int]:
        started = time.monotonic()
        seq = await asyncio.to_thread(self.rooms.bus.seq, self.show_id)
        d = dict(await self.room_d())
        d.update(self.live_d())
        d["chat"] = list(self.recent_chat)
        enc = Encoded.build("snapshot", seq, d)
        self._snap_enc = (key, started, enc, seq)
        return enc, seq

    async def state_d(self) -> dict[str, Any]:
        room = await self.room_d()
        d = self.live_d()
        d["stock"] = {line["sku_id"]: line["stock"] for line in room["shelf"]}
        d["explaining"] = room["explaining"]
        d["sales"] = [
            {"id": s["id"], "status": s["status"], "remaining": s["remaining"]}
            for s in room["sales"]
        ]
        d["slow_mode"] = room["slow_mode"]
        d["show"] = {"status": room["show"]["status"]}
        return d


def _pick(lines: list[dict[str, Any]], t: str) -> list[dict[str, Any]]:
    """The tick's lines: all of the staff's, then the newest others up to the cap."""
    cap = STREAM_PER_TICK[t]
    if len(lines) <= cap:
        return lines
    staff = [x for x in lines if x.get("role") in ("host", "assistant", "moderator")]
    others = [x for x in lines if x.get("role") not in ("host", "assistant", "moderator")]
    keep = staff[-cap:] + others[-max(0, cap - len(staff)) :] if cap > len(staff) else staff[-cap:]
    keep_ids = {id(x) for x in keep}
    return [x for x in lines if id(x) in keep_ids]


class Rooms:
    """This node's hubs, made on the first viewer of a room and retired when idle."""

    def __init__(
        self,
        bus: Bus,
        counters: Counters,
        read_room: SnapshotReader,
        load_room: SnapshotReader,
        *,
        tick_s: float,
        queue: int,
        write_buffer: int,
    ) -> None:
        self.bus = bus
        self.counters = counters
        self.read_room = read_room
        self.load_room = load_room
        self.tick_s = tick_s
        self.queue = queue
        self.write_buffer = write_buffer
        self.node = uuid.uuid4().hex[:12]
        self.hubs: dict[str, Hub] = {}
        self._lock = asyncio.Lock()

    async def hub(self, show_id: str) -> Hub:
        hub = self.hubs.get(show_id)
        if hub is None:
            async with self._lock:
                hub = self.hubs.get(show_id)
                if hub is None:
                    hub = Hub(self, show_id)
                    await hub.open()
                    self.hubs[show_id] = hub
        return hub

    def retire(self, hub: Hub) -> None:
        if self.hubs.get(hub.show_id) is hub and not hub.conns:
            del self.hubs[hub.show_id]
            asyncio.get_running_loop().create_task(hub.close())

    async def close(self) -> None:
        hubs, self.hubs = list(self.hubs.values()), {}
        for hub in hubs:
            await hub.close()
