"""Demonstration scenes (直播示范场景): offline venues that go live — a mall, a farm, a
factory floor — each with its live channel (an organisation of the base and/or the shows
held there) and its figures, counted toward the plan's 30 (``PLAN_SCENES``).

Scenes are public once registered (a venue is a place people visit); operators of the
base register and edit them. A show is held at one place: ``scene_shows.show_id`` is
unique.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from livebase.accounts.actors import Actor, actor_name
from livebase.accounts.service import Principal
from livebase.audit.service import do_record
from livebase.bases import service as bases
from livebase.campaigns import figures
from livebase.campaigns.models import SCENE_KINDS, Scene, SceneShow
from livebase.errors import Conflict, Forbidden, NotFound, ValidationFailed
from livebase.paging import keyset
from livebase.shows.models import Show

# The plan (《北京市数字消费能级提升工作方案》): 30 online-offline demonstration scenes.
PLAN_SCENES = 30
MAX_SHOWS = 500


@dataclass(frozen=True)
class SceneSpec:
    name: str
    kind: str
    address: str
    description: str = ""
    org_id: str | None = None


def _check(db: Session, base_id: str, spec: SceneSpec) -> None:
    if not spec.name.strip():
        raise ValidationFailed("A scene needs a name.", loc="body.name")
    if spec.kind not in SCENE_KINDS:
        raise ValidationFailed(f"kind is one of {', '.join(SCENE_KINDS)}.", loc="body.kind")
    if not spec.address.strip():
        raise ValidationFailed("A scene needs its address.", loc="body.address")
    if spec.org_id is not None:
        org = bases.find_org(db, spec.org_id)
        if org is None or org.base_id != base_id:
            raise ValidationFailed(
                f"{spec.org_id} is not an organisation of this base.", loc="body.org_id"
            )


def get_scene(db: Session, scene_id: str) -> Scene:
    scene = db.get(Scene, scene_id)
    if scene is None:
        raise NotFound(f"No scene {scene_id}.")
    return scene


def check_manage_scene(db: Session, principal: Principal, scene_id: str) -> Scene:
    scene = get_scene(db, scene_id)
    if not principal.has("operator", base_id=scene.base_id):
        raise Forbidden("Only an operator of the scene's base may change it.")
    return scene


def do_create_scene(
    db: Session, actor: Actor, base_id: str, spec: SceneSpec, show_ids: Sequence[str] = ()
) -> Scene:
    bases.get_base(db, base_id)
    _check(db, base_id, spec)
    scene = Scene(
        base_id=base_id,
        name=spec.name.strip(),
        kind=spec.kind,
        address=spec.address.strip(),
        description=spec.description,
        org_id=spec.org_id,
        created_by=actor_name(actor),
    )
    db.add(scene)
    db.flush()
    if show_ids:
        _set_shows(db, scene, show_ids)
    do_record(db, actor, "create", "scene", scene.id, base_id=base_id)
    return scene


def do_update_scene(
    db: Session,
    actor: Actor,
    scene: Scene,
    *,
    changes: dict[str, object],
    show_ids: Sequence[str] | None = None,
) -> Scene:
    """``changes``: any of name, kind, address, description, org_id (None clears it)."""
    values = {
        "name": scene.name,
        "kind": scene.kind,
        "address": scene.address,
        "description": scene.description,
        "org_id": scene.org_id,
    } | changes
    spec = SceneSpec(**values)  # type: ignore[arg-type]
    _check(db, scene.base_id, spec)
    scene.name, scene.kind, scene.address = spec.name.strip(), spec.kind, spec.address.strip()
    scene.description, scene.org_id = spec.description, spec.org_id
    db.flush()
    if show_ids is not None:
        _set_shows(db, scene, show_ids)
    do_record(db, actor, "update", "scene", scene.id)
    return scene


def do_set_photo(db: Session, actor: Actor, scene: Scene, path: str) -> Scene:
    scene.photo_path = path
    db.flush()
    do_record(db, actor, "set_photo", "scene", scene.id)
    return scene


def _set_shows(db: Session, scene: Scene, show_ids: Sequence[str]) -> None:
    wanted = list(dict.fromkeys(show_ids))
    if len(wanted) > MAX_SHOWS:
        raise ValidationFailed(f"At most {MAX_SHOWS} shows.", loc="body.show_ids")
    found = {s.id: s for s in figures.shows_by_id(db, wanted)}
    for sid in wanted:
        if sid not in found or found[sid].base_id != scene.base_id:
            raise ValidationFailed(f"{sid} is not a show of this base.", loc="body.show_ids")
    elsewhere = db.scalar(
        select(SceneShow.show_id).where(
            SceneShow.show_id.in_(wanted), SceneShow.scene_id != scene.id
        )
    )
    if elsewhere is not None:
        raise Conflict(f"Show {elsewhere} is held at another scene.")
    db.execute(delete(SceneShow).where(SceneShow.scene_id == scene.id))
    db.add_all(SceneShow(scene_id=scene.id, show_id=sid) for sid in wanted)
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError as exc:  # a concurrent request put one of them elsewhere
        raise Conflict("A show is held at another scene.") from exc


def scene_show_ids(db: Session, scene_id: str) -> list[str]:
    return list(
        db.scalars(
            select(SceneShow.show_id)
            .where(SceneShow.scene_id == scene_id)
            .order_by(SceneShow.show_id)
        )
    )


def scene_shows(db: Session, scene: Scene) -> list[Show]:
    listed = figures.shows_by_id(db, scene_show_ids(db, scene.id))
    rank = {"live": 0, "scheduled": 1, "ended": 2}
    return sorted(listed, key=lambda s: (rank.get(s.status, 3), -s.scheduled_at.timestamp()))


def list_scenes(
    db: Session, base_id: str, *, limit: int | None = None, cursor: str | None = None
) -> list[Scene]:
    """In the order they were registered."""
    bases.get_base(db, base_id)
    q = select(Scene).where(Scene.base_id == base_id)
    return list(db.scalars(keyset(q, Scene.id, limit=limit, cursor=cursor, newest_first=False)))


@dataclass(frozen=True)
class SceneFigures:
    shows: int
    hours_live: float
    gmv_fen: int
    orders: int
    viewers: int


def scene_figures(
    db: Session,
    scene: Scene,
    listed: Sequence[Show] | None = None,
    live_peak: figures.LivePeak | None = None,
) -> SceneFigures:
    """All time: the shows held there, their hours on air, paid GMV and orders, viewers
    (sum of each show's peak)."""
    listed = scene_shows(db, scene) if listed is None else listed
    sales = figures.sales_of_shows(db, [s.id for s in listed])
    return SceneFigures(
        shows=len(listed),
        hours_live=figures.hours_live(listed),
        gmv_fen=sales.gmv_fen,
        orders=sales.orders,
        viewers=figures.viewers_of_shows(db, listed, live_peak),
    )


def count_scenes(db: Session, base_id: str, start: datetime, end: datetime) -> int:
    """MetricSpec ``demo_scenes`` (cumulative): scenes registered before ``end``."""
    value = db.scalar(
        select(func.count(Scene.id)).where(Scene.base_id == base_id, Scene.created_at < end)
    )
    return int(value or 0)
