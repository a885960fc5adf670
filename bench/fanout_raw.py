"""The raw ceiling of bench/fanout.py: the least a server can do to fan a frame out.

    python bench/fanout_raw.py PORT REDIS_URL CHANNEL

A uvloop server that accepts any WebSocket handshake on PORT (one room), and for each
message on the Redis channel (the publisher's encoded DESIGN §7 frame) builds the
WebSocket frame once and writes the same bytes to every transport. Chat lines from the
clients are unmasked, kept, and packed once per 100 ms tick into one ``chat`` frame for
everyone, as livebase does. No history, no queues, no back-pressure, no compliance: a
ceiling to measure the real servers against, not a server to run.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import resource
import sys
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TICK_S = 0.1


def ws_frame(payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        return bytes((0x81, n)) + payload
    if n < 65536:
        return bytes((0x81, 126)) + n.to_bytes(2, "big") + payload
    return bytes((0x81, 127)) + n.to_bytes(8, "big") + payload


def unmask(mask: bytes, data: bytes) -> bytes:
    n = len(data)
    if not n or mask == b"\x00\x00\x00\x00":
        return data
    key = (mask * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "big") ^ int.from_bytes(key, "big")).to_bytes(n, "big")


class Room:
    def __init__(self) -> None:
        self.transports: set[asyncio.Transport] = set()
        self.lines: list[str] = []

    def send(self, payload: bytes) -> None:
        frame = ws_frame(payload)
        for t in self.transports:
            t.write(frame)


class Conn(asyncio.Protocol):
    def __init__(self, room: Room) -> None:
        self.room = room
        self.buf = b""
        self.open = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        if self.transport is not None:
            self.room.transports.discard(self.transport)

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data if self.buf else data
        assert self.transport is not None
        if not self.open:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            key = b""
            for line in buf[:end].split(b"\r\n"):
                if line[:18].lower() == b"sec-websocket-key:":
                    key = line[18:].strip()
            accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
            self.transport.write(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n"
            )
            self.open = True
            self.room.transports.add(self.transport)
            buf = buf[end + 4 :]
        pos, n = 0, len(buf)
        while n - pos >= 6:
            ln = buf[pos + 1] & 0x7F
            start = pos + 2
            if ln == 126:
                ln = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                start = pos + 4
            elif ln == 127:
                ln = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                start = pos + 10
            if start + 4 + ln > n:
                break
            opcode = buf[pos] & 0x0F
            payload = unmask(buf[start : start + 4], buf[start + 4 : start + 4 + ln])
            pos = start + 4 + ln
            if opcode == 1:
                try:
                    msg = json.loads(payload)
                except ValueError:
                    continue
                if msg.get("t") == "chat":
                    self.room.lines.append(str(msg.get("text", ""))[:200])
            elif opcode == 8:
                self.transport.close()
                return
        self.buf = buf[pos:]


async def tick(room: Room) -> None:
    while True:
        await asyncio.sleep(TICK_S)
        if room.lines:
            lines, room.lines = room.lines[-50:], []
            ts = int(time.time() * 1000)
            room.send(
                json.dumps(
                    {"t": "chat", "seq": 0, "ts": ts, "d": {"lines": lines}},
                    ensure_ascii=False,
                    separators=(",", ":"),
                ).encode()
            )


async def relay(room: Room, url: str, channel: str) -> None:
    import redis.asyncio as aredis

    client = aredis.Redis.from_url(url)
    pubsub = client.pubsub()
    await pubsub.subscribe(channel)
    async for msg in pubsub.listen():
        if msg["type"] == "message":
            room.send(msg["data"])


async def main() -> None:
    port, url, channel = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    room = Room()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Conn(room), "127.0.0.1", port, backlog=4096)
    tasks = [asyncio.create_task(tick(room)), asyncio.create_task(relay(room, url, channel))]
    print("ready", flush=True)
    async with server:
        await asyncio.gather(*tasks)


if __name__ == "__main__":
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 20000), hard))
    import uvloop

    uvloop.run(main())
