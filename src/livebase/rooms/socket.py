"""The room socket, ``GET /ws/shows/{id}`` (DESIGN §7).

The handshake is always accepted; a refusal is a close code after it: 4401 an invalid or
expired ``?token=``, 4404 no such show, 4403 banned from the room, 4408 too slow. Anyone
may watch; chat and likes need a signed-in user (``?token=`` or the cookie session; a
cookie arriving from another site's page is ignored, so a foreign page cannot chat in
your name).

The first frame is ``snapshot`` (or, with ``?since=SEQ`` inside the kept history, the
missed critical frames and one ``state``; older: ``gap`` then ``snapshot``), then ``you``
(who the room thinks you are), then the room's frames. Client frames: ``chat``, ``like``,
``ping``; a bad one is answered ``{"t": "error", "error", "detail"}`` and the socket stays
open.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import MutableMapping
from contextlib import suppress
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit
from weakref import WeakKeyDictionary

from fastapi import WebSocket
from starlette.applications import Starlette
from starlette.types import Message

from livebase.accounts.service import Principal, resolve_token
from livebase.accounts.web import SESSION_COOKIE
from livebase.errors import ApiError, Code, Unauthenticated, ValidationFailed, error_frame
from livebase.logs import get_logger
from livebase.rooms import chat, service
from livebase.rooms.hub import Connection, Encoded, Hub, Rooms, Viewer, now_ms
from livebase.rooms.parts import ROOM_KIT, RoomKit
from livebase.rooms.service import RoomInfo
from livebase.rooms.wire import CUT, raw_socket_of, shed_handshake
from livebase.runtime import Runtime
from livebase.shows.models import Show

log = get_logger("livebase.rooms")


CLOSE_UNAUTHENTICATED = 4401
CLOSE_BANNED = 4403
CLOSE_NO_SHOW = 4404
# A client frame is small: a chat line of 200 characters is under 1 KiB of JSON.
MAX_CLIENT_FRAME = 4096
MAX_LIKES = 20
# Likes a connection may send per second (the like button is tapped, not scripted).
LIKES_PER_SECOND = 60


def rooms_of(app: Starlette, rt: Runtime) -> Rooms:
    """This app's hubs (one ``Rooms`` per app and loop), made on first use."""
    rooms: Rooms | None = getattr(app.state, "rooms", None)
    if rooms is None:
        kit = rt.part(ROOM_KIT)
        s = rt.settings
        rooms = Rooms(
            kit.bus,
            kit.counters,
            lambda show_id: _read_room(rt, show_id),
            lambda show_id: _load_room(kit, show_id),
            tick_s=s.room_tick_ms / 1000,
            queue=s.room_queue,
            write_buffer=s.room_write_buffer,
        )
        app.state.rooms = rooms
    return rooms


def _read_room(rt: Runtime, show_id: str) -> dict[str, Any]:
    with rt.sessions() as db:
        return service.read_room(db, show_id)


def _load_room(kit: RoomKit, show_id: str) -> dict[str, Any]:
    with kit.rt.sessions() as db:
        room = service.read_room(db, show_id)
        sanctions = [
            (s.user_id, s.kind, s.until.timestamp() if s.until else None)
            for s in service.sanctions_of(db, show_id)
        ]
    return {
        "slow_mode": room["slow_mode"]["seconds"],
        "sanctions": sanctions,
        "chat": kit.counters.recent_chat(show_id),
    }


@dataclass
class _Who:
    info: RoomInfo | None
    viewer: Viewer


def _same_origin(ws: WebSocket) -> bool:
    origin = ws.headers.get("origin")
    if not origin:
        return True  # not a browser: a cookie here was put there by its owner
    return urlsplit(origin).netloc == ws.headers.get("host", "")


def _who(rt: Runtime, ws: WebSocket, show_id: str) -> _Who:
    token = ws.query_params.get("token")
    cookie = ws.cookies.get(SESSION_COOKIE) if _same_origin(ws) else None
    with rt.sessions() as db:
        principal: Principal | None = None
        if token is not None:
            principal = resolve_token(db, token, kind="api")
            if principal is None:
                raise Unauthenticated("The token is invalid, expired or revoked.")
        elif cookie:
            principal = resolve_token(db, cookie, kind="session")
        show = db.get(Show, show_id)
        if show is None:
            return _Who(None, Viewer(None, "", "anonymous"))
        info = RoomInfo(show.id, show.base_id, show.org_id, show.host_id, show.status)
        role = service.role_in_room(principal, show)
        if principal is None:
            return _Who(info, Viewer(None, "", role))
        return _Who(info, Viewer(principal.id, principal.user.display_name, role))


