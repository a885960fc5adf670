"""Under load the room keeps going: a client that stops reading does not slow the others
and is cut at its bound (4408); a burst of 200 sockets on a fresh server all get their
snapshot; the ASGI fallback path (no transport reachable) delivers the same frames."""

from __future__ import annotations

import asyncio

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from livebase.rooms.parts import ROOM_KIT
from livebase.runtime import Runtime
from tests.conftest import World
from tests.rooms.kit import WAIT_S, join, make_room, room_server

# A notice of ~4 KiB: a few hundred of them pass any socket buffer on loopback.
BIG = "通知" * 2000


def test_a_client_that_stops_reading_is_cut_at_the_bound_and_others_get_everything(
    rt: Runtime, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The raw path (livebase serve's). On the ASGI path each send compresses the 4 KiB
    # frame per connection (permessage-deflate), which is why it is not ours.
    raw = True
    monkeypatch.setattr(rt.settings, "room_queue", 16)
    monkeypatch.setattr(rt.settings, "room_write_buffer", 16 * 1024)
    room = make_room(rt, world)
    bus = rt.part(ROOM_KIT).bus
    frames = 600
    with room_server(rt, raw=raw) as addr:

        async def go() -> None:
            readers = [await join(addr, room.show) for _ in range(3)]
            for r in readers:
                await r.wait_type("snapshot")
            # Reads nothing after the handshake: websockets stops reading its socket
            # once one message is queued (max_queue=1), so TCP pushes back.
            stuck = await connect(
                f"ws://{addr}/ws/shows/{room.show}",
                max_queue=1,
                open_timeout=WAIT_S,
                ping_interval=None,
            )
            start = readers[0].seq
            # The raw path writes a frame the moment it arrives; the ASGI path's sender
            # task runs between the loop's callbacks, so a burst must fit the bound there.
            burst = 50 if raw else 8
            for i in range(0, frames, burst):
                await asyncio.to_thread(
                    bus.publish_many,
                    [
                        (room.show, "notice", {"text": f"{i + k} {BIG}", "at": 0})
                        for k in range(burst)
                    ],
                )
                if not raw:
                    await asyncio.sleep(0.02)
            for r in readers:
                last = await r.wait_for(
                    lambda f: f["t"] == "notice" and f["seq"] == start + frames, timeout=30
                )
                got = [f["seq"] for f in r.frames if f["t"] == "notice"]
                assert got == list(range(start + 1, start + frames + 1)), "a reader missed frames"
                assert last["d"]["text"].startswith(str(frames - 1))
            # The stuck one was cut: draining it now ends with the 4408 close.
            code = None
            try:
                async with asyncio.timeout(30):
                    while True:
                        await stuck.recv()
            except ConnectionClosed:
                code = stuck.close_code
            assert code == 4408
            for r in readers:
                await r.close()

        asyncio.run(go())


def test_a_burst_of_200_sockets_on_a_fresh_server_all_get_their_snapshot(
    rt: Runtime, world: World
) -> None:
    room = make_room(rt, world)
    with room_server(rt) as addr:

        async def go() -> None:
            async def one() -> int:
                async with connect(
                    f"ws://{addr}/ws/shows/{room.show}", open_timeout=60, ping_interval=None
                ) as ws:
                    import json

                    first = json.loads(await asyncio.wait_for(ws.recv(), 60))
                    assert first["t"] == "snapshot"
                    return int(first["seq"])

            seqs = await asyncio.gather(*(one() for _ in range(200)))
            assert len(seqs) == 200 and len(set(seqs)) == 1

        asyncio.run(go())


def test_the_asgi_path_delivers_chat_and_likes(rt: Runtime, world: World) -> None:
    room = make_room(rt, world)
    with room_server(rt, raw=False) as addr:

        async def go() -> None:
            watcher = await join(addr, room.show)
            await watcher.wait_type("snapshot")
            me = await join(addr, room.show, token=world["viewer"].token)
            await me.wait_type("you")
            await me.send({"t": "chat", "text": "从ASGI来"})
            await me.send({"t": "like", "n": 2})
            await watcher.wait_for(
                lambda f: f["t"] == "chat" and f["d"]["lines"][0]["text"] == "从ASGI来"
            )
            await watcher.wait_for(lambda f: f["t"] == "likes" and f["d"]["total"] == 2)
            await watcher.close()
            await me.close()

        asyncio.run(go())
