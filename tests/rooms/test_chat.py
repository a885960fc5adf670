"""Chat and the room's refusals over a real server: close codes, bad input frames, the
rate limit, slow mode, mute, ban, masked, blocked and held lines, and who may run a room."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest

from livebase.compliance.parts import CHAT_GUARD
from livebase.runtime import Runtime
from tests.conftest import World
from tests.rooms.kit import join, make_room, room_server


def _api(addr: str, world: World, who: str, method: str, path: str, **kw: object) -> httpx.Response:
    return httpx.request(
        method,
        f"http://{addr}{path}",
        headers=world[who].auth,
        timeout=10,
        **kw,  # type: ignore[arg-type]
    )


def test_refusals_are_close_codes_after_the_handshake(rt: Runtime, world: World) -> None:
    room = make_room(rt, world)
    with room_server(rt) as addr:

        async def go() -> None:
            bad = await join(addr, room.show, token="not-a-token")
            assert await bad.wait_closed() == 4401
            nowhere = await join(addr, "show_00000000000000000000000000")
            assert await nowhere.wait_closed() == 4404
            # A viewer inside the room is banned: cut with 4403, and kept out after.
            inside = await join(addr, room.show, token=world["viewer"].token)
            await inside.wait_type("you")
            r = await asyncio.to_thread(
                _api,
                addr,
                world,
                "host_a1",
                "POST",
                f"/api/v1/shows/{room.show}/room/bans",
                json={"user_id": world["viewer"].id},
            )
            assert r.status_code == 201, r.text
            assert await inside.wait_closed() == 4403
            again = await join(addr, room.show, token=world["viewer"].token)
            assert await again.wait_closed() == 4403
            # Anyone else still watches.
            anon = await join(addr, room.show)
            await anon.wait_type("snapshot")
            await anon.close()

        asyncio.run(go())


def test_bad_input_frames_get_an_error_and_the_socket_stays_open(rt: Runtime, world: World) -> None:
    room = make_room(rt, world)
    with room_server(rt) as addr:

        async def go() -> None:
            anon = await join(addr, room.show)
            await anon.wait_type("snapshot")
            await anon.send({"t": "chat", "text": "hi"})
            e = await anon.wait_type("error")
            assert e["error"] == "unauthenticated"
            me = await join(addr, room.show, token=world["viewer"].token)
            await me.wait_type("you")
            cases = [
                ("not json", "malformed_json"),
                ("[1, 2]", "validation_failed"),
                ('{"t": "dance"}', "validation_failed"),
                ('{"t": "like", "n": 0}', "validation_failed"),
                ('{"t": "like", "n": "3"}', "validation_failed"),
                ('{"t": "like", "n": true}', "validation_failed"),
                ('{"t": "chat", "text": "   "}', "validation_failed"),
                ('{"t": "chat", "text": 5}', "validation_failed"),
                ('{"t": "chat", "text": "' + "长" * 201 + '"}', "validation_failed"),
                ('{"t": "chat", "text": "hi", "admin": true}', "validation_failed"),
                ('{"t": "chat", "text": "' + "x" * 5000 + '"}', "payload_too_large"),
            ]
            for raw, code in cases:
                n = len(me.frames)
                await me.ws.send(raw)
                err = await me.wait_for(lambda f: f["t"] == "error", after=n)
                assert err["error"] == code, (raw, err)
                assert err["detail"]
            await me.ws.send(b"\x00binary")
            await me.wait_for(lambda f: f["t"] == "error" and f["error"] == "bad_request")
            await me.send({"t": "ping"})
            await me.wait_type("pong")
            assert me.closed is None
            await me.close()
            await anon.close()

        asyncio.run(go())


def test_rate_limit_mute_slow_mode_masked_and_blocked_lines(rt: Runtime, world: World) -> None:
    room = make_room(rt, world)
    base = f"/api/v1/shows/{room.show}/room"
    viewer = world["viewer"]
    with room_server(rt) as addr:

        async def go() -> None:
            watcher = await join(addr, room.show)
            me = await join(addr, room.show, token=viewer.token)
            await me.wait_type("you")
            for i in range(5):
                await me.send({"t": "chat", "text": f"第{i}句"})
            await watcher.wait_for(
                lambda f: f["t"] == "chat" and any(x["text"] == "第4句" for x in f["d"]["lines"])
            )
            await me.send({"t": "chat", "text": "第5句"})
            err = await me.wait_type("error")
            assert err["error"] == "rate_limited" and err["retry_after"] >= 1
            rt.limiter.reset(f"room-chat:{room.show}:{viewer.id}")

            # Masked: the room sees the masked text, flagged.
            await me.send({"t": "chat", "text": "加我微信 abc12345"})
            masked = await watcher.wait_for(
                lambda f: f["t"] == "chat" and any(x.get("masked") for x in f["d"]["lines"])
            )
            assert "微信" not in masked["d"]["lines"][-1]["text"]
            # Blocked: only the author hears, with the reason.
            await me.send({"t": "chat", "text": "出售毒品"})
            b = await me.wait_for(lambda f: f["t"] == "error" and f["error"] == "blocked")
            assert "prohibited" in b["detail"]
            rt.limiter.reset(f"room-chat:{room.show}:{viewer.id}")

            # Muted by an assistant of the brand: refused with `muted`; unmuted: speaks.
            world.add_user("helper_a1", "assistant", base_id=world.base_a, org_id=world.brand_a1)
            r = await asyncio.to_thread(
                _api,
                addr,
                world,
                "helper_a1",
                "POST",
                f"{base}/mutes",
                json={"user_id": viewer.id, "minutes": 5},
            )
            assert r.status_code == 201, r.text
            await _eventually(lambda: _says(me, "muted"), me)
            r = await asyncio.to_thread(
                _api, addr, world, "helper_a1", "DELETE", f"{base}/mutes/{viewer.id}"
            )
            assert r.status_code == 204
            await asyncio.sleep(0.5)  # the lift reaches the hub within a tick or two
            rt.limiter.reset(f"room-chat:{room.show}:{viewer.id}")
            rt.part(CHAT_GUARD).forget(viewer.id)
            n = len(me.frames)
            await me.send({"t": "chat", "text": "我又能说话了"})
            await me.wait_for(lambda f: f["t"] == "ack", after=n)

            # Slow mode: one line every 30 s for viewers; the host is exempt.
            r = await asyncio.to_thread(
                _api, addr, world, "host_a1", "PUT", f"{base}/slow-mode", json={"seconds": 30}
            )
            assert r.status_code == 200
            await watcher.wait_type("slow_mode", seconds=30)
            rt.limiter.reset(f"room-chat:{room.show}:{viewer.id}")
            rt.part(CHAT_GUARD).forget(viewer.id)  # the guard counted the lines above
            await me.send({"t": "chat", "text": "慢一点"})
            await me.wait_for(lambda f: f["t"] == "ack" and f["d"]["text"] == "慢一点")
            await me.send({"t": "chat", "text": "再说一句"})
            err = await me.wait_for(lambda f: f["t"] == "error" and "Slow mode" in f["detail"])
            assert err["error"] == "rate_limited"
            host = await join(addr, room.show, token=world["host_a1"].token)
            await host.send({"t": "chat", "text": "欢迎大家"})
            await host.send({"t": "chat", "text": "三号链接上了"})
            line = await watcher.wait_for(
                lambda f: (
                    f["t"] == "chat" and any(x["text"] == "三号链接上了" for x in f["d"]["lines"])
                )
            )
            assert line["d"]["lines"][-1]["role"] == "host"
            for c in (watcher, me, host):
                await c.close()

        asyncio.run(go())


def _says(c: object, code: str) -> bool:
    return any(f.get("t") == "error" and f.get("error") == code for f in c.frames)  # type: ignore[attr-defined]


async def _eventually(cond: object, me: object, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not cond():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError("condition not met")
        await me.send({"t": "chat", "text": f"试一下 {time.monotonic():.3f}"})  # type: ignore[attr-defined]
        await asyncio.sleep(0.3)


def test_a_held_line_waits_and_a_decision_publishes_it_once(rt: Runtime, world: World) -> None:
    room = make_room(rt, world)
    base = f"/api/v1/shows/{room.show}/room"
    viewer = world["viewer"]
    # A user whose reputation already fell (earlier violations): a mask becomes a review.
    rt.part(CHAT_GUARD).record_violation(viewer.id, 50, time.time())
    with room_server(rt) as addr:

        async def go() -> None:
            watcher = await join(addr, room.show)
            me = await join(addr, room.show, token=viewer.token)
            await me.wait_type("you")
            await me.send({"t": "chat", "text": "傻逼主播"})
            held = await me.wait_for(lambda f: f["t"] == "error")
            assert held["error"] == "held_for_review"
            # Not the room's staff: refused. Another base's operator: refused.
            for who in ("viewer", "merchant_a2", "op_b"):
                r = await asyncio.to_thread(_api, addr, world, who, "GET", f"{base}/held")
                assert r.status_code == 403, (who, r.text)
            r = await asyncio.to_thread(_api, addr, world, "host_a1", "GET", f"{base}/held")
            assert r.status_code == 200
            items = r.json()["items"]
            assert [i["text"] for i in items] == ["傻逼主播"]
            assert not any(
                x["text"] == "傻逼主播"
                for f in watcher.frames
                if f["t"] == "chat"
                for x in f["d"]["lines"]
            )
            line_id = items[0]["id"]
            r = await asyncio.to_thread(
                _api, addr, world, "mod_a", "POST", f"{base}/held/{line_id}/approve"
            )
            assert r.status_code == 200, r.text
            assert r.json()["status"] == "approved"
            got = await watcher.wait_for(
                lambda f: f["t"] == "chat" and any(x["text"] == "傻逼主播" for x in f["d"]["lines"])
            )
            assert got["d"]["lines"][0]["released"] is True
            r = await asyncio.to_thread(
                _api,
                addr,
                world,
                "host_a1",
                "POST",
                f"{base}/held/{line_id}/reject",
                json={"reason": "不文明"},
            )
            assert r.status_code == 409
            nums = await asyncio.to_thread(httpx.get, f"http://{addr}{base}", timeout=10)
            assert nums.json()["held_lines"] == 1
            for c in (watcher, me):
                await c.close()

        asyncio.run(go())


@pytest.mark.parametrize(
    ("who", "status"),
    [
        ("host_a1", 200),
        ("merchant_a1", 200),
        ("mod_a", 200),
        ("admin", 200),
        ("viewer", 403),
        ("merchant_a2", 403),
        ("host_ag", 403),
        ("op_b", 403),
        (None, 401),
    ],
)
def test_who_runs_a_room(rt: Runtime, world: World, who: str | None, status: int) -> None:
    from fastapi.testclient import TestClient

    from livebase.app import create_app

    room = make_room(rt, world, live=True)
    with TestClient(create_app(runtime=rt)) as client:
        headers = world[who].auth if who else {}
        r = client.put(
            f"/api/v1/shows/{room.show}/room/slow-mode", json={"seconds": 5}, headers=headers
        )
        assert r.status_code == status, r.text
        if status != 200:
            assert r.json()["error"] in ("forbidden", "unauthenticated")
            r = client.get(f"/api/v1/shows/{room.show}/room")
            assert r.json()["slow_mode"] == 0  # nothing changed
        bad = client.put(
            f"/api/v1/shows/{room.show}/room/slow-mode",
            json={"seconds": -1},
            headers=world["host_a1"].auth,
        )
        assert bad.status_code == 422 and bad.json()["error"] == "validation_failed"


def _info(rt: Runtime, show_id: str) -> object:
    from livebase.rooms.service import RoomInfo
    from livebase.shows.models import Show

    with rt.sessions() as db:
        show = db.get(Show, show_id)
        assert show is not None
        return RoomInfo(show.id, show.base_id, show.org_id, show.host_id, show.status)


def test_lines_taken_together_get_the_answers_they_would_get_one_by_one(
    rt: Runtime, world: World
) -> None:
    """take_lines (a tick's lines in one worker call, shared round trips): each user's
    lines counted in order against the rate limit and slow mode, staff exempt from slow
    mode, each refusal for its own line only, accepted lines on the bus in order."""
    from livebase.errors import RateLimited
    from livebase.rooms import chat
    from livebase.rooms.hub import Viewer
    from livebase.rooms.parts import ROOM_KIT

    room = make_room(rt, world)
    kit = rt.part(ROOM_KIT)
    info = _info(rt, room.show)
    a = Viewer(world["viewer"].id, "甲", "viewer")
    b = Viewer(world.add_user("chat_b").id, "乙", "viewer")
    host = Viewer(world["host_a1"].id, "主播", "host")
    rate = rt.settings.room_chat_rate
    asks = [chat.Ask(info, a, f"甲说{i}") for i in range(rate + 2)]  # type: ignore[arg-type]
    asks.insert(2, chat.Ask(info, b, "乙说话"))  # type: ignore[arg-type]
    outs = chat.take_lines(kit, asks, 0)
    kinds = ["ok" if isinstance(o, dict) else type(o).__name__ for o in outs]
    assert kinds == ["ok", "ok", "ok"] + ["ok"] * (rate - 2) + ["RateLimited", "RateLimited"]
    assert [o["text"] for o in outs if isinstance(o, dict)][:3] == ["甲说0", "甲说1", "乙说话"]
    last = outs[-1]
    assert isinstance(last, RateLimited) and last.retry_after and last.retry_after >= 1
    # Slow mode: one line per user per window, the host exempt.
    c = Viewer(world.add_user("chat_c").id, "丙", "viewer")
    slow = chat.take_lines(
        kit,
        [chat.Ask(info, c, "一"), chat.Ask(info, c, "二"),  # type: ignore[arg-type]
         chat.Ask(info, host, "主播一"), chat.Ask(info, host, "主播二")],  # type: ignore[arg-type]
        30,
    )  # fmt: skip
    assert [isinstance(o, dict) for o in slow] == [True, False, True, True]
    assert "Slow mode" in str(getattr(slow[1], "detail", ""))


def test_a_rooms_lines_arriving_together_share_a_worker_call(
    rt: Runtime, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ChatIntake: 40 lines from 40 users sent at once reach take_lines in far fewer than
    40 calls, every author gets their own answer, and a store failure reaches each line
    of its batch as that line's error (and the next batch is taken normally)."""
    from livebase.rooms import chat
    from livebase.rooms.hub import Viewer
    from livebase.rooms.parts import ROOM_KIT

    room = make_room(rt, world)
    kit = rt.part(ROOM_KIT)
    info = _info(rt, room.show)
    users = [Viewer(world.add_user(f"batch{i:02d}").id, f"观众{i}", "viewer") for i in range(40)]
    calls: list[int] = []
    real = chat.take_lines

    def counting(kit_: object, asks: list[chat.Ask], slow: int) -> list[chat.Outcome]:
        calls.append(len(asks))
        time.sleep(0.02)  # a round trip's worth: lines arriving meanwhile wait
        return real(kit_, asks, slow)  # type: ignore[arg-type]

    monkeypatch.setattr(chat, "take_lines", counting)

    async def go() -> list[object]:
        intake = chat.ChatIntake(kit)
        return await asyncio.gather(
            *(intake.take(chat.Ask(info, u, f"第{i}位"), 0) for i, u in enumerate(users)),  # type: ignore[arg-type]
            return_exceptions=True,
        )

    outs = asyncio.run(go())
    assert sum(calls) == 40 and len(calls) <= 3, calls
    assert [o["text"] for o in outs] == [f"第{i}位" for i in range(40)]  # type: ignore[index]

    def down(kit_: object, asks: list[chat.Ask], slow: int) -> list[chat.Outcome]:
        raise ConnectionError("the limiter's store is away")

    monkeypatch.setattr(chat, "take_lines", down)

    async def again() -> list[object]:
        intake = chat.ChatIntake(kit)
        return await asyncio.gather(
            *(intake.take(chat.Ask(info, u, "再来"), 0) for u in users[:3]),  # type: ignore[arg-type]
            return_exceptions=True,
        )

    assert all(isinstance(o, ConnectionError) for o in asyncio.run(again()))