async def _close(ws: WebSocket, code: int, reason: str = "") -> None:
    with suppress(Exception):  # already gone
        await ws.close(code, reason)


async def room_socket(websocket: WebSocket, show_id: str) -> None:
    """``GET /ws/shows/{id}``, served directly from the ASGI entry (``livebase.sockets``:
    the features registry's ``sockets``)."""
    await websocket.accept()
    rt: Runtime = websocket.app.state.runtime
    try:
        who = await asyncio.to_thread(_who, rt, websocket, show_id)
    except Unauthenticated as exc:
        await _close(websocket, CLOSE_UNAUTHENTICATED, exc.detail)
        return
    if who.info is None:
        await _close(websocket, CLOSE_NO_SHOW, "No such show.")
        return
    rooms = rooms_of(websocket.app, rt)
    hub = await rooms.hub(show_id)
    info, viewer = _shared_info(hub, who.info), who.viewer
    del who  # its RoomInfo is this connection's own copy
    if hub.banned(viewer.user_id):
        await _close(websocket, CLOSE_BANNED, "You are banned from this room.")
        return
    conn = Connection(
        hub,
        websocket,
        viewer,
        raw_socket_of(websocket.scope),
        bound=rooms.queue,
        buffer_limit=rooms.write_buffer,
    )
    hub.join(conn)
    try:
        first, after = await _opening(hub, websocket)
        shed_handshake(websocket)
        conn.go_live(first, after)
        conn.send_direct(_you(hub, viewer))
        await _serve(rt.part(ROOM_KIT), info, hub, conn)
    except Exception:
        log.exception("room socket failed", show_id=show_id)
    finally:
        hub.leave(conn)
        if conn.close_code is not None:
            await _close(websocket, conn.close_code)


def _you(hub: Hub, viewer: Viewer) -> dict[str, Any]:
    muted = hub.muted_until(viewer.user_id) if viewer.user_id else None
    return {
        "t": "you",
        "seq": hub.seq,
        "ts": now_ms(),
        "d": {
            "user_id": viewer.user_id,
            "name": viewer.name or None,
            "role": viewer.role,
            "muted_until": None if muted is None or muted == float("inf") else int(muted * 1000),
            "slow_mode": hub.slow_mode,
        },
    }


async def _opening(hub: Hub, ws: WebSocket) -> tuple[list[Encoded], int]:
    """What a new connection gets first, and the seq it is up to date with."""
    raw = ws.query_params.get("since")
    if raw is not None:
        try:
            since = int(raw)
            if since < 0:
                raise ValueError
        except ValueError:
            bad = ValidationFailed("since is a seq: a whole number ≥ 0.", loc="query.since")
            snap, seq = await hub.snapshot()
            err = error_frame(bad)
            text = json.dumps(err, ensure_ascii=False, separators=(",", ":"))
            return [snap, Encoded("error", seq, False, text, _wire(text))], seq
        bus = hub.rooms.bus
        missed = await asyncio.to_thread(bus.since, hub.show_id, since)
        if missed is not None:
            after = missed[-1].seq if missed else since
            state = Encoded.build("state", after, await hub.state_d())
            return [*(Encoded.of(f) for f in missed), state], after
        snap, seq = await hub.snapshot()
        gap = Encoded.build("gap", seq, {"since": since, "seq": seq})
        return [gap, snap], seq
    snap, seq = await hub.snapshot()
    return [snap], seq


# The show as the hub's last joiner read it: viewers who read the same share one copy
# rather than five strings each for the hours they watch (bench/ws_memory.py).
_INFOS: WeakKeyDictionary[Hub, RoomInfo] = WeakKeyDictionary()


def _shared_info(hub: Hub, info: RoomInfo) -> RoomInfo:
    seen = _INFOS.get(hub)
    if seen == info:
        return seen
    _INFOS[hub] = info
    return info


# Each hub's chat intake (a hub is retired when its room empties; its intake goes with it).
_INTAKES: WeakKeyDictionary[Hub, chat.ChatIntake] = WeakKeyDictionary()


