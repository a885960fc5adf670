"""What the rooms feature adds to the runtime: the bus (Redis when configured)."""

from __future__ import annotations

from livebase.rooms.bus import Bus, MemoryBus, RedisBus
from livebase.rooms.frames import forward_to
from livebase.runtime import Part, Runtime


def _bus(rt: Runtime) -> Bus:
    history = rt.settings.room_history
    bus: Bus = RedisBus(rt.redis, history) if rt.redis is not None else MemoryBus(history)
    # Room events reach the bus after commit, from whichever thread committed.
    forward_to(bus, rt.events)
    return bus


BUS: Part[Bus] = Part("rooms.bus", _bus)
