"""The fan-out benchmark's load generator (a process of its own, pinned by bench/fanout.py).

    python bench/fanout_gen.py SPEC.json

Opens ``n`` WebSocket clients to one room with a hand-written client over uvloop
transports (the ``websockets`` library costs several times more CPU per received frame,
which at 10,000 clients makes the generator the bottleneck), counts every frame it
receives by type, and takes the send→receive latency from the ``sent`` field (publisher's
wall clock, ms) on a spread sample of the connections. It speaks two dialects:

- ``ws``: DESIGN §7 text frames ``{"t": TYPE, "seq": N, "ts": MS, "d": {...}}`` (livebase and
  the raw ceiling); chat goes out as ``{"t": "chat", "text": ...}``;
- ``sio``: Engine.IO v4 / Socket.IO v5 over WebSocket (``EIO=4&transport=websocket``): the
  open packet ``0{...}`` is answered with ``40`` (connect to ``/``), a ping ``2`` with a pong
  ``3``, events arrive as ``42["name",{...}]`` and chat goes out as ``42["chat","..."]``.

Client frames are masked with the all-zero key (valid framing; a server unmasks them the
same way), so a chat line costs one ``write``.

Commands come on stdin, one a line, answers go to stdout as one JSON line each:
``measure S`` (reset the counters, wait S seconds, report), ``chat RATE`` (the chatter
connections send RATE lines/s in all), ``reconnect FRACTION`` (close that share of the
clients at once, reopen them with ``since`` = the last critical ``seq`` each had seen),
``verify LAST T`` (once the publisher stopped at seq LAST: wait up to T s for every client
to have it, report critical frames lost or duplicated across the break, per client),
``close`` (close all, report), ``quit``.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
from typing import Any

CRITICAL = frozenset(
    {
        b"show",
        b"sale_open",
        b"sale_close",
        b"sold_out",
        b"price",
        b"coupon",
        b"bag_start",
        b"bag_draw",
        b"notice",
    }
)
KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
# Paused clients resumed per loop iteration by a sweep.
SWEEP_CHUNK = 250


def _client_frame(payload: bytes, opcode: int = 1) -> bytes:
    n = len(payload)
    if n < 126:
        head = bytes((0x80 | opcode, 0x80 | n))
    elif n < 65536:
        head = bytes((0x80 | opcode, 0x80 | 126)) + n.to_bytes(2, "big")
    else:
        head = bytes((0x80 | opcode, 0x80 | 127)) + n.to_bytes(8, "big")
    return head + b"\x00\x00\x00\x00" + payload  # zero mask key: payload unchanged


PONG_SIO = _client_frame(b"3")
CONNECT_SIO = _client_frame(b"40")


class Stats:
    def __init__(self) -> None:
        self.reset()
        self.closed_codes: dict[int, int] = {}

    def reset(self) -> None:
        self.frames = 0
        self.bytes = 0
        self.types: dict[str, int] = {}
        self.lat: list[float] = []
        self.t0 = time.monotonic()
        self.cpu0 = _cpu()


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class Client(asyncio.Protocol):
    def __init__(self, gen: Generator, idx: int, path: str) -> None:
        self.gen = gen
        self.idx = idx
        self.path = path
        self.sample = idx % gen.sample_every == 0
        self.track = gen.dialect == "ws"
        self.transport: asyncio.Transport | None = None
        self.buf = b""
        self.upgraded = False
        self.ready = asyncio.get_running_loop().create_future()
        self.lost = asyncio.get_running_loop().create_future()
        self.seq = -1  # last critical seq seen (ws dialect), -1 before the first frame
        self.seen: list[int] = []  # critical seqs seen, in order (when recording)
        self.record = False
        # Set by a snapshot that follows a gap (DESIGN §7: since older than the history):
        # the seq the client resynced at; verify checks only what follows it.
        self.resync_at: int | None = None
        self.gapped = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(  # type: ignore[attr-defined]
            b"GET " + self.path.encode() + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            b"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "
            + KEY
            + b"\r\nSec-WebSocket-Version: 13\r\n\r\n"
        )

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"lost before upgrade: {exc}"))
        if not self.lost.done():
            self.lost.set_result(None)
        self.gen.live.discard(self)

    def data_received(self, data: bytes) -> None:
        buf = self.buf + data if self.buf else data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                self.buf = buf
                return
            if buf[9:12] != b"101":
                if not self.ready.done():
                    self.ready.set_exception(ConnectionError(buf[:end].decode("latin-1")))
                self.transport.close()  # type: ignore[union-attr]
                return
            self.upgraded = True
            if self.ready.done():  # timed out meanwhile: counted as failed
                self.transport.close()  # type: ignore[union-attr]
                return
            self.ready.set_result(None)
            buf = buf[end + 4 :]
        pos, n = 0, len(buf)
        stats = self.gen.stats
        while n - pos >= 2:
            b1 = buf[pos + 1] & 0x7F
            if b1 < 126:
                start = pos + 2
            elif b1 == 126:
                if n - pos < 4:
                    break
                b1 = int.from_bytes(buf[pos + 2 : pos + 4], "big")
                start = pos + 4
            else:
                if n - pos < 10:
                    break
                b1 = int.from_bytes(buf[pos + 2 : pos + 10], "big")
                start = pos + 10
            end = start + b1
            if end > n:
                break
            opcode = buf[pos] & 0x0F
            pos = end
            if opcode == 1 or opcode == 2:
                stats.frames += 1
                stats.bytes += end - start
                self.on_message(buf, start, end)
            elif opcode == 8:
                code = int.from_bytes(buf[start : start + 2], "big") if b1 >= 2 else 1005
                stats.closed_codes[code] = stats.closed_codes.get(code, 0) + 1
                self.transport.close()  # type: ignore[union-attr]
                return
            elif opcode == 9:
                self.transport.write(_client_frame(buf[start:end], 10))  # type: ignore[union-attr]
        self.buf = buf[pos:] if pos < n else b""
        if not self.sample and self.gen.batch_s:
            # Counted, not timed: read this one again at the next sweep, so one read takes
            # every frame that came meanwhile (the kernel keeps them; the server's writes
            # are the same either way).
            self.transport.pause_reading()  # type: ignore[union-attr]
            self.gen.paused.append(self)

    def on_message(self, buf: bytes, start: int, end: int) -> None:
        stats = self.gen.stats
        if self.gen.dialect == "sio":
            c = buf[start]
            if c == 0x32:  # "2": ping
                self.transport.write(PONG_SIO)  # type: ignore[union-attr]
                return
            if c == 0x30:  # "0": open, connect to the default namespace
                self.transport.write(CONNECT_SIO)  # type: ignore[union-attr]
                return
            if buf[start : start + 2] != b"42":
                return
            q = buf.find(b'"', start + 4, end)
            t = buf[start + 4 : q]
        else:
            # {"t":"TYPE","seq":N,...
            q = buf.find(b'"', start + 6, end)
            t = buf[start + 6 : q]
            if t in CRITICAL or t == b"snapshot" or t == b"state" or t == b"gap":
                s = buf.find(b'"seq":', q, end) + 6
                e = s
                while 48 <= buf[e] <= 57:
                    e += 1
                seq = int(buf[s:e])
                if t in CRITICAL:
                    if seq > self.gen.max_seq:
                        self.gen.max_seq = seq
                    if self.record:
                        self.seen.append(seq)
                    self.seq = seq
                elif t == b"gap":
                    self.gen.gaps += 1
                    self.gapped = True
                elif self.seq < 0 or t == b"snapshot":
                    self.seq = seq
                    if self.gapped and self.record:
                        self.resync_at = seq
                        self.gapped = False
        ts = t.decode()
        stats.types[ts] = stats.types.get(ts, 0) + 1
        if self.sample:
            i = buf.find(b'"sent":', start, end)
            if i >= 0:
                i += 7
                e = i
                while e < end and (48 <= buf[e] <= 57 or buf[e] == 46):
                    e += 1
                stats.lat.append(time.time() * 1000 - float(buf[i:e]))

    def send_text(self, payload: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(_client_frame(payload))


class Generator:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        self.dialect: str = spec["dialect"]
        self.host: str = spec.get("host", "127.0.0.1")
        self.ports: list[int] = spec["ports"]
        self.n: int = spec["n"]
        self.sample_every = max(1, self.n // int(spec.get("samples", 500)))
        self.stats = Stats()
        self.live: set[Client] = set()
        self.clients: list[Client] = []
        self.gaps = 0
        self.max_seq = -1
        self.batch_s = float(spec.get("batch_ms", 250)) / 1000
        self.paused: list[Client] = []
        self.chat_task: asyncio.Task[None] | None = None
        self.failed: list[str] = []
        self.check_from: dict[int, int] = {}
        self.gaps0 = 0
        self.reopened: set[int] = set()

    def path_for(self, i: int, since: int | None = None) -> str:
        path: str = self.spec["path"]
        tokens: list[str] = self.spec.get("tokens", [])
        q = []
        if i < len(tokens):
            q.append(f"token={tokens[i]}")
        if since is not None and since >= 0:
            q.append(f"since={since}")
        if q:
            path += ("&" if "?" in path else "?") + "&".join(q)
        return path

    async def open(self, i: int, since: int | None = None, prev: Client | None = None) -> Client:
        """Connect client ``i``. With ``prev`` (a reopen) the new client records from its
        first byte on, carrying ``prev``'s seq and seen list: the server writes the
        replayed frames right behind the ``101``, often in the same segment, so they are
        parsed inside the ``data_received`` that completes the handshake, before this
        coroutine resumes (and under load several more reads run first)."""
        loop = asyncio.get_running_loop()
        port = self.ports[i % len(self.ports)]
        c = Client(self, i, self.path_for(i, since))
        if prev is not None:
            c.record = prev.record
            c.seen = list(prev.seen)
            c.seq = prev.seq
        await loop.create_connection(lambda: c, self.host, port)
        await asyncio.wait_for(c.ready, 120)
        self.live.add(c)
        return c

    async def connect_all(self) -> dict[str, Any]:
        t0 = time.monotonic()
        sem = asyncio.Semaphore(int(self.spec.get("concurrency", 200)))
        self.clients = [None] * self.n  # type: ignore[list-item]

        async def one(i: int) -> None:
            async with sem:
                try:
                    self.clients[i] = await self.open(i)
                except Exception as exc:  # reported, not fatal: the run says how many failed
                    self.failed.append(repr(exc)[:200])

        await asyncio.gather(*(one(i) for i in range(self.n)))
        return {
            "connected": len(self.live),
            "failed": len(self.failed),
            "first_errors": self.failed[:3],
            "connect_s": round(time.monotonic() - t0, 2),
        }

    def report(self) -> dict[str, Any]:
        s = self.stats
        wall = time.monotonic() - s.t0
        lat = sorted(s.lat)

        def pct(p: float) -> float | None:
            return round(lat[min(len(lat) - 1, int(p * len(lat)))], 2) if lat else None

        return {
            "wall": round(wall, 3),
            "frames": s.frames,
            "frames_s": round(s.frames / wall, 1),
            "bytes_s": round(s.bytes / wall, 1),
            "types": s.types,
            "lat_n": len(lat),
            "p50_ms": pct(0.5),
            "p99_ms": pct(0.99),
            "max_ms": round(lat[-1], 2) if lat else None,
            "gen_cpu": round((_cpu() - s.cpu0) / wall, 3),
            "live": len(self.live),
            "closed_codes": {str(k): v for k, v in s.closed_codes.items()},
        }

    async def chat(self, rate: float) -> None:
        chatters = [c for c in self.clients[: int(self.spec.get("chatters", 400))] if c]
        if not chatters or rate <= 0:
            return
        interval = 1.0 / rate
        k = 0
        nxt = time.monotonic()
        while True:
            c = chatters[k % len(chatters)]
            k += 1
            text = f"主播好 666 第{k}条"
            if self.dialect == "sio":
                c.send_text(b'42["chat",' + json.dumps(text).encode() + b"]")
            else:
                c.send_text(json.dumps({"t": "chat", "text": text}).encode())
            nxt += interval
            delay = nxt - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)

    async def reconnect(self, fraction: float) -> dict[str, Any]:
        """Close ``fraction`` of the clients at once and reopen each with ``since`` = the
        last critical seq it had seen; from here every client records the critical seqs
        it gets (``verify`` checks them)."""
        self.check_from = {}
        for c in self.clients:
            if c is not None and c in self.live:
                c.record = True
                c.seen = []
                self.check_from[c.idx] = c.seq
        picked = [c for c in self.clients if c is not None and c in self.live]
        random.Random(1).shuffle(picked)
        picked = picked[: int(len(picked) * fraction)]
        self.reopened = {c.idx for c in picked}
        for c in picked:
            c.transport.close()  # type: ignore[union-attr]
        await asyncio.gather(*(c.lost for c in picked))
        self.gaps0 = self.gaps
        sem = asyncio.Semaphore(int(self.spec.get("concurrency", 200)))
        fails: list[str] = []
        t0 = time.monotonic()

        async def again(c: Client) -> None:
            async with sem:
                try:
                    self.clients[c.idx] = await self.open(c.idx, since=c.seq, prev=c)
                except Exception as exc:
                    fails.append(repr(exc)[:200])

        await asyncio.gather(*(again(c) for c in picked))
        return {
            "reconnected": len(picked) - len(fails),
            "reconnect_failed": len(fails),
            "first_errors": fails[:3],
            "reopen_s": round(time.monotonic() - t0, 2),
        }

    async def verify(self, last: int, timeout: float) -> dict[str, Any]:
        """After the publisher stopped at ``last``: wait (up to ``timeout``) until every
        client has it, then check each one saw every critical seq from the one it held at
        the break up to ``last``, once and in order. A loss here is a frame that never
        came, not one still on its way."""
        t0 = time.monotonic()
        clients = [c for c in self.clients if c is not None and c.idx in self.check_from]
        while time.monotonic() - t0 < timeout:
            if all(c.seq >= last for c in clients if c in self.live):
                break
            await asyncio.sleep(0.2)
        lost = dup = bad = cut = resynced = 0
        sample: list[dict[str, Any]] = []
        for c in clients:
            if c not in self.live:
                cut += 1
                continue
            want = list(range(self.check_from[c.idx] + 1, last + 1))
            got = [s for s in c.seen if s <= last]
            if c.resync_at is not None:
                # gap + snapshot: the frames up to the snapshot's seq are in the snapshot's
                # state, not owed one by one; what follows must arrive as usual.
                resynced += 1
                want = list(range(c.resync_at + 1, last + 1))
                got = [s for s in got if s > c.resync_at]
            if got != want:
                bad += 1
                missing = sorted(set(want) - set(got))
                lost += len(missing)
                dup += len(got) - len(set(got))
                if len(sample) < 5:  # what a loss looks like, for whoever reads the run
                    sample.append(
                        {
                            "client": c.idx,
                            "reopened": c.idx in self.reopened,
                            "from": self.check_from[c.idx],
                            "missing": missing[:12],
                            "got_head": got[:12],
                        }
                    )
            c.record = False
        return {
            "latest_seq": last,
            "critical_lost": lost,
            "critical_dup": dup,
            "clients_with_loss": bad,
            "clients_cut": cut,
            "clients_resynced": resynced,
            "gaps": self.gaps - self.gaps0,
            "settle_s": round(time.monotonic() - t0, 2),
            "closed_codes": {str(k): v for k, v in self.stats.closed_codes.items()},
            "loss_sample": sample,
        }

    async def sweep(self) -> None:
        """Resume the paused clients, SWEEP_CHUNK a loop iteration: resumed all at once,
        their reads came in one iteration and the latency clients' frames waited behind
        thousands of them (the generator's delay, not the server's)."""
        while True:
            await asyncio.sleep(self.batch_s)
            paused, self.paused = self.paused, []
            for i in range(0, len(paused), SWEEP_CHUNK):
                for c in paused[i : i + SWEEP_CHUNK]:
                    t = c.transport
                    if t is not None and not t.is_closing():
                        t.resume_reading()
                await asyncio.sleep(0)

    async def run(self) -> None:
        loop = asyncio.get_running_loop()
        if self.batch_s:
            self.sweeper = asyncio.create_task(self.sweep())  # runs until quit
        reader = asyncio.StreamReader()
        await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
        out = await self.connect_all()
        print(json.dumps(out), flush=True)
        while True:
            line = (await reader.readline()).decode().split()
            if not line or line[0] == "quit":
                break
            cmd, args = line[0], [float(x) for x in line[1:]]
            if cmd == "measure":
                self.stats.reset()
                await asyncio.sleep(args[0])
                print(json.dumps(self.report()), flush=True)
            elif cmd == "chat":
                if self.chat_task is not None:
                    self.chat_task.cancel()
                self.chat_task = asyncio.create_task(self.chat(args[0]))
                print(json.dumps({"chat": args[0]}), flush=True)
            elif cmd == "reconnect":
                res = await self.reconnect(args[0])
                if len(args) > 1:  # reconnect F S: and verify S seconds later
                    await asyncio.sleep(args[1])
                    res.update(await self.verify(self.max_seq, 30))
                print(json.dumps(res), flush=True)
            elif cmd == "verify":
                print(json.dumps(await self.verify(int(args[0]), args[1])), flush=True)
            elif cmd == "close":
                if self.chat_task is not None:
                    self.chat_task.cancel()
                for c in list(self.live):
                    c.transport.close()  # type: ignore[union-attr]
                await asyncio.sleep(1)
                print(json.dumps({"live": len(self.live)}), flush=True)


def main() -> None:
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(hard, 20000) if hard != resource.RLIM_INFINITY else 20000
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    import uvloop

    uvloop.run(Generator(spec).run())


if __name__ == "__main__":
    main()
