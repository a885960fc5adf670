"""Events of a show, published after commit (``livebase.events``).

One schema per event type; the ``type`` literal is the name the room protocol will use
for the frame built from it. The rooms feature subscribes to these (fan-out on the event
loop); today the shows feature logs each one, the trail of when a show went live or
ended and what it explained.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict
from sqlalchemy.orm import Session

from livebase.db import utcnow
from livebase.events import Event, notify_on_commit
from livebase.logs import get_logger
from livebase.rooms.frames import ShowStatus
from livebase.shows.models import Show

if TYPE_CHECKING:
    from livebase.shows.service import ShelfDiff

log = get_logger("livebase.shows")


class ShowStarted(Event):
    type: Literal["show.started"] = "show.started"
    show_id: str
    base_id: str
    started_at: datetime


class ShowEnded(Event):
    type: Literal["show.ended"] = "show.ended"
    show_id: str
    base_id: str
    ended_at: datetime


class ExplainingChanged(Event):
    type: Literal["show.explaining"] = "show.explaining"
    show_id: str
    no: int | None


class ShelfLink(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    no: int
    sku_id: str
    live_price_fen: int | None


class ShelfChanged(Event):
    """A shelf edit that changed something: the links that are new or whose number or
    live price changed, and the SKUs that left (the room's ``price`` frame)."""

    type: Literal["show.shelf"] = "show.shelf"
    show_id: str
    links: int  # how many links the shelf has now
    items: tuple[ShelfLink, ...]
    removed: tuple[str, ...]


ShowEvent = ShowStarted | ShowEnded | ExplainingChanged | ShelfChanged


def log_show_event(event: ShowEvent) -> None:
    log.info("show event", **event.model_dump(mode="json"))


# notify_*: build the event from the show as the transaction left it; it is published
# once that transaction commits.


def notify_started(db: Session, show: Show) -> None:
    started = show.started_at or utcnow()
    notify_on_commit(db, ShowStarted(show_id=show.id, base_id=show.base_id, started_at=started))
    notify_on_commit(db, ShowStatus(show_id=show.id, status="live"))


def notify_ended(db: Session, show: Show) -> None:
    ended = show.ended_at or utcnow()
    notify_on_commit(db, ShowEnded(show_id=show.id, base_id=show.base_id, ended_at=ended))
    notify_on_commit(db, ShowStatus(show_id=show.id, status="ended"))


def notify_explaining(db: Session, show: Show) -> None:
    notify_on_commit(db, ExplainingChanged(show_id=show.id, no=show.explaining_no))


def notify_shelf(db: Session, show: Show, diff: ShelfDiff, *, links: int) -> None:
    if not diff.changed:
        return  # an edit that changed nothing publishes nothing
    frame = diff.price_frame()
    notify_on_commit(
        db,
        ShelfChanged(
            show_id=show.id,
            links=links,
            items=tuple(ShelfLink(**item) for item in frame["items"]),
            removed=tuple(frame["removed"]),
        ),
    )
