"""The python-socketio baseline of bench/fanout.py (run under uvicorn by the benchmark).

    uvicorn --factory bench.fanout_sio:create_app   (env FANOUT_REDIS_URL, FANOUT_CHANNEL)

An ``AsyncServer`` on ASGI with python-socketio's own ``AsyncRedisManager``, the library's
way to emit from another process or node: every client joins room ``r`` on connect; the
benchmark's publisher emits ``notice`` events to that room through Redis with a write-only
manager; chat lines from the clients are kept and emitted once per 100 ms tick as one
``chat`` event to the room (the same packing livebase does, so both carry the same
number of frames).
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import socketio

TICK_S = 0.1
ROOM = "r"


def create_app() -> Any:
    mgr = socketio.AsyncRedisManager(
        os.environ["FANOUT_REDIS_URL"], channel=os.environ.get("FANOUT_CHANNEL", "socketio")
    )
    sio = socketio.AsyncServer(async_mode="asgi", client_manager=mgr, cors_allowed_origins="*")
    lines: list[str] = []

    @sio.event
    async def connect(sid: str, environ: dict[str, Any]) -> None:
        await sio.enter_room(sid, ROOM)

    @sio.event
    async def chat(sid: str, text: Any) -> None:
        lines.append(str(text)[:200])

    async def tick() -> None:
        nonlocal lines
        while True:
            await sio.sleep(TICK_S)
            if lines:
                batch, lines = lines[-50:], []
                await sio.emit("chat", {"ts": int(time.time() * 1000), "lines": batch}, room=ROOM)

    started: list[asyncio.Task[None]] = []

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not started:
            started.append(asyncio.create_task(tick()))
        await inner(scope, receive, send)

    inner = socketio.ASGIApp(sio)
    return app
