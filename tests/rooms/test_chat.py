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
