"""Typed room events: one pydantic event per frame type, queued with ``notify_on_commit``
and forwarded to the show's room on the ``rooms.Bus`` only after the commit.

The event's ``type`` is ``room.<frame>``; :meth:`RoomEvent.frame` is the frame's ``t`` and
:meth:`d` its ``d``. A rolled-back transaction drops its events, so no room ever hears of
an order that does not exist. Orders publish ``purchase`` and ``stock``; flash sales
``sale_open``, ``sale_close``, ``sold_out``; coupons ``coupon``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from livebase.events import Dispatcher, Event, notify_on_commit
from livebase.rooms.bus import CRITICAL, Bus


class RoomEvent(Event):
    """Base of the room events: ``show_id`` names the room."""

    type: str = "room"
    show_id: str
    frame: ClassVar[str] = ""

    def d(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude={"type", "show_id"})


class PurchaseItem(BaseModel):
    sku_id: str
    title: str
    quantity: int
    # "张**": enough for "someone just bought", never who.
    buyer: str


class Purchase(RoomEvent):
    """``purchase`` {items: [...]} (stream class: the room packs them per tick)."""

    type: Literal["room.purchase"] = "room.purchase"
    frame: ClassVar[str] = "purchase"
    items: list[PurchaseItem]


class Stock(RoomEvent):
    """``stock`` {sku_id: remaining} (state class: the latest value wins)."""

    type: Literal["room.stock"] = "room.stock"
    frame: ClassVar[str] = "stock"
    stock: dict[str, int]

    def d(self) -> dict[str, Any]:
        return dict(self.stock)


class _Sale(RoomEvent):
    type: str = "room.sale"
    id: str
    sku_id: str
    status: str
    price_fen: int
    remaining: int
    ends_at: datetime | None = None


class SaleOpen(_Sale):
    type: Literal["room.sale_open"] = "room.sale_open"
    frame: ClassVar[str] = "sale_open"


class SaleClose(_Sale):
    type: Literal["room.sale_close"] = "room.sale_close"
    frame: ClassVar[str] = "sale_close"


class SoldOut(_Sale):
    type: Literal["room.sold_out"] = "room.sold_out"
    frame: ClassVar[str] = "sold_out"


class CouponDrop(RoomEvent):
    type: Literal["room.coupon"] = "room.coupon"
    frame: ClassVar[str] = "coupon"
    id: str
    kind: str
    amount_fen: int | None = None
    percent: int | None = None
    cap_fen: int | None = None
    min_spend_fen: int
    remaining: int
    expires_at: datetime


ROOM_EVENTS: tuple[type[RoomEvent], ...] = (
    Purchase,
    Stock,
    SaleOpen,
    SaleClose,
    SoldOut,
    CouponDrop,
)


Batch = Callable[[str, str, dict[str, Any]], None]


def forward_to(
    bus: Bus,
    dispatcher: Dispatcher,
    batch: Batch | None = None,
    events: tuple[type[RoomEvent], ...] = ROOM_EVENTS,
) -> None:
    """Publish every committed room event on ``bus`` (wired when the rooms part is
    built). Critical frames go out at once (they take their ``seq`` now); the others, with
    ``batch``, wait for the tick's pipelined batch (``livebase.rooms.batch``)."""

    def forward(event: RoomEvent) -> None:
        if batch is not None and event.frame not in CRITICAL:
            batch(event.show_id, event.frame, event.d())
        else:
            bus.publish(event.show_id, event.frame, event.d())

    for event_type in events:
        dispatcher.subscribe(event_type, forward)


def mask_name(display_name: str) -> str:
    """The first character and two stars: "张三丰" → "张**"."""
    name = display_name.strip()
    return (name[:1] or "*") + "**"


def notify(db: Session, event: RoomEvent) -> None:
    """Queue ``event`` for the room; it reaches the bus once the transaction commits."""
    notify_on_commit(db, event)
