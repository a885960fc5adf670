"""The fan-out benchmark's resume accounting (bench/fanout_gen.py) against a scripted
room server: the frames a server replays right after the handshake — in the same TCP
segment as the ``101`` or before the reopening task resumes, which is what a loaded
machine produces — must be counted as received, not as lost."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

GEN_PATH = Path(__file__).resolve().parents[2] / "bench" / "fanout_gen.py"
HANDSHAKE = (
    b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"
)


def _gen_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("fanout_gen_under_test", GEN_PATH)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _frame(t: str, seq: int, d: dict[str, Any] | None = None) -> bytes:
    # Compact, as the server encodes (hub.encode_json): the generator reads by offset.
    payload = json.dumps(
        {"t": t, "seq": seq, "ts": 0, "d": d or {}}, separators=(",", ":")
    ).encode()
    assert len(payload) < 126
    return bytes((0x81, len(payload))) + payload


class _ScriptedRoom:
    """A room at ``seq`` = ``current`` that keeps history after ``kept_from``: a fresh
    connection gets a snapshot; one with ``since`` inside the history gets the missed
    critical frames and a ``state``, one with ``since`` older gets ``gap`` and a snapshot
    (DESIGN §7) — all written together with the ``101``, as one segment."""

    def __init__(self, current: int, kept_from: int) -> None:
        self.current = current
        self.kept_from = kept_from
        self.opened = 0
        self.ended = 0

    async def serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.opened += 1
        try:
            await self._answer(reader, writer)
        finally:
            self.ended += 1

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        path = head.split(b" ", 2)[1].decode()
        out = HANDSHAKE
        if "since=" in path:
            since = int(path.rsplit("since=", 1)[1])
            if since >= self.kept_from:
                for s in range(since + 1, self.current + 1):
                    out += _frame("notice", s)
                out += _frame("state", self.current)
            else:
                out += _frame("gap", self.current) + _frame("snapshot", self.current)
        else:
            out += _frame("snapshot", self.current)
        writer.write(out)
        await writer.drain()
        try:
            await reader.read()  # until the client closes
        finally:
            writer.close()


async def _resume(room: _ScriptedRoom, first_seq: int) -> dict[str, Any]:
    gen_mod = _gen_module()
    server = await asyncio.start_server(room.serve, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        gen = gen_mod.Generator(
            {"dialect": "ws", "ports": [port], "n": 3, "path": "/ws/shows/s", "batch_ms": 0}
        )
        got = await gen.connect_all()
        assert got["connected"] == 3
        for c in gen.clients:  # what each had seen before the break
            c.seq = first_seq
        reopened = await gen.reconnect(1.0)
        assert reopened["reconnected"] == 3
        result: dict[str, Any] = await gen.verify(room.current, 2)
        for c in list(gen.live):
            c.transport.close()
        for _ in range(200):  # let every handler see its client go (bounded: 2 s)
            if room.ended == room.opened:
                break
            await asyncio.sleep(0.01)
        return result
    finally:
        server.close()
        await server.wait_closed()


def test_frames_replayed_with_the_handshake_count_as_received() -> None:
    # Given clients that had seen seq 10, when they reopen with since=10 and the server
    # sends 11..15 in the same segment as the 101, then every one of 11..15 is counted
    # once, in order, and nothing is lost.
    result = asyncio.run(_resume(_ScriptedRoom(current=15, kept_from=0), first_seq=10))
    assert result["critical_lost"] == 0, result["loss_sample"]
    assert result["critical_dup"] == 0
    assert result["clients_with_loss"] == 0
    assert result["clients_cut"] == 0


def test_a_resume_older_than_the_history_is_a_resync_not_a_loss() -> None:
    # Given clients whose since=10 fell out of the history, when they reopen, then the
    # server's gap + snapshot is counted as a resync (DESIGN §7), not as frames lost.
    result = asyncio.run(_resume(_ScriptedRoom(current=15, kept_from=12), first_seq=10))
    assert result["gaps"] == 3
    assert result["clients_resynced"] == 3
    assert result["critical_lost"] == 0, result["loss_sample"]
    assert result["clients_with_loss"] == 0
