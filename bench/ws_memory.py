"""Where an idle room connection's memory goes, measured inside the server.

    python bench/ws_memory.py [--clients 1000] [--top 25]

Runs the real app in this process under uvicorn with the room's protocol (what
``livebase serve`` runs; embedded SQLite with the demo data, in-process bus), with
``tracemalloc`` on. A separate client process opens a few connections to warm the room
(the hub, its first database read and the caches are the node's, not the viewers'),
closes them, then opens ``--clients`` anonymous viewers of the demo's live show and
holds them (``--deflate``: asking for permessage-deflate, as browsers do). Printed:
Python-allocated bytes per connection (tracemalloc, after minus before), the process's
RSS per connection, and the source lines that allocated the most, so a change to the
per-connection state can be judged by what it removes. Not a test: the figures move a
little from run to run (allocator, GC timing).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

CLIENT = r"""
import asyncio, sys
import websockets

async def main(url, n, warm, deflate):
    async def one():
        ask = "deflate" if deflate else None
        ws = await websockets.connect(url, max_size=None, compression=ask)
        await ws.recv()  # the snapshot
        return ws
    warmers = [await one() for _ in range(warm)]
    for ws in warmers:
        await ws.close()
    print("warm", flush=True)
    sys.stdin.readline()
    held = []
    for i in range(0, n, 100):
        held += await asyncio.gather(*(one() for _ in range(min(100, n - i))))
    print("held", len(held), flush=True)
    sys.stdin.readline()
    for ws in held:
        await ws.close()

asyncio.run(main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4] == "1"))
"""


def _rss_kib() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _setup(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEBASE_")}
    env.update(
        LIVEBASE_DEMO="1",
        LIVEBASE_DATA_DIR=str(tmp),
        LIVEBASE_DATABASE_URL=f"sqlite:///{tmp}/mem.db",
        LIVEBASE_RUN_JOBS_IN_PROCESS="0",
        LIVEBASE_LOG_LEVEL="WARNING",
    )
    exe = Path(sys.executable).parent / "livebase"
    subprocess.run([str(exe), "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([str(exe), "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
    return env


async def _measure(args: argparse.Namespace, env: dict[str, str]) -> None:
    import uvicorn
    from sqlalchemy import select

    from livebase.db import build_engine
    from livebase.demo import LIVE_TITLE
    from livebase.rooms.wire import UVICORN_WS
    from livebase.shows.models import Show

    with build_engine(env["LIVEBASE_DATABASE_URL"]).connect() as conn:
        show = conn.scalar(select(Show.id).where(Show.title == LIVE_TITLE))
    config = uvicorn.Config(
        "livebase.app:create_app",
        factory=True,
        port=args.port,
        log_config=None,
        access_log=False,
        **UVICORN_WS,
    )
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.05)
    url = f"ws://127.0.0.1:{args.port}/ws/shows/{show}"
    client = await asyncio.create_subprocess_exec(
        sys.executable, "-c", CLIENT, url, str(args.clients), "20", str(int(args.deflate)),
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert client.stdin is not None and client.stdout is not None

    async def step(expect: str) -> str:
        line = (await client.stdout.readline()).decode().strip()  # type: ignore[union-attr]
        if not line.startswith(expect):
            raise SystemExit(f"client said {line!r}, expected {expect!r}")
        return line

    await step("warm")
    await asyncio.sleep(1.0)  # the warmers' sockets close and their tasks end
    gc.collect()
    before, rss0 = tracemalloc.take_snapshot(), _rss_kib()
    client.stdin.write(b"go\n")
    held = int((await step("held")).split()[1])
    await asyncio.sleep(1.0)
    gc.collect()
    after, rss1 = tracemalloc.take_snapshot(), _rss_kib()
    diff = after.compare_to(before, "lineno" if args.frames == 1 else "traceback")
    total = sum(d.size_diff for d in diff)
    print(f"connections held: {held}")
    print(f"Python allocations: {total / held / 1024:.2f} KiB per connection (tracemalloc)")
    print(f"RSS: {(rss1 - rss0) / held:.2f} KiB per connection (with tracemalloc's own cost)")
    print(f"top {args.top} lines by bytes allocated per connection:")
    for d in diff[: args.top]:
        frame = d.traceback[-1]  # oldest first: the last frame is the allocating one
        where = f"{Path(frame.filename).name}:{frame.lineno}"
        print(f"  {d.size_diff / held:8.0f} B  {d.count_diff / held:6.2f} blocks  {where}")
        for caller in reversed(list(d.traceback)[:-1]):
            print(f"{'':30}<- {Path(caller.filename).name}:{caller.lineno}")
    client.stdin.write(b"bye\n")
    await client.wait()
    server.should_exit = True
    await serving


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--clients", type=int, default=1000)
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--port", type=int, default=8765)
    ap.add_argument(
        "--frames", type=int, default=1, help="stack depth kept per allocation; >1 prints stacks"
    )
    ap.add_argument(
        "--deflate", action="store_true", help="clients ask for permessage-deflate, as browsers do"
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="lb-wsmem-") as tmp:
        env = _setup(Path(tmp))
        os.environ.update(env)
        tracemalloc.start(args.frames)
        asyncio.run(_measure(args, env))


if __name__ == "__main__":
    main()
