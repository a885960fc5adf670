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
from collections.abc import MutableMapping
from typing import Any, Protocol

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

EXTENSION = "livebase.transport"
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


class RoomWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's websockets protocol, exposing its transport to the room socket."""

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


def raw_socket_of(scope: MutableMapping[str, Any]) -> RoomWebSocketProtocol | None:
    ext = (scope.get("extensions") or {}).get(EXTENSION)
    proto = ext.get("protocol") if isinstance(ext, dict) else None
    return proto if isinstance(proto, RoomWebSocketProtocol) else None
