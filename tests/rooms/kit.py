"""Room test kit: a real uvicorn (in a thread, with the room's protocol) over the test's
runtime, a show with a shelf, and a small client that keeps the room's model from the
frames it reads (the reference reducer: snapshot + frames = the room)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from websockets.asyncio.client import ClientConnection, connect

from livebase.accounts.actors import SystemActor
from livebase.app import create_app
from livebase.catalog import service as catalog
from livebase.rooms.bus import CRITICAL
from livebase.rooms.wire import UVICORN_WS
from livebase.runtime import Runtime
from livebase.shows import service as shows
from tests.conftest import World
from tests.live_server import in_thread

SYSTEM_TESTS = SystemActor("system:tests")
WAIT_S = 10.0


@contextmanager
def room_server(rt: Runtime, *, raw: bool = True) -> Iterator[str]:
    """uvicorn on a free port serving the app over ``rt``; ``raw``: with the room's
    protocol (pre-built frames to transports), else uvicorn's own (the ASGI path)."""
    kw: dict[str, Any] = dict(UVICORN_WS) if raw else {}
    with in_thread(create_app(runtime=rt), backlog=1024, **kw) as url:
        yield url.removeprefix("http://")


@dataclass
class Room:
    show: str
    skus: list[str]
    product: str


def make_room(rt: Runtime, world: World, *, live: bool = True, stock: int = 50) -> Room:
    with rt.sessions() as db, db.begin():
        product = catalog.do_create_product(
            db,
            SYSTEM_TESTS,
            world.brand_a1,
            "羊绒围巾",
            "内蒙古羊绒",
            [
                catalog.SkuSpec({"颜色": "灰"}, 19900, stock),
                catalog.SkuSpec({"颜色": "红"}, 19900, stock),
            ],
        )
        skus = [s.id for s in product.skus]
        show = shows.do_create_show(
            db,
            SYSTEM_TESTS,
            world.brand_a1,
            "围巾专场",
            datetime.now(UTC) + timedelta(hours=1),
            world["host_a1"].id,
        )
        shows.do_set_shelf(db, SYSTEM_TESTS, show, [shows.ShelfSpec(skus[0], 15900)])
        if live:
            shows.do_start(db, SYSTEM_TESTS, show)
        return Room(show.id, skus, product.id)


def apply(room: dict[str, Any], frame: dict[str, Any]) -> None:
    """The reference reducer: what a client does with each frame to its snapshot."""
    t, d = frame["t"], frame["d"]
    if t == "viewers":
        room["viewers"] = d
    elif t == "likes":
        room["likes"] = d
    elif t == "stock":
        for line in room["shelf"]:
            if line["sku_id"] in d:
                line["stock"] = d[line["sku_id"]]
    elif t == "explaining":
        room["explaining"] = d
    elif t == "slow_mode":
        room["slow_mode"] = d
    elif t == "show":
        room["show"]["status"] = d["status"]
        if d["status"] == "ended":
            room["explaining"] = {"no": None}
    elif t == "notice":
        room["notice"] = {"text": d["text"], "at": d["at"]} if d["text"] else None
    elif t == "price":
        by_sku = {line["sku_id"]: line for line in room["shelf"]}
        for item in d["items"]:
            by_sku.setdefault(item["sku_id"], {}).update(item)
        for sku in d["removed"]:
            by_sku.pop(sku, None)
        room["shelf"] = sorted(by_sku.values(), key=lambda x: x["no"])
    elif t in ("sale_open", "sale_close", "sold_out", "sale"):
        sales = {s["id"]: s for s in room["sales"]}
        sale = sales.setdefault(d["id"], {})
        sale.update(
            {
                k: v
                for k, v in d.items()
                if k in ("id", "sku_id", "status", "remaining", "price_fen")
            }
        )
        room["sales"] = [s for s in sales.values() if s.get("status") != "closed"]
    elif t == "coupon":
        room["coupons"] = [c for c in room["coupons"] if c["id"] != d["id"]] + [d]
    elif t == "chat":
        room["chat"] = (room["chat"] + d["lines"])[-50:]


