"""Events the room socket raises for other features (not frames: nothing here goes to a
viewer by itself).

``ChatAccepted`` is dispatched on the node that took the line, once the line passed
``compliance.check`` (allowed or masked) and was handed to the room; it is not tied to a
database transaction, so it goes through ``Dispatcher.publish`` directly. The lucky bag
subscribes to it to note who chatted the bag's phrase.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar, Literal

from livebase.events import Event
from livebase.rooms.frames import RoomEvent


class ChatAccepted(Event):
    type: Literal["rooms.chat_accepted"] = "rooms.chat_accepted"
    show_id: str
    user_id: str
    # The text as the author wrote it (before masking), and as the room saw it.
    text: str
    shown: str
    at: datetime


# The room's own after-commit events (host actions), forwarded to the bus like the
# frames of livebase.rooms.frames. ``mod`` is internal: the hubs of every node apply it
# (a mute, a ban that closes the user's sockets) and no viewer ever sees it.


class NoticePinned(RoomEvent):
    """``notice`` {text, at} (critical); ``text`` None unpins."""

    type: Literal["room.notice"] = "room.notice"
    frame: ClassVar[str] = "notice"
    text: str | None
    at: datetime


class SlowModeSet(RoomEvent):
    """``slow_mode`` {seconds} (state): 0 is off."""

    type: Literal["room.slow_mode"] = "room.slow_mode"
    frame: ClassVar[str] = "slow_mode"
    seconds: int


class SanctionChanged(RoomEvent):
    """``mod`` {user_id, kind, until, lifted}: internal to the hubs."""

    type: Literal["room.mod"] = "room.mod"
    frame: ClassVar[str] = "mod"
    user_id: str
    kind: str
    until: datetime | None
    lifted: bool = False


class ChatReleased(RoomEvent):
    """A held line someone approved: ``chat`` {lines: [line]} (stream)."""

    type: Literal["room.chat_released"] = "room.chat_released"
    frame: ClassVar[str] = "chat"
    lines: list[dict[str, Any]]


HOST_EVENTS: tuple[type[RoomEvent], ...] = (
    NoticePinned,
    SlowModeSet,
    SanctionChanged,
    ChatReleased,
)
