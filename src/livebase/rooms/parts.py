"""What the rooms feature adds to the runtime: the bus (Redis when configured) and the
room kit — counters, the per-tick publish batch, and the relays that turn committed
events of shows, orders and the room's own host actions into frames on the bus."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from livebase.logs import get_logger
from livebase.rooms.batch import Batcher
from livebase.rooms.bus import Bus, MemoryBus, RedisBus
from livebase.rooms.counters import Counters, MemoryCounters, RedisCounters
from livebase.rooms.events import HOST_EVENTS
from livebase.rooms.frames import ROOM_EVENTS, forward_to
from livebase.runtime import Part, Runtime

log = get_logger("livebase.rooms")


def _bus(rt: Runtime) -> Bus:
    history = rt.settings.room_history
    return RedisBus(rt.redis, history) if rt.redis is not None else MemoryBus(history)


BUS: Part[Bus] = Part("rooms.bus", _bus)


@dataclass
class RoomKit:
    bus: Bus
    counters: Counters
    batcher: Batcher
    rt: Runtime

    def publish_chat(self, room: str, lines: list[dict[str, Any]]) -> None:
        self.batcher.add(room, "chat", {"lines": lines})

    def close(self) -> None:
        self.batcher.close()


def _kit(rt: Runtime) -> RoomKit:
    bus = rt.part(BUS)
    counters: Counters = RedisCounters(rt.redis) if rt.redis is not None else MemoryCounters()

    def on_flush(items: list[tuple[str, str, dict[str, Any]]]) -> None:
        # The recent chat a new viewer sees, kept beside the bus (every node reads it).
        for room, t, d in items:
            if t == "chat":
                counters.push_chat(room, d["lines"])

    batcher = Batcher(bus, rt.settings.room_tick_ms / 1000, on_flush)
    kit = RoomKit(bus, counters, batcher, rt)
    # Room events reach the bus after commit, from whichever thread committed.
    forward_to(bus, rt.events, batcher.add, ROOM_EVENTS + HOST_EVENTS)
    from livebase.rooms import relay

    relay.install(kit)
    return kit


ROOM_KIT: Part[RoomKit] = Part("rooms.kit", _kit)
