from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from livebase.db import new_id
from livebase.errors import ValidationFailed
from livebase.http import (
    DB,
    NO_BODY,
    Me,
    Page,
    RuntimeDep,
    page_of,
    paged,
    read_upload,
    require_json,
    require_multipart,
)
from livebase.schemas import rfc3339
from livebase.settings import Settings
from livebase.shows import service
from livebase.shows.models import Show, ShowScript
from livebase.shows.schemas import ExplainingIn, ScriptIn, ShelfIn, ShowIn, ShowPatch
from livebase.uploads.images import store_image

ScriptPage = Annotated[Page, Depends(page_of("scr"))]
ShowPage = Annotated[Page, Depends(page_of("show"))]

router = APIRouter(prefix="/api/v1", tags=["shows"], dependencies=[Depends(require_json)])
uploads = APIRouter(prefix="/api/v1", tags=["shows"], dependencies=[Depends(require_multipart)])


def hls_url(settings: Settings, show: Show) -> str:
    return f"{settings.effective_hls_url}/{show.public_id}/index.m3u8"


def show_out(db: DB, settings: Settings, show: Show, *, shelf: bool = True) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": show.id,
        "org_id": show.org_id,
        "base_id": show.base_id,
        "host_id": show.host_id,
        "title": show.title,
        "cover_url": f"/uploads/{show.shown_cover_path}" if show.shown_cover_path else None,
        "scheduled_at": rfc3339(show.scheduled_at),
        "status": show.status,
        "hls_url": hls_url(settings, show),
        "explaining": show.explaining_no,
        "started_at": rfc3339(show.started_at),
        "ended_at": rfc3339(show.ended_at),
        "created_at": rfc3339(show.created_at),
    }
    if shelf:
        out["shelf"] = [asdict(line) for line in service.shelf_lines(db, show)]
    return out


@router.post("/shows", status_code=201)
def create_show(body: ShowIn, me: Me, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    host_id = service.check_create_show(db, me, body.org_id, body.host_id)
    show = service.do_create_show(db, me, body.org_id, body.title, body.scheduled_at, host_id)
    db.commit()
    return show_out(db, rt.settings, show)


@router.get("/shows")
def list_shows(
    db: DB,
    rt: RuntimeDep,
    page: ShowPage,
    status: Annotated[str | None, Query(pattern="^(scheduled|live|ended)$")] = None,
    org_id: Annotated[str | None, Query(max_length=40)] = None,
    host_id: Annotated[str | None, Query(max_length=40)] = None,
    base_id: Annotated[str | None, Query(max_length=40)] = None,
) -> dict[str, Any]:
    rows = service.list_shows(
        db,
        status=status,
        org_id=org_id,
        host_id=host_id,
        base_id=base_id,
        limit=page.limit,
        cursor=page.cursor,
    )
    return paged([show_out(db, rt.settings, s, shelf=False) for s in rows], page)


@router.get("/shows/{show_id}")
def get_show(show_id: str, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    return show_out(db, rt.settings, service.get_show(db, show_id))


@router.patch("/shows/{show_id}")
def update_show(show_id: str, body: ShowPatch, me: Me, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    if not body.model_fields_set:
        raise ValidationFailed("Send title or scheduled_at.", loc="body")
    show = service.check_manage_show(db, me, show_id)
    service.do_update_show(db, me, show, title=body.title, scheduled_at=body.scheduled_at)
    db.commit()
    return show_out(db, rt.settings, show)


@router.get("/shows/{show_id}/ingest")
def get_ingest(show_id: str, me: Me, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    show = service.get_show(db, show_id)
    service.check_host(me, show)
    return {
        "server": rt.settings.effective_rtmp_url,
        "stream": f"{show.public_id}?key={show.stream_key}",
    }


@router.post("/shows/{show_id}/ingest/rotate", dependencies=[NO_BODY])
def rotate_ingest(show_id: str, me: Me, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    show = service.get_show(db, show_id)
    service.check_host(me, show)
    service.do_rotate_key(db, me, show)
    db.commit()
    return {
        "server": rt.settings.effective_rtmp_url,
        "stream": f"{show.public_id}?key={show.stream_key}",
    }


@router.put("/shows/{show_id}/shelf")
def put_shelf(show_id: str, body: ShelfIn, me: Me, db: DB) -> dict[str, Any]:
    show = service.check_manage_show(db, me, show_id)
    service.do_set_shelf(
        db, me, show, [service.ShelfSpec(i.sku_id, i.live_price_fen) for i in body.items]
    )
    db.commit()
    return {"items": [asdict(line) for line in service.shelf_lines(db, show)]}


@router.post("/shows/{show_id}/explaining")
def set_explaining(show_id: str, body: ExplainingIn, me: Me, db: DB) -> dict[str, Any]:
    show = service.check_manage_show(db, me, show_id)
    service.do_set_explaining(db, me, show, body.no)
    db.commit()
    return {"id": show.id, "explaining": show.explaining_no}


@router.post("/shows/{show_id}/start", dependencies=[NO_BODY])
def start(show_id: str, me: Me, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    show = service.check_manage_show(db, me, show_id)
    service.do_start(db, me, show)
    db.commit()
    return show_out(db, rt.settings, show, shelf=False)


@router.post("/shows/{show_id}/end", dependencies=[NO_BODY])
def end(show_id: str, me: Me, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    show = service.check_manage_show(db, me, show_id)
    service.do_end(db, me, show)
    db.commit()
    return show_out(db, rt.settings, show, shelf=False)


def script_out(script: ShowScript) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": script.id,
        "show_id": script.show_id,
        "kind": script.kind,
        "text": script.text,
        "status": script.status,
        "created_at": rfc3339(script.created_at),
    }
    if script.moderation:
        out["moderation"] = script.moderation
    return out


@router.post("/shows/{show_id}/scripts", status_code=201)
def submit_script(show_id: str, body: ScriptIn, me: Me, db: DB) -> dict[str, Any]:
    show = service.check_manage_show(db, me, show_id)
    script = service.do_submit_script(db, me, show, body.kind, body.text)
    db.commit()
    return script_out(script)


@router.get("/shows/{show_id}/scripts")
def list_scripts(show_id: str, me: Me, db: DB, page: ScriptPage) -> dict[str, Any]:
    rows = service.list_scripts(db, me, show_id, limit=page.limit, cursor=page.cursor)
    return paged([script_out(s) for s in rows], page)


@uploads.post("/shows/{show_id}/cover", status_code=201)
async def upload_cover(
    show_id: str, request: Request, me: Me, db: DB, rt: RuntimeDep
) -> dict[str, Any]:
    show = await run_in_threadpool(service.check_manage_show, db, me, show_id)
    data = await read_upload(request, rt.settings.upload_limit)

    def _store() -> dict[str, Any]:
        stored = store_image(
            data,
            rt.settings.uploads_dir,
            f"shows/{show.id}",
            new_id("cov"),
            rt.settings.upload_limit,
        )
        updated = service.do_set_cover(
            db, me, show, stored.path, uploads_dir=rt.settings.uploads_dir
        )
        db.commit()
        return {"id": updated.id, "cover_url": f"/uploads/{stored.path}"}

    return await run_in_threadpool(_store)
