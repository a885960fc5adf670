"""The room's frames keep a client's model right: a snapshot plus the frames of a scripted
sequence of actions equals a fresh snapshot; a reconnect with ``since`` misses no critical
frame; a ``since`` the room never had gets ``gap`` and a snapshot."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

import httpx

from livebase.runtime import Runtime
from livebase.shows import service as shows
from tests.conftest import World
from tests.rooms.kit import SYSTEM_TESTS, Client, apply, join, make_room, room_server


def _comparable(d: dict[str, Any]) -> dict[str, Any]:
    return {
        "status": d["show"]["status"],
        "explaining": d["explaining"],
        "shelf": [
            (x["no"], x["sku_id"], x["live_price_fen"], x["stock"], x.get("title"))
            for x in d["shelf"]
        ],
        "notice": (d["notice"] or {}).get("text"),
        "slow_mode": d["slow_mode"],
        "likes": d["likes"],
        "chat": [x["text"] for x in d["chat"]],
        "sales": sorted((s["id"], s["status"], s["remaining"]) for s in d["sales"]),
    }


def _api(addr: str, world: World, who: str, method: str, path: str, **kw: Any) -> httpx.Response:
    r = httpx.request(method, f"http://{addr}{path}", headers=world[who].auth, timeout=10, **kw)
    assert r.status_code < 300, r.text
    return r


def test_snapshot_plus_the_frames_of_a_scripted_show_equals_a_fresh_snapshot(
    rt: Runtime, world: World
) -> None:
    room = make_room(rt, world)
    base = f"/api/v1/shows/{room.show}"
    with room_server(rt) as addr:

        async def go() -> None:
            watcher = await join(addr, room.show)
            snap = await watcher.wait_type("snapshot")
            model = copy.deepcopy(snap["d"])
            talker = await join(addr, room.show, token=world["viewer"].token)
            await talker.wait_type("you")

            def act() -> None:
                _api(addr, world, "host_a1", "POST", f"{base}/explaining", json={"no": 1})
                with rt.sessions() as db, db.begin():  # a second link, then a repricing
                    show = shows.get_show(db, room.show)
                    shows.do_shelf_add(db, SYSTEM_TESTS, show, room.skus[1], 16900)
                with rt.sessions() as db, db.begin():
                    shows.do_shelf_reprice(
                        db, SYSTEM_TESTS, shows.get_show(db, room.show), 1, 14900
                    )
                _api(
                    addr,
                    world,
                    "host_a1",
                    "PUT",
                    f"{base}/room/notice",
                    json={"text": "今晚8点抽奖"},
                )
                _api(addr, world, "host_a1", "PUT", f"{base}/room/slow-mode", json={"seconds": 3})
                _buy(rt, world, room.show, room.skus[1], 2)

            await asyncio.to_thread(act)
            await talker.send({"t": "chat", "text": "买了两条"})
            await talker.send({"t": "like", "n": 5})
            await watcher.wait_for(lambda f: f["t"] == "likes" and f["d"]["total"] == 5)
            await watcher.wait_for(lambda f: f["t"] == "chat")
            await watcher.wait_for(lambda f: f["t"] == "stock")
            await watcher.wait_type("slow_mode", seconds=3)
            await asyncio.to_thread(_api, addr, world, "host_a1", "POST", f"{base}/end")
            await watcher.wait_type("show", status="ended")
            for f in watcher.frames[1:]:
                apply(model, f)
            fresh = await join(addr, room.show)
            fresh_snap = await fresh.wait_type("snapshot")
            assert _comparable(model) == _comparable(fresh_snap["d"])
            seqs = [f["seq"] for f in watcher.frames if f["t"] in ("show", "price", "notice")]
            assert seqs == list(range(snap["seq"] + 1, snap["seq"] + 1 + len(seqs)))
            for c in (watcher, talker, fresh):
                await c.close()

        asyncio.run(go())


def _buy(rt: Runtime, world: World, show_id: str, sku: str, n: int) -> None:
    from livebase.orders import service as orders
    from tests.orders.helpers import Shop

    shop = Shop(rt, world, "", sku, "", show_id, "", {})
    with rt.sessions() as db, db.begin():
        me = shop.principal(db)
        dest = orders.check_destination(db, me, shop.address_of(db, me), None)
        orders.do_checkout(
            db, me, show_id=show_id, lines=[orders.LineSpec(sku, n)], destination=dest
        )


def test_a_reconnect_with_since_gets_every_missed_critical_frame_then_one_state(
    rt: Runtime, world: World
) -> None:
    room = make_room(rt, world)
    base = f"/api/v1/shows/{room.show}/room"
    with room_server(rt) as addr:

        async def go() -> None:
            first = await join(addr, room.show)
            await first.wait_type("snapshot")
            await first.close()
            left_at = first.seq
            for i in range(4):
                await asyncio.to_thread(
                    _api, addr, world, "host_a1", "PUT", f"{base}/notice", json={"text": f"公告{i}"}
                )
            back = await join(addr, room.show, since=left_at)
            state = await back.wait_type("state")
            missed = [f for f in back.frames if f["t"] == "notice"]
            assert [f["d"]["text"] for f in missed] == [f"公告{i}" for i in range(4)]
            assert [f["seq"] for f in missed] == list(range(left_at + 1, left_at + 5))
            assert back.types()[: len(missed) + 1] == ["notice"] * len(missed) + ["state"]
            assert state["d"]["show"] == {"status": "live"}
            assert set(state["d"]) >= {
                "viewers",
                "likes",
                "stock",
                "explaining",
                "sales",
                "slow_mode",
            }
            # A seq the room never had: gap, then a fresh snapshot.
            lost = await join(addr, room.show, since=left_at + 1000)
            await lost.wait_type("snapshot")
            assert lost.types()[:2] == ["gap", "snapshot"]
            # Live frames after a resume keep counting on.
            await asyncio.to_thread(
                _api, addr, world, "host_a1", "PUT", f"{base}/notice", json={"text": "又一条"}
            )
            nxt = await back.wait_type("notice", text="又一条")
            assert nxt["seq"] == left_at + 5
            bad = await join(addr, room.show, since=-3)  # type: ignore[arg-type]
            await bad.wait_type("snapshot")
            assert (await bad.wait_type("error"))["error"] == "validation_failed"
            for c in (back, lost, bad):
                await c.close()

        asyncio.run(go())


async def _noop(c: Client) -> None:
    return None
