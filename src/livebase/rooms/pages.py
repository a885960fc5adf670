"""The post-show review (复盘) of a show's room: its figures once the show ended (live
figures while it runs), for the show's organisation and base staff."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from livebase.http import DB, get_runtime
from livebase.rooms import service
from livebase.rooms.parts import ROOM_KIT
from livebase.web.render import PageRoute, SignedIn, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)


@router.get("/shows/{show_id}/review", response_class=HTMLResponse)
def review(request: Request, show_id: str, db: DB, me: SignedIn) -> Response:
    show = service.check_see_figures(db, me, show_id)
    row = service.figures_of(db, show)
    figures = service.figures_view(row, show)
    if row is None or not row.final:
        # Not ended yet (or ended before rooms kept figures): the live numbers so far.
        kit = get_runtime(request).part(ROOM_KIT)
        fig = kit.counters.figures(show.id)
        figures.update(
            peak_viewers=fig.peak_viewers,
            watch_seconds=fig.watch_seconds,
            likes=fig.likes,
            chat_lines=fig.chat_lines,
            held_lines=fig.held_lines,
            blocked_lines=fig.blocked_lines,
            timeline=[[m * 60, n] for m, n in kit.counters.timeline(show.id)],
        )
    peak = max((n for _, n in figures["timeline"]), default=0)
    return render(request, "rooms/review.html", me, show=show, f=figures, peak=peak)