def _intake(kit: RoomKit, hub: Hub) -> chat.ChatIntake:
    intake = _INTAKES.get(hub)
    if intake is None:
        intake = _INTAKES[hub] = chat.ChatIntake(kit)
    return intake


def _wire(text: str) -> bytes:
    from livebase.rooms.wire import text_frame

    return text_frame(text.encode())


async def _serve(kit: RoomKit, info: RoomInfo, hub: Hub, conn: Connection) -> None:
    """Read the client's frames until it leaves or the hub cuts it. On our uvicorn
    protocol a cut arrives as a message of its own (``wire.CUT``), so an idle connection
    is one pending ``receive``; elsewhere (the test client, another server) the receive
    races the connection's ``closed`` event."""
    ws = conn.ws
    likes_window = (0.0, 0)
    while True:
        if conn.closed is None:
            msg = await ws.receive()
            if msg.get(CUT):
                return
        else:
            got = await _receive_or_cut(ws, conn.closed)
            if got is None:
                return
            msg = got
        if msg["type"] == "websocket.disconnect":
            return
        try:
            likes_window = await _handle(kit, info, hub, conn, msg, likes_window)
        except ApiError as exc:
            frame = error_frame(exc)
            if exc.retry_after:
                frame["retry_after"] = exc.retry_after
            conn.send_direct(frame)


async def _receive_or_cut(ws: WebSocket, closed: asyncio.Event) -> Message | None:
    recv = asyncio.ensure_future(ws.receive())
    cut = asyncio.ensure_future(closed.wait())
    try:
        done, _ = await asyncio.wait({recv, cut}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        cut.cancel()
    if recv not in done:
        recv.cancel()
        return None
    return recv.result()


async def _handle(
    kit: RoomKit,
    info: RoomInfo,
    hub: Hub,
    conn: Connection,
    msg: MutableMapping[str, Any],
    likes_window: tuple[float, int],
) -> tuple[float, int]:
    text = msg.get("text")
    if text is None:
        raise ApiError("Send JSON text frames.", code=Code.BAD_REQUEST)
    if len(text) > MAX_CLIENT_FRAME:
        raise ApiError(f"A frame is at most {MAX_CLIENT_FRAME} bytes.", code=Code.PAYLOAD_TOO_LARGE)
    try:
        obj = json.loads(text)
    except (ValueError, RecursionError):
        raise ApiError("The frame is not valid JSON.", code=Code.MALFORMED_JSON) from None
    if not isinstance(obj, dict) or not isinstance(obj.get("t"), str):
        raise ValidationFailed('A frame is an object with a "t".', loc="t")
    t = obj["t"]
    viewer = conn.viewer
    if t == "ping":
        conn.send_direct({"t": "pong", "seq": hub.seq, "ts": now_ms(), "d": {}})
        return likes_window
    if t not in ("chat", "like"):
        raise ValidationFailed(f"Unknown frame type {t!r}: chat, like or ping.", loc="t")
    extra = set(obj) - {"t", "text" if t == "chat" else "n"}
    if extra:
        raise ValidationFailed(f"Unknown fields: {', '.join(sorted(extra))}.", loc=sorted(extra)[0])
    if viewer.user_id is None:
        raise Unauthenticated("Sign in to chat and like.")
    if t == "like":
        n = obj.get("n", 1)
        if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_LIKES:
            raise ValidationFailed(f"n is a whole number 1–{MAX_LIKES}.", loc="n")
        now = asyncio.get_running_loop().time()
        start, count = likes_window if now - likes_window[0] < 1.0 else (now, 0)
        n = min(n, LIKES_PER_SECOND - count)  # beyond the cap, likes are quietly dropped
        if n > 0:
            hub.like(n)
        return start, count + max(n, 0)
    line_text = chat.clean_text(obj.get("text"), kit.rt.settings.room_chat_max_len)
    muted = hub.muted_until(viewer.user_id)
    if muted is not None:
        raise ApiError("You are muted in this room.", code=Code.MUTED)
    line = await _intake(kit, hub).take(chat.Ask(info, viewer, line_text), hub.slow_mode)
    conn.send_direct(
        {"t": "ack", "seq": hub.seq, "ts": now_ms(), "d": {"id": line["id"], "text": line["text"]}}
    )
    return likes_window
