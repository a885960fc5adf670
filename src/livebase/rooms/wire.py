"""Encode once, write many: a server WebSocket frame is unmasked (RFC 6455 §5.1), so the
whole frame, header and payload, is the same bytes for every viewer of a room. The hub
builds it once per tick (:func:`text_frame`) and writes it straight to each connection's
asyncio transport, bypassing the per-connection path of the ASGI server (a ``send`` that
frames, and with permessage-deflate compresses, the message once per connection; figures
in docs/realtime.md).

uvicorn does not hand the transport to the app, so :class:`RoomWebSocketProtocol` (the
``ws`` protocol ``livebase serve`` gives uvicorn) is uvicorn's own sans-I/O websockets
protocol with one addition: it puts itself in the scope's extensions. Everything else —
the handshake, reading, ping/pong, close — stays uvicorn's. Frames written this way are
whole frames with RSV1 clear, which a peer that negotiated permessage-deflate reads as
uncompressed messages (RFC 7692 §6: compression is per message, optional).

Where the extension is missing (the test client, another ASGI server, a uvicorn started
without our protocol) the hub falls back to the ASGI ``send`` path with the same encoded
text, so the room works everywhere and is fast where we run it.
"""

from __future__ import annotations

import asyncio
import struct
from collections import deque
from collections.abc import MutableMapping
from typing import Any, Protocol

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

EXTENSION = "livebase.transport"
# How ``livebase serve`` (and the benchmarks) start uvicorn for rooms: this protocol, and
# no permessage-deflate. The room's frames go out pre-built and uncompressed whatever is
# negotiated, and a negotiated deflate keeps two zlib streams per connection: 62 KiB per
# idle viewer with it (as a browser asks), 16 KiB without (bench/ws_memory.py).
UVICORN_WS: dict[str, Any] = {
    "ws": "livebase.rooms.wire:RoomWebSocketProtocol",
    "ws_per_message_deflate": False,
}
CUT = "livebase.cut"  # the key of the message :meth:`RoomWebSocketProtocol.interrupt` queues
OP_TEXT = 0x1


def text_frame(payload: bytes) -> bytes:
    """One final, unmasked text frame carrying ``payload`` (UTF-8 JSON)."""
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", 0x80 | OP_TEXT, n)
    elif n < 1 << 16:
        header = struct.pack("!BBH", 0x80 | OP_TEXT, 126, n)
    else:
        header = struct.pack("!BBQ", 0x80 | OP_TEXT, 127, n)
    return header + payload


class RawSocket(Protocol):
    """What the hub needs of a connection's transport."""

    def write(self, data: bytes) -> None: ...
    def get_write_buffer_size(self) -> int: ...
    def is_closing(self) -> bool: ...


class _Inbox:
    """What uvicorn's protocol needs of its receive queue (``put_nowait``, ``get``,
    ``empty``) for its one reader, the app's ``receive``. An ``asyncio.Queue`` holds three
    deques and an ``Event`` (four deque blocks, ~3 KB) for the life of every connection;
    an idle room viewer has no message waiting, so this keeps nothing until one comes."""

    __slots__ = ("_items", "_waiter")

    def __init__(self) -> None:
        self._items: deque[Any] | None = None
        self._waiter: asyncio.Future[None] | None = None

    def put_nowait(self, item: Any) -> None:
        if self._items is None:
            self._items = deque()
        self._items.append(item)
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    def empty(self) -> bool:
        return not self._items

    async def get(self) -> Any:
        while not self._items:
            waiter = self._waiter = asyncio.get_running_loop().create_future()
            try:
                await waiter
            finally:
                self._waiter = None
        item = self._items.popleft()
        if not self._items:
            self._items = None
        return item


class _Flag:
    """``asyncio.Event``'s ``set``/``clear``/``is_set``/``wait`` without a deque of
    waiters made up front: uvicorn's ``writable`` flag, waited on only by the ASGI
    ``send`` (which the room's raw path leaves after the handshake)."""

    __slots__ = ("_set", "_waiters")

    def __init__(self) -> None:
        self._set = True
        self._waiters: list[asyncio.Future[None]] | None = None

    def is_set(self) -> bool:
        return self._set

    def set(self) -> None:
        self._set = True
        waiters, self._waiters = self._waiters, None
        for w in waiters or ():
            if not w.done():
                w.set_result(None)

    def clear(self) -> None:
        self._set = False

    async def wait(self) -> bool:
        if self._set:
            return True
        w = asyncio.get_running_loop().create_future()
        if self._waiters is None:
            self._waiters = []
        self._waiters.append(w)
        await w
        return True


class RoomWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets protocol, exposing its transport to the room socket, and
    lighter per connection: a receive queue and a ``writable`` flag that keep nothing
    while idle, and the handshake's request and response dropped once it is done (they
    hold both header sets, ~3 KB, for the connection's life). bench/ws_memory.py measures
    it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.queue = _Inbox()  # type: ignore[assignment]
        self.writable = _Flag()  # type: ignore[assignment]

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message.get("type") == "websocket.accept" and self.handshake_complete:
            # Read by uvicorn only while it accepts. websockets' parser keeps the request
            # too, as a local of its suspended handshake generator for the connection's
            # life: emptied in place, its headers go (about 1.5 KB a connection).
            if self.request is not None:
                self.request.headers.clear()
            self.request = None  # type: ignore[assignment]
            self.response = None  # type: ignore[assignment]

    def handle_connect(self, event: Any) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)
        # The app task was created but has not run yet: the extension is there before the
        # app reads the scope. A refused handshake builds no scope.
        if scope is not None and self.handshake_initiated and not self.close_sent:
            scope["extensions"][EXTENSION] = {"protocol": self}

    def interrupt(self) -> None:
        """Wake the app's pending ``receive`` with a message that says the room cut this
        connection (``CUT`` set), so the room socket needs no second task waiting on the
        cut beside its receive: one await per idle connection, not three."""
        cut: Any = {"type": "websocket.receive", CUT: True}  # not an ASGI event type
        self.queue.put_nowait(cut)

    def raw_socket(self) -> RawSocket | None:
        transport: asyncio.Transport | None = self.transport
        if transport is None or not self.handshake_complete or self.close_sent:
            return None
        return transport


def shed_handshake(ws: Any) -> None:
    """Forget what only the handshake needed once the room has read it (the viewer, the
    ``since`` query): the scope's header list (shared, in place, with uvicorn's protocol
    and Starlette's ``Headers``), the query string and Starlette's parsed copies. An idle
    viewer then keeps none of its request for the hours it watches."""
    scope = ws.scope
    headers = scope.get("headers")
    if isinstance(headers, list):
        headers.clear()
    scope["query_string"] = b""
    for cached in ("_headers", "_cookies", "_query_params", "_url", "_base_url"):
        ws.__dict__.pop(cached, None)


def raw_socket_of(scope: MutableMapping[str, Any]) -> RoomWebSocketProtocol | None:
    ext = (scope.get("extensions") or {}).get(EXTENSION)
    proto = ext.get("protocol") if isinstance(ext, dict) else None
    return proto if isinstance(proto, RoomWebSocketProtocol) else None
