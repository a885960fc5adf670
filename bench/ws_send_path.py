"""What one broadcast costs the server per connection on each send path (issue 13 §3).

One room, N idle-reading clients in this process; a server subprocess (uvicorn with the
room's protocol) broadcasts K frames of ~200 bytes to all of them, timing its own CPU
(user + system, ``time.process_time``) around the fan-out only. Paths, same run:

* ``asgi+deflate``: ``await websocket.send_text(text)`` per connection, uvicorn's default
  (permessage-deflate negotiated: every connection compresses the same text);
* ``asgi``: the same with ``ws_per_message_deflate=False`` (framing per connection);
* ``raw``: the frame built once (``livebase.rooms.wire.text_frame``) and
  ``transport.write`` per connection (what the room hub does).

    .venv/bin/python bench/ws_send_path.py [--clients 500] [--frames 200]

Not a test: it prints figures (and the load average, for a shared machine).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import time

# bench/http.py would shadow the standard library's http package (httpx needs it).
sys.path[:] = [
    p for p in sys.path if os.path.abspath(p) != os.path.dirname(os.path.abspath(__file__))
]

SERVER = r"""
import asyncio, json, sys, time
import uvicorn
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from livebase.rooms.wire import raw_socket_of, text_frame

conns = []

async def room(ws):
    await ws.accept()
    conns.append((ws, raw_socket_of(ws.scope)))
    try:
        while True:
            msg = await ws.receive()
            if msg["type"] == "websocket.disconnect":
                break
    finally:
        conns[:] = [c for c in conns if c[0] is not ws]

async def run(request):
    mode = request.query_params["mode"]
    k = int(request.query_params["frames"])
    cpu0, wall0 = time.process_time(), time.perf_counter()
    for i in range(k):
        text = json.dumps({"t": "viewers", "seq": i, "ts": time.time_ns() // 1000000,
                           "d": {"now": 1234, "peak": 5678, "pad": "x" * 120}})
        if mode == "raw":
            frame = text_frame(text.encode())
            for ws, proto in conns:
                proto.transport.write(frame)
        else:
            for ws, proto in conns:
                await ws.send_text(text)
        await asyncio.sleep(0)  # let the loop flush and read, as a tick would
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
    n = k * len(conns)
    return JSONResponse({"deliveries": n, "cpu_s": cpu, "wall_s": wall,
                         "us_per_delivery": cpu / n * 1e6, "deliveries_per_cpu_s": n / cpu})

app = Starlette(routes=[WebSocketRoute("/ws", room), Route("/run", run)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            ws="livebase.rooms.wire:RoomWebSocketProtocol",
            ws_per_message_deflate=sys.argv[2] == "1")
"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _clients(port: int, n: int, frames: int, mode: str) -> dict[str, float]:
    import httpx
    from websockets.asyncio.client import connect

    got = 0

    async def reader(ws: object) -> None:
        nonlocal got
        async for _ in ws:  # type: ignore[attr-defined]
            got += 1

    conns = [await connect(f"ws://127.0.0.1:{port}/ws", ping_interval=None) for _ in range(n)]
    tasks = [asyncio.create_task(reader(c)) for c in conns]
    await asyncio.sleep(0.5)
    async with httpx.AsyncClient(timeout=300) as http:
        r = await http.get(f"http://127.0.0.1:{port}/run", params={"mode": mode, "frames": frames})
    deadline = time.monotonic() + 60
    while got < n * frames and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    out = dict(r.json())
    out["received"] = got
    for c in conns:
        await c.close()
    for t in tasks:
        t.cancel()
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=500)
    ap.add_argument("--frames", type=int, default=200)
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    print(f"{args.clients} clients, {args.frames} frames of ~200 B each")
    rows = []
    for mode, deflate in (("asgi+deflate", "1"), ("asgi", "0"), ("raw", "1")):
        port = _port()
        proc = subprocess.Popen([sys.executable, "-c", SERVER, str(port), deflate])
        try:
            for _ in range(200):
                try:
                    socket.create_connection(("127.0.0.1", port), 0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            res = asyncio.run(_clients(port, args.clients, args.frames, mode.split("+")[0]))
        finally:
            proc.terminate()
            proc.wait(10)
        rows.append((mode, res))
        print(
            f"{mode:13s} server CPU {res['us_per_delivery']:6.2f} µs/delivery  "
            f"{res['deliveries_per_cpu_s']:>10,.0f} deliveries/CPU-s  "
            f"wall {res['wall_s']:.2f} s  received {res['received']}/{res['deliveries']}"
        )
    raw = rows[-1][1]["us_per_delivery"]
    for mode, res in rows[:-1]:
        print(f"raw is {res['us_per_delivery'] / raw:.1f}x cheaper per delivery than {mode}")
    print(f"load average after: {os.getloadavg()}")
    print(json.dumps({m: r for m, r in rows}))


if __name__ == "__main__":
    main()
