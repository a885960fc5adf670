"""Post-show figures: a show that ends stores its room's numbers; the review page shows
them to the show's staff (zh and en) and to nobody else; the demo's scripted viewers
move only the demo's own live show."""

from __future__ import annotations

import asyncio
from pathlib import Path

from fastapi.testclient import TestClient

from livebase.accounts.service import do_issue_token, user_by_username
from livebase.accounts.web import SESSION_COOKIE
from livebase.app import create_app
from livebase.rooms.demo import RoomDemo
from livebase.runtime import Runtime
from tests.conftest import World
from tests.rooms.kit import join, make_room, room_server


def test_an_ended_show_keeps_its_room_figures_for_the_review(rt: Runtime, world: World) -> None:
    room = make_room(rt, world)
    with room_server(rt) as addr:

        async def go() -> None:
            me = await join(addr, room.show, token=world["viewer"].token)
            await me.wait_type("you")
            await me.send({"t": "chat", "text": "好看"})
            await me.send({"t": "chat", "text": "出售毒品"})
            await me.send({"t": "like", "n": 7})
            await me.wait_for(lambda f: f["t"] == "likes" and f["d"]["total"] == 7)
            await me.wait_for(lambda f: f["t"] == "error" and f["error"] == "blocked")
            await me.close()

        asyncio.run(go())
    with TestClient(create_app(runtime=rt)) as client:
        r = client.post(f"/api/v1/shows/{room.show}/end", headers=world["host_a1"].auth)
        assert r.status_code == 200, r.text
        fig = client.get(f"/api/v1/shows/{room.show}/room/figures", headers=world["host_a1"].auth)
        assert fig.status_code == 200
        f = fig.json()
        assert f["final"] is True
        assert (f["peak_viewers"], f["likes"], f["chat_lines"], f["blocked_lines"]) == (1, 7, 1, 1)
        assert f["watch_seconds"] > 0
        assert f["timeline"] and max(n for _, n in f["timeline"]) == 1
        for who in ("viewer", "merchant_a2", "op_b"):
            r = client.get(f"/api/v1/shows/{room.show}/room/figures", headers=world[who].auth)
            assert r.status_code == 403, who
    with rt.sessions() as db, db.begin():
        host = user_by_username(db, "host_a1")
        assert host is not None
        cookie, _ = do_issue_token(db, host, kind="session", ttl_seconds=600)
    with TestClient(create_app(runtime=rt), cookies={SESSION_COOKIE: cookie}) as client:
        for lang, word in (("zh", "直播复盘"), ("en", "Post-show review")):
            page = client.get(f"/shows/{room.show}/review", headers={"Accept-Language": lang})
            assert page.status_code == 200, page.text[:300]
            assert word in page.text and 'data-testid="likes">7<' in page.text
            assert 'data-testid="timeline"' in page.text


def test_the_demo_viewers_move_the_demo_room_and_leave_other_shows_alone(
    rt: Runtime, tmp_path: Path
) -> None:
    import random

    from livebase.demo import load_demo
    from livebase.rooms.parts import ROOM_KIT

    demo = RoomDemo(rt)
    assert demo._live() is None  # no demo data: nothing to move
    with rt.sessions() as db, db.begin():
        load_demo(db, tmp_path)
    info = demo._live()
    assert info is not None
    fans = demo.fans()
    rng = random.Random(1)
    for n in range(4):
        assert demo.step(fans, n, rng)
    kit = rt.part(ROOM_KIT)
    kit.batcher.flush()
    lines = kit.counters.recent_chat(info.show_id)
    assert [x["text"] for x in lines] == ["主播好！", "这个颜色好看"]
    assert kit.counters.totals(info.show_id).likes >= 4
    # Every line is a scripted viewer's, through the normal chat path.
    assert all(x["user_id"] in {f.user_id for f in fans} for x in lines)
