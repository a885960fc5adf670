"""Shows' committed events as room frames: ``show`` {status} when a show starts or ends
(critical), ``explaining`` {no} (state), ``price`` {items, removed} (critical) for a shelf
edit. The ``price`` items are whole shelf lines (title, stock, picture) so a viewer's
shelf can take a new link without asking the server. When a show ends its room figures
are written for the post-show review.

Subscribers run on the committing thread, after the commit, and open their own session.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from livebase.logs import get_logger
from livebase.rooms import service
from livebase.shows import service as shows
from livebase.shows.events import ExplainingChanged, ShelfChanged, ShowEnded, ShowStarted

if TYPE_CHECKING:
    from livebase.rooms.parts import RoomKit

log = get_logger("livebase.rooms")


def install(kit: RoomKit) -> None:
    rt = kit.rt

    def started(event: ShowStarted) -> None:
        kit.bus.publish(event.show_id, "show", {"status": "live"})

    def ended(event: ShowEnded) -> None:
        kit.bus.publish(event.show_id, "show", {"status": "ended"})
        store_figures(kit, event.show_id, final=True)

    def explaining(event: ExplainingChanged) -> None:
        kit.batcher.add(event.show_id, "explaining", {"no": event.no})

    def shelf(event: ShelfChanged) -> None:
        skus = [i.sku_id for i in event.items]
        with rt.sessions() as db:
            lines = service.shelf_link(db, event.show_id, skus) if skus else {}
        items = [
            lines.get(
                i.sku_id, {"no": i.no, "sku_id": i.sku_id, "live_price_fen": i.live_price_fen}
            )
            for i in event.items
        ]
        kit.bus.publish(event.show_id, "price", {"items": items, "removed": list(event.removed)})

    rt.events.subscribe(ShowStarted, started)
    rt.events.subscribe(ShowEnded, ended)
    rt.events.subscribe(ExplainingChanged, explaining)
    rt.events.subscribe(ShelfChanged, shelf)


def store_figures(kit: RoomKit, show_id: str, *, final: bool) -> None:
    fig = kit.counters.figures(show_id)
    timeline = kit.counters.timeline(show_id)
    with kit.rt.sessions() as db, db.begin():
        show = shows.get_show(db, show_id)
        service.do_store_figures(db, show, fig, final=final, timeline=timeline)
