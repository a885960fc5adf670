"""Two app processes (real ``livebase serve``) sharing Redis: a viewer on one node sees
chat, stock and critical frames caused on the other, and resumes on the other."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from livebase.runtime import Runtime
from tests.conftest import REDIS_URL, World
from tests.rooms.kit import join, make_room, nodes
from tests.rooms.test_room_model import _buy


@pytest.fixture
def redis_rt(rt: Runtime) -> Runtime:
    if rt.redis is None:
        pytest.skip("two nodes share a room through Redis (the PostgreSQL configuration)")
    return rt


def test_two_nodes_share_a_room_through_redis(redis_rt: Runtime, world: World) -> None:
    rt = redis_rt
    room = make_room(rt, world)
    base = f"/api/v1/shows/{room.show}"
    redis_env = {"LIVEBASE_REDIS_URL": REDIS_URL}
    with nodes(rt, 2, **redis_env) as (a, b):
        url_a, url_b = f"http://{a}", f"http://{b}"

        def call(url: str, who: str, method: str, path: str, **kw: Any) -> httpx.Response:
            r = httpx.request(method, url + path, headers=world[who].auth, timeout=10, **kw)
            assert r.status_code < 300, r.text
            return r

        async def go() -> None:
            watcher = await join(a, room.show)
            snap = await watcher.wait_type("snapshot")
            talker = await join(b, room.show, token=world["viewer"].token)
            await talker.wait_type("you")
            await talker.send({"t": "chat", "text": "我在B节点"})
            line = await watcher.wait_for(
                lambda f: f["t"] == "chat" and f["d"]["lines"][0]["text"] == "我在B节点"
            )
            assert line["d"]["lines"][0]["name"] == "viewer"
            await talker.send({"t": "like", "n": 4})
            await watcher.wait_for(lambda f: f["t"] == "likes" and f["d"]["total"] == 4)
            await watcher.wait_for(lambda f: f["t"] == "viewers" and f["d"]["now"] == 2)
            # A critical frame caused through node B, and stock moved by an order there.
            await asyncio.to_thread(
                call, url_b, "host_a1", "PUT", f"{base}/room/notice", json={"text": "B的公告"}
            )
            notice = await watcher.wait_type("notice", text="B的公告")
            assert notice["seq"] == snap["seq"] + 1
            await asyncio.to_thread(_buy, rt, world, room.show, room.skus[0], 3)
            await watcher.wait_for(lambda f: f["t"] == "stock" and f["d"].get(room.skus[0]) == 47)
            # The viewer leaves node A and comes back on node B with since.
            left_at = watcher.seq
            await watcher.close()
            await asyncio.to_thread(
                call, url_a, "host_a1", "PUT", f"{base}/room/notice", json={"text": "A的公告"}
            )
            back = await join(b, room.show, since=left_at)
            await back.wait_type("state")
            assert [f["d"]["text"] for f in back.frames if f["t"] == "notice"] == ["A的公告"]
            nums = await asyncio.to_thread(httpx.get, f"{url_a}{base}/room", timeout=10)
            assert nums.json()["likes"] == 4 and nums.json()["chat_lines"] == 1
            await back.close()
            await talker.close()

        asyncio.run(go())
