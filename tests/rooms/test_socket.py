"""The room socket against a real uvicorn: snapshot first, close codes, bad input frames,
chat and likes reaching every viewer."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from livebase.rooms.parts import ROOM_KIT
from livebase.runtime import Runtime
from tests.conftest import World
from tests.rooms import kit
from tests.rooms.kit import join, make_room


def test_a_viewer_gets_a_snapshot_then_chat_and_likes_of_others(rt: Runtime, world: World) -> None:
    room = make_room(rt, world)
    with kit.room_server(rt) as addr:

        async def go() -> None:
            watcher = await join(addr, room.show)
            snap = await watcher.wait_type("snapshot")
            assert snap["d"]["show"]["status"] == "live"
            assert [x["sku_id"] for x in snap["d"]["shelf"]] == [room.skus[0]]
            assert snap["d"]["shelf"][0]["stock"] == 50
            talker = await join(addr, room.show, token=world["viewer"].token)
            you = await talker.wait_type("you")
            assert you["d"]["role"] == "viewer"
            await talker.send({"t": "chat", "text": "围巾好看"})
            await talker.send({"t": "like", "n": 3})
            chat = await watcher.wait_type("chat")
            assert chat["d"]["lines"][0]["text"] == "围巾好看"
            likes = await watcher.wait_for(lambda f: f["t"] == "likes" and f["d"]["total"] == 3)
            assert likes["seq"] == snap["seq"]
            await watcher.wait_for(lambda f: f["t"] == "viewers" and f["d"]["now"] == 2)
            await talker.close()
            await watcher.close()

        asyncio.run(go())


def test_the_room_protocol_declines_deflate_and_keeps_no_handshake_after_it(
    rt: Runtime, world: World
) -> None:
    """A browser asks for permessage-deflate; the room server declines (two zlib streams a
    connection, for frames that go out pre-built anyway), and once the handshake is done
    the protocol keeps neither its request nor its response, nor the scope its headers.
    The socket still reads and writes through the lighter receive queue: a chat line in,
    its ack and the room's chat frame out."""
    from websockets.asyncio.client import connect

    from livebase.rooms.wire import RoomWebSocketProtocol, raw_socket_of

    room = make_room(rt, world)
    seen: list[RoomWebSocketProtocol] = []
    requests: list[Any] = []
    real = RoomWebSocketProtocol.raw_socket
    real_connect = RoomWebSocketProtocol.handle_connect

    def spy(self: RoomWebSocketProtocol) -> object:
        seen.append(self)
        return real(self)

    def keep(self: RoomWebSocketProtocol, event: Any) -> None:
        requests.append(event)
        real_connect(self, event)

    with kit.room_server(rt) as addr, pytest.MonkeyPatch.context() as mp:
        mp.setattr(RoomWebSocketProtocol, "raw_socket", spy)
        mp.setattr(RoomWebSocketProtocol, "handle_connect", keep)

        async def go() -> None:
            url = f"ws://{addr}/ws/shows/{room.show}?token={world['viewer'].token}"
            async with connect(url, compression="deflate") as ws:
                assert ws.response is not None
                assert "permessage-deflate" not in str(ws.response.headers)
                assert json.loads(await ws.recv())["t"] == "snapshot"
                while json.loads(await asyncio.wait_for(ws.recv(), 10))["t"] != "you":
                    pass
                await ws.send(json.dumps({"t": "chat", "text": "这条围巾有几色"}))
                got: list[str] = []
                while not {"ack", "chat"} <= set(got):
                    got.append(json.loads(await asyncio.wait_for(ws.recv(), 10))["t"])
            assert seen, "the room did not take the raw path"
            proto = seen[0]
            assert proto.request is None and proto.response is None
            assert raw_socket_of(proto.scope) is proto
            # What only the handshake needed is gone, though the token came in the query:
            # the scope's headers and query, and the request websockets' parser still
            # holds (emptied in place).
            assert proto.scope["headers"] == [] and proto.scope["query_string"] == b""
            assert len(requests) == 1 and len(requests[0].headers) == 0

        asyncio.run(go())


def test_viewers_joining_within_a_tick_share_one_snapshot_and_a_frame_makes_a_new_one(
    rt: Runtime, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst of joins encodes (and keeps) one snapshot: two viewers joining with nothing
    reaching the room between them get the very same frame (same ``ts``); a frame that
    reaches the room makes the next viewer's snapshot a new one that shows it."""
    monkeypatch.setattr(rt.settings, "room_tick_ms", 3000)  # ticks far apart
    room = make_room(rt, world)
    bus = rt.part(ROOM_KIT).bus
    with kit.room_server(rt) as addr:

        async def go() -> None:
            first = await join(addr, room.show)
            await first.wait_type("snapshot")
            await first.wait_type("viewers", now=1)  # the tick after it joined
            b = await join(addr, room.show)
            c = await join(addr, room.show)
            sb, sc = await b.wait_type("snapshot"), await c.wait_type("snapshot")
            assert sb["d"]["viewers"]["now"] == 1
            assert sc == sb  # one snapshot, shared
            await asyncio.to_thread(bus.publish, room.show, "notice", {"text": "新品上架", "at": 0})
            await b.wait_type("notice")
            d = await join(addr, room.show)
            sd = await d.wait_type("snapshot")
            assert sd["seq"] == sb["seq"] + 1  # the notice's seq: not the shared one
            # A chat line from the bus (another node's viewer) is in the next snapshot.
            line = {"id": "cl_1", "user_id": None, "name": "远方", "text": "好看", "role": "viewer"}
            await asyncio.to_thread(bus.publish, room.show, "chat", {"lines": [line]})
            await b.wait_type("chat")
            e = await join(addr, room.show)
            se = await e.wait_type("snapshot")
            assert se["d"]["chat"][-1]["text"] == "好看" and "好看" not in str(sd["d"]["chat"])
            for x in (first, b, c, d, e):
                await x.close()

        asyncio.run(go())
