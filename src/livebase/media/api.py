"""Media routes: nginx-rtmp's callbacks (internal, form POSTs, the shared secret in the
URL), the host's stream health and stop, and the public replay and clip lists."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from livebase.catalog import service as catalog
from livebase.errors import ApiError, Code, ValidationFailed
from livebase.http import DB, NO_BODY, MaybeMe, Me, RuntimeDep, require_json
from livebase.logs import get_logger
from livebase.media import nginx, service
from livebase.shows import service as shows

log = get_logger("livebase.media")

callbacks = APIRouter(prefix="/media/rtmp", tags=["media"], include_in_schema=False)
router = APIRouter(prefix="/api/v1", tags=["media"], dependencies=[Depends(require_json)])

Secret = Annotated[str | None, Query(max_length=200)]
# nginx-rtmp's form fields are short; anything longer is not from nginx.
MAX_FIELD = 1000


async def _form(request: Request) -> dict[str, str]:
    ctype = request.headers.get("content-type", "")
    if not ctype.startswith("application/x-www-form-urlencoded"):
        raise ApiError(
            "nginx-rtmp posts application/x-www-form-urlencoded.",
            code=Code.UNSUPPORTED_MEDIA_TYPE,
        )
    form = await request.form()
    out = {}
    for k, v in form.items():
        if isinstance(v, str):
            if len(v) > MAX_FIELD:
                raise ValidationFailed(f"Field {k} is too long.", loc=f"body.{k}")
            out[k] = v
    return out


def _need(form: dict[str, str], name: str) -> str:
    value = form.get(name, "").strip()
    if not value:
        raise ValidationFailed(f"nginx-rtmp sends {name}.", loc=f"body.{name}")
    return value


@callbacks.post("/on_publish")
async def on_publish(request: Request, db: DB, rt: RuntimeDep, secret: Secret = None) -> Any:
    """2xx lets the encoder publish; 4xx refuses it (nginx closes the connection)."""
    service.check_secret(rt.settings, secret)
    form = await _form(request)
    name = _need(form, "name")

    def run() -> dict[str, Any]:
        try:
            show = service.authorise_publish(db, name, form.get("key"))
        except ApiError as exc:
            log.info("publish refused", name=name, addr=form.get("addr"), error=exc.code)
            raise
        pub = service.do_publish(
            db, rt.settings, show, client_id=form.get("clientid", ""), addr=form.get("addr", "")
        )
        db.commit()
        log.info("publish accepted", show=show.id, publish=pub.id)
        return {"show_id": show.id, "status": show.status}

    return await run_in_threadpool(run)


@callbacks.post("/on_publish_done")
async def on_publish_done(request: Request, db: DB, rt: RuntimeDep, secret: Secret = None) -> Any:
    service.check_secret(rt.settings, secret)
    form = await _form(request)
    name = _need(form, "name")

    def run() -> dict[str, Any]:
        service.do_publish_done(db, rt.settings, name, form.get("clientid", ""))
        db.commit()
        return {"ok": True}

    return await run_in_threadpool(run)


@callbacks.post("/on_record_done")
async def on_record_done(request: Request, db: DB, rt: RuntimeDep, secret: Secret = None) -> Any:
    service.check_secret(rt.settings, secret)
    form = await _form(request)
    name, path = _need(form, "name"), _need(form, "path")

    def run() -> dict[str, Any]:
        rec = service.do_record_done(db, name, path, form.get("clientid", ""))
        db.commit()
        return {"recording_id": rec.id}

    return await run_in_threadpool(run)


# ---- the host's stream ---------------------------------------------------------------


def stream_health(rt_settings: Any, show: Any) -> dict[str, Any]:
    out: dict[str, Any] = {"show_id": show.id, "status": show.status, "server": "up"}
    try:
        stat = nginx.fetch_stat(rt_settings, show.public_id)
    except (httpx.HTTPError, ValueError) as exc:
        log.warning("media server unreachable", error=repr(exc))
        return {**out, "server": "down", "publishing": False}
    if stat is None:
        return {**out, "publishing": False}
    bitrate = stat.bitrate_kbps
    if not bitrate and stat.uptime_s > 0:  # nginx refreshes bw_in every few seconds
        bitrate = stat.bytes_in * 8 / 1000 / stat.uptime_s
    return {
        **out,
        "publishing": stat.publishing,
        "uptime_s": round(stat.uptime_s, 1),
        "bitrate_kbps": round(bitrate, 1),
        "video_kbps": round(stat.video_kbps, 1),
        "audio_kbps": round(stat.audio_kbps, 1),
        "fps": stat.fps,
        "width": stat.width,
        "height": stat.height,
        "video_codec": stat.video_codec,
        "audio_codec": stat.audio_codec,
        "dropped_frames": stat.dropped,
        "clients": stat.clients,
    }


@router.get("/shows/{show_id}/stream")
def get_stream(show_id: str, me: Me, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    """Stream health for the host's pages (bitrate, fps, dropped frames from /stat)."""
    show = shows.check_manage_show(db, me, show_id)
    return stream_health(rt.settings, show)


@router.post("/shows/{show_id}/stream/stop", dependencies=[NO_BODY])
def stop_stream(show_id: str, me: Me, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    """End the show and drop its publisher: the encoder's reconnect is refused then
    (the show has ended), where a bare drop would let OBS come straight back."""
    show = shows.check_manage_show(db, me, show_id)
    if show.status != "ended":
        shows.do_end(db, me, show)
    db.commit()
    dropped = 0
    try:
        dropped = nginx.drop_publisher(rt.settings, show.public_id)
    except httpx.HTTPError as exc:
        log.warning("could not drop the publisher", show=show.id, error=repr(exc))
    return {"id": show.id, "status": show.status, "dropped": dropped}


# ---- replays and clips (public) -------------------------------------------------------


@router.get("/shows/{show_id}/replay")
def get_replay(show_id: str, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    show = shows.get_show(db, show_id)
    return asdict(service.replay_of(db, rt.settings, show))


@router.get("/products/{product_id}/clips")
def get_clips(product_id: str, db: DB, rt: RuntimeDep, user: MaybeMe) -> dict[str, Any]:
    catalog.get_product(db, user, product_id)  # 404 for a listing the caller may not see
    clips = service.clips_of_product(db, rt.settings, product_id)
    return {"items": [asdict(c) for c in clips], "next_cursor": None}