@dataclass
class Client:
    """A viewer: reads frames in the background, keeps them and the seq it is up to."""

    ws: ClientConnection
    frames: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0
    closed: int | None = None
    _task: asyncio.Task[None] | None = None
    _event: asyncio.Event = field(default_factory=asyncio.Event)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._read())

    async def _read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in self.ws:
                f = json.loads(raw)
                self.frames.append(f)
                if f.get("t") in CRITICAL_TYPES or f.get("t") in ("snapshot", "state", "gap"):
                    self.seq = max(self.seq, f["seq"]) if f["t"] != "snapshot" else f["seq"]
                self._event.set()
        except ConnectionClosed:
            pass
        finally:
            self.closed = self.ws.close_code
            self._event.set()

    async def wait_for(
        self, pred: Any, what: str = "frame", timeout: float = WAIT_S, after: int = 0
    ) -> dict[str, Any]:
        """The first frame from index ``after`` on that ``pred`` accepts (bounded wait)."""
        deadline = asyncio.get_running_loop().time() + timeout
        seen = after
        while True:
            for f in self.frames[seen:]:
                if pred(f):
                    return f
            seen = len(self.frames)
            if self.closed is not None:
                raise AssertionError(f"closed {self.closed} before {what}; got {self.types()}")
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError(f"no {what} in {timeout} s; got {self.types()}")
            self._event.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), left)

    async def wait_type(self, t: str, **match: Any) -> dict[str, Any]:
        return await self.wait_for(
            lambda f: f.get("t") == t and all(f.get("d", {}).get(k) == v for k, v in match.items()),
            t,
        )

    async def wait_closed(self, timeout: float = WAIT_S) -> int:
        deadline = asyncio.get_running_loop().time() + timeout
        while self.closed is None:
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise AssertionError("still open")
            self._event.clear()
            with suppress(TimeoutError):
                await asyncio.wait_for(self._event.wait(), left)
        return self.closed

    def types(self) -> list[str]:
        return [f.get("t", "?") for f in self.frames]

    async def send(self, obj: dict[str, Any]) -> None:
        await self.ws.send(json.dumps(obj))

    async def close(self) -> None:
        await self.ws.close()
        if self._task is not None:
            await self._task


CRITICAL_TYPES = CRITICAL


async def join(
    addr: str, show: str, *, token: str | None = None, since: int | None = None
) -> Client:
    q = []
    if token:
        q.append(f"token={token}")
    if since is not None:
        q.append(f"since={since}")
    url = f"ws://{addr}/ws/shows/{show}" + ("?" + "&".join(q) if q else "")
    ws = await connect(url, open_timeout=WAIT_S, max_queue=None)
    c = Client(ws)
    c.start()
    return c


@contextmanager
def nodes(rt: Runtime, count: int, **env: str) -> Iterator[list[str]]:
    """``count`` real ``livebase serve`` processes over ``rt``'s database with ``env``
    added (the nodes of one room), started together; yields their host:port."""
    import os
    import signal
    import subprocess
    from pathlib import Path

    from tests.jobs.helpers import child_env
    from tests.live_server import _livebase, free_port, wait_ready

    procs: list[tuple[str, subprocess.Popen[bytes], Path]] = []
    try:
        for i in range(count):
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            e = child_env(rt)
            e.update(LIVEBASE_RUN_JOBS_IN_PROCESS="0", LIVEBASE_PUBLIC_URL=url, **env)
            log_path = Path(rt.settings.data_dir) / f"node-{i}.log"
            with log_path.open("ab") as log:
                proc = subprocess.Popen(
                    [*_livebase(), "serve", "--host", "127.0.0.1", "--port", str(port)],
                    env=e,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            procs.append((url, proc, log_path))
        for url, proc, log_path in procs:
            wait_ready(url, proc, log_path)
        yield [url.removeprefix("http://") for url, _, _ in procs]
    finally:
        for _, proc, _ in procs:
            if proc.poll() is None:
                proc.terminate()
        for _, proc, _ in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
