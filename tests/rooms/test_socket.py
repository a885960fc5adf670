"""The room socket against a real uvicorn: snapshot first, close codes, bad input frames,
chat and likes reaching every viewer."""

from __future__ import annotations

import asyncio

from livebase.runtime import Runtime
from tests.conftest import World
from tests.rooms.kit import join, make_room, room_server


def test_a_viewer_gets_a_snapshot_then_chat_and_likes_of_others(rt: Runtime, world: World) -> None:
    room = make_room(rt, world)
    with room_server(rt) as addr:

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
