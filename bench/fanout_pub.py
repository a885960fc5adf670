"""The fan-out benchmark's publisher: RATE broadcasts/s of ~200-byte frames for S seconds.

    python bench/fanout_pub.py livebase|raw|sio REDIS_URL ROOM RATE SECONDS [PREFIX]

Each broadcast is a critical ``notice`` frame whose ``d`` carries ``sent`` (this process's
wall clock in ms at publish time: the generator's latency is receive time minus ``sent``):

- livebase: ``rooms.RedisBus.publish(show_id, "notice", d)``, the app's own bus (seq
  and history in Redis, one pub/sub channel per room), exactly what a host's REST action
  does after its commit;
- raw: the same DESIGN §7 frame, encoded here, ``PUBLISH``-ed on the raw server's channel;
- sio: python-socketio's write-only ``AsyncRedisManager.emit("notice", d, room="r")``.

Prints one JSON line: how many were published, the last seq, the achieved rate.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

# bench/http.py would shadow the standard library's http for a script run from bench/.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

# ~200 bytes on the wire with the envelope: {"t":"notice","seq":N,"ts":..,"d":{...}}
TEXT = "直播间公告：3号链接库存已补，下单前请先领取满减券，今晚八点抽福袋！" + "x" * 48


def payload(k: int) -> dict[str, Any]:
    return {"text": TEXT, "n": k, "sent": round(time.time() * 1000, 2)}


async def run(mode: str, url: str, room: str, rate: float, seconds: float, prefix: str) -> None:
    import redis

    interval = 1.0 / rate
    sent = 0
    last_seq = 0
    size = 0
    if mode == "livebase":
        from livebase.rooms.bus import RedisBus

        bus = RedisBus(redis.Redis.from_url(url), history=1000, prefix=prefix)

        def one(k: int) -> None:
            nonlocal last_seq, size
            f = bus.publish(room, "notice", payload(k))
            last_seq = f.seq
            size = len(f.encode().encode())

    elif mode == "raw":
        client = redis.Redis.from_url(url)

        def one(k: int) -> None:
            nonlocal last_seq, size
            last_seq += 1
            frame = json.dumps(
                {"t": "notice", "seq": last_seq, "ts": int(time.time() * 1000), "d": payload(k)},
                ensure_ascii=False,
                separators=(",", ":"),
            ).encode()
            size = len(frame)
            client.publish(room, frame)

    else:
        import socketio

        mgr = socketio.AsyncRedisManager(url, channel=prefix, write_only=True)

    t0 = time.monotonic()
    nxt = t0
    while time.monotonic() - t0 < seconds:
        if mode == "sio":
            await mgr.emit("notice", payload(sent), room=room)
            size = len(json.dumps(payload(sent), ensure_ascii=False)) + 13
        else:
            one(sent)
        sent += 1
        nxt += interval
        delay = nxt - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
    wall = time.monotonic() - t0
    print(json.dumps({"published": sent, "last_seq": last_seq, "rate": sent / wall, "bytes": size}))


if __name__ == "__main__":
    mode, url, room, rate, seconds = sys.argv[1:6]
    prefix = sys.argv[6] if len(sys.argv) > 6 else "livebase:"
    asyncio.run(run(mode, url, room, float(rate), float(seconds), prefix))
