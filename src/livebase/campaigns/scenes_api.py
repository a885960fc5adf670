"""Demonstration scenes (docs/campaigns.md "Scenes"): public venues with their figures;
operators of the base register and edit them."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool

from livebase.bases import service as bases
from livebase.campaigns import scenes
from livebase.campaigns.api import live_peak, show_out
from livebase.campaigns.models import Scene
from livebase.campaigns.schemas import SceneIn, ScenePatch
from livebase.db import new_id
from livebase.errors import ValidationFailed
from livebase.http import (
    DB,
    Me,
    Page,
    RuntimeDep,
    page_of,
    paged,
    read_upload,
    require_json,
    require_multipart,
)
from livebase.runtime import Runtime
from livebase.uploads.images import store_image

ScenePage = Annotated[Page, Depends(page_of("scn"))]

router = APIRouter(prefix="/api/v1", tags=["scenes"], dependencies=[Depends(require_json)])
uploads = APIRouter(prefix="/api/v1", tags=["scenes"], dependencies=[Depends(require_multipart)])


def scene_out(db: DB, scene: Scene, rt: Runtime, with_shows: bool = False) -> dict[str, Any]:
    listed = scenes.scene_shows(db, scene)
    fig = scenes.scene_figures(db, scene, listed, live_peak(rt))
    out: dict[str, Any] = {
        "id": scene.id,
        "base_id": scene.base_id,
        "name": scene.name,
        "kind": scene.kind,
        "address": scene.address,
        "description": scene.description,
        "photo_url": f"/uploads/{scene.photo_path}" if scene.photo_path else None,
        "org_id": scene.org_id,
        "show_ids": [s.id for s in listed],
        "figures": {
            "shows": fig.shows,
            "hours_live": fig.hours_live,
            "gmv_fen": fig.gmv_fen,
            "orders": fig.orders,
            "viewers": fig.viewers,
        },
    }
    if with_shows:
        out["shows"] = [show_out(s) for s in listed]
    return out


@router.post("/bases/{base_id}/scenes", status_code=201)
def create_scene(base_id: str, body: SceneIn, me: Me, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    bases.check_base_operator(db, me, base_id)
    spec = scenes.SceneSpec(body.name, body.kind, body.address, body.description, body.org_id)
    scene = scenes.do_create_scene(db, me, base_id, spec, body.show_ids)
    db.commit()
    return scene_out(db, scene, rt, with_shows=True)


@router.get("/bases/{base_id}/scenes")
def list_scenes(base_id: str, db: DB, page: ScenePage, rt: RuntimeDep) -> dict[str, Any]:
    """Public, in the order registered; ``plan`` is the plan's target (30)."""
    rows = scenes.list_scenes(db, base_id, limit=page.limit, cursor=page.cursor)
    out = paged([scene_out(db, s, rt) for s in rows[: page.limit + 1]], page)
    return out | {"plan": scenes.PLAN_SCENES}


@router.get("/scenes/{scene_id}")
def get_scene(scene_id: str, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    return scene_out(db, scenes.get_scene(db, scene_id), rt, with_shows=True)


@router.patch("/scenes/{scene_id}")
def update_scene(scene_id: str, body: ScenePatch, me: Me, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    if not body.model_fields_set:
        raise ValidationFailed("Send at least one field to change.", loc="body")
    scene = scenes.check_manage_scene(db, me, scene_id)
    changes = body.model_dump(exclude_unset=True)
    show_ids = changes.pop("show_ids", None)
    scenes.do_update_scene(db, me, scene, changes=changes, show_ids=show_ids)
    db.commit()
    return scene_out(db, scene, rt, with_shows=True)


@uploads.post("/scenes/{scene_id}/photo", status_code=201)
async def upload_photo(
    scene_id: str, request: Request, me: Me, db: DB, rt: RuntimeDep
) -> dict[str, Any]:
    scene = await run_in_threadpool(scenes.check_manage_scene, db, me, scene_id)
    data = await read_upload(request, rt.settings.upload_limit)

    def _store() -> dict[str, Any]:
        stored = store_image(
            data,
            rt.settings.uploads_dir,
            f"scenes/{scene.id}",
            new_id("sph"),
            rt.settings.upload_limit,
        )
        scenes.do_set_photo(db, me, scene, stored.path)
        db.commit()
        return {"id": scene.id, "photo_url": f"/uploads/{stored.path}"}

    return await run_in_threadpool(_store)
