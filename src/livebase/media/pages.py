"""Media pages: the host's OBS set-up page (server and key with copy and rotate, the
recommended encoder settings, live stream health, stop), and the public replay page
(讲解回放) whose chapters are the show's explaining periods."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import httpx
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from livebase.bases import service as bases
from livebase.http import DB, get_runtime
from livebase.logs import get_logger
from livebase.media import nginx, service
from livebase.shows import service as shows
from livebase.web.render import PageRoute, PageUser, SignedIn, check_form_csrf, redirect, render

log = get_logger("livebase.media")
router = APIRouter(include_in_schema=False, route_class=PageRoute)
FormText = Annotated[str, Form(max_length=2000)]

# What the set-up page recommends (docs/media.md): 1 s keyframes for 1 s HLS fragments.
RECOMMENDED = (
    ("media.rec.keyframe", "1 s"),
    ("media.rec.rate_control", "CBR"),
    ("media.rec.resolution", "1280×720 @ 30 fps (1080×1920 for portrait)"),
    ("media.rec.bitrate", "2500–4000 kbps"),
    ("media.rec.audio", "AAC 128 kbps, 44.1/48 kHz"),
    ("media.rec.preset", "veryfast · zerolatency · profile high"),
)


@router.get("/host/shows/{show_id}/obs", response_class=HTMLResponse)
def obs_page(request: Request, show_id: str, db: DB, me: SignedIn) -> Response:
    show = shows.check_manage_show(db, me, show_id)
    settings = get_runtime(request).settings
    ingest = None
    if me.id == show.host_id or me.is_admin:
        ingest = {
            "server": settings.effective_rtmp_url,
            "stream": f"{show.public_id}?key={show.stream_key}",
        }
    return render(
        request,
        "media/obs.html",
        me,
        show=show,
        ingest=ingest,
        recommended=RECOMMENDED,
        notice=request.query_params.get("done"),
    )


@router.post("/host/shows/{show_id}/obs/rotate")
def rotate(
    request: Request, show_id: str, db: DB, me: SignedIn, csrf_token: FormText = ""
) -> Response:
    check_form_csrf(request, me, csrf_token)
    show = shows.get_show(db, show_id)
    shows.check_host(me, show)
    shows.do_rotate_key(db, me, show)
    db.commit()
    return redirect(f"/host/shows/{show_id}/obs?done=rotated")


@router.post("/host/shows/{show_id}/obs/stop")
def stop(
    request: Request, show_id: str, db: DB, me: SignedIn, csrf_token: FormText = ""
) -> Response:
    check_form_csrf(request, me, csrf_token)
    show = shows.check_manage_show(db, me, show_id)
    if show.status != "ended":
        shows.do_end(db, me, show)
    db.commit()
    try:
        nginx.drop_publisher(get_runtime(request).settings, show.public_id)
    except httpx.HTTPError as exc:
        log.warning("could not drop the publisher", show=show.id, error=repr(exc))
    return redirect(f"/host/shows/{show_id}/obs?done=stopped")


@router.get("/shows/{show_id}/replay", response_class=HTMLResponse)
def replay_page(request: Request, show_id: str, db: DB, user: PageUser) -> Response:
    show = shows.get_show(db, show_id)
    replay = service.replay_of(db, get_runtime(request).settings, show)
    return render(
        request,
        "media/replay.html",
        user,
        show=show,
        org=bases.get_org(db, show.org_id),
        replay=replay,
        replay_json=asdict(replay),
    )
