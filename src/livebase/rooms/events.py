"""Events the room socket raises for other features (not frames: nothing here goes to a
viewer by itself).

``ChatAccepted`` is dispatched on the node that took the line, once the line passed
``compliance.check`` (allowed or masked) and was handed to the room; it is not tied to a
database transaction, so it goes through ``Dispatcher.publish`` directly. The lucky bag
subscribes to it to note who chatted the bag's phrase.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from livebase.events import Event


class ChatAccepted(Event):
    type: Literal["rooms.chat_accepted"] = "rooms.chat_accepted"
    show_id: str
    user_id: str
    # The text as the author wrote it (before masking), and as the room saw it.
    text: str
    shown: str
    at: datetime
