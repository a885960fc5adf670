"""Pages of the brand directory (public, filter by tag), the launch calendar (public, a
month), demonstration scenes (public), and the operator's ``/ops/brands`` (tags, the
incubation rule and each brand's progress, overrides, launches) and ``/ops/scenes``
(register, attach shows, progress toward the plan's 30)."""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from livebase.accounts.service import Principal
from livebase.bases import service as bases
from livebase.campaigns import brands, scenes
from livebase.campaigns.api import live_peak
from livebase.campaigns.models import SCENE_KINDS, TAGS
from livebase.errors import ValidationFailed
from livebase.http import DB, get_runtime
from livebase.shows import service as shows
from livebase.web.formerrors import FormValues, form_page
from livebase.web.forms import parse_count, parse_yuan
from livebase.web.render import (
    PageRoute,
    PageUser,
    SignedIn,
    check_form_csrf,
    redirect,
    render,
    signed_in,
)

router = APIRouter(include_in_schema=False, route_class=PageRoute)
FormText = Annotated[str, Form(max_length=4000)]
FormList = Annotated[list[str] | None, Form(max_length=40)]
PICKER_LIMIT = 100
OPS_ONLY = "Only a base's operator runs its operations pages."


# --- public ----------------------------------------------------------------------------


@router.get("/bases/{base_id}/brands", response_class=HTMLResponse)
def brand_directory(request: Request, base_id: str, db: DB, user: PageUser) -> Response:
    tag = request.query_params.get("tag") or None
    if tag is not None and tag not in TAGS:
        tag = None  # a stale or typed link shows every brand rather than an error
    return render(
        request,
        "campaigns/brands.html",
        user,
        base=bases.get_base(db, base_id),
        cards=brands.list_brands(db, base_id, tag),
        tags=list(TAGS),
        tag=tag,
        label=brands.tag_label,
    )


def _month(request: Request) -> tuple[date, date]:
    try:
        return brands.month_range(request.query_params.get("month") or None)
    except ValidationFailed:
        return brands.month_range(None)


@router.get("/bases/{base_id}/launches", response_class=HTMLResponse)
def launch_calendar(request: Request, base_id: str, db: DB, user: PageUser) -> Response:
    base = bases.get_base(db, base_id)
    first, end = _month(request)
    launches = brands.list_launches(db, base_id, first, end)
    names = {o.id: o.name for o in bases.list_orgs(db, base_id)}
    by_day: dict[int, list[Any]] = {}
    for x in launches:
        by_day.setdefault(x.launch_date.day, []).append(x)
    # Weeks of the month, Monday first (the Chinese calendar's week), 0 = outside.
    weeks = calendar.Calendar(firstweekday=0).monthdayscalendar(first.year, first.month)
    prev = (first - timedelta(days=1)).strftime("%Y-%m")
    return render(
        request,
        "campaigns/launches.html",
        user,
        base=base,
        first=first,
        weeks=weeks,
        by_day=by_day,
        launches=launches,
        names=names,
        prev=prev,
        next=end.strftime("%Y-%m"),
    )


@router.get("/scenes/{scene_id}", response_class=HTMLResponse)
def scene_page(request: Request, scene_id: str, db: DB, user: PageUser) -> Response:
    scene = scenes.get_scene(db, scene_id)
    listed = scenes.scene_shows(db, scene)
    fig = scenes.scene_figures(db, scene, listed, live_peak(get_runtime(request)))
    channel = bases.find_org(db, scene.org_id) if scene.org_id else None
    return render(
        request,
        "campaigns/scene.html",
        user,
        scene=scene,
        base=bases.get_base(db, scene.base_id),
        fig=fig,
        listed=listed,
        channel=channel,
    )


# --- /ops/brands -------------------------------------------------------------------------


def _ops_brands(
    request: Request,
    db: Session,
    me: Principal,
    errors: dict[str, str] | None = None,
    values: FormValues | None = None,
) -> Response:
    groups = []
    first, _ = brands.month_range(None)
    for base in bases.operated_bases(db, me, OPS_ONLY):
        progress = brands.progress_of(db, base.id)
        tagged = brands.tags_of(db, [p.org.id for p in progress])
        upcoming = brands.list_launches(db, base.id, first - timedelta(days=31), date(9999, 1, 1))
        groups.append(
            {
                "base": base,
                "rule": brands.rule_of(db, base.id),
                "progress": progress,
                "tags": tagged,
                "launches": upcoming,
                "names": {p.org.id: p.org.name for p in progress},
                "shows": shows.list_shows(
                    db, status=None, base_id=base.id, limit=PICKER_LIMIT, cursor=None
                ),
            }
        )
    return render(
        request,
        "campaigns/ops_brands.html",
        me,
        groups=groups,
        tags=list(TAGS),
        label=brands.tag_label,
        errors=errors or {},
        values=values,
        done=request.query_params.get("done"),
    )


def _ops_brands_again(
    request: Request, db: Session, user: Any, values: FormValues, errors: dict[str, str]
) -> Response:
    return _ops_brands(request, db, signed_in(user), errors, values)


@router.get("/ops/brands", response_class=HTMLResponse)
def ops_brands(request: Request, db: DB, me: SignedIn) -> Response:
    return _ops_brands(request, db, me)


@router.post("/ops/brands/{org_id}/tags")
def ops_tags(
    request: Request,
    org_id: str,
    db: DB,
    me: SignedIn,
    tags: FormList = None,
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    org = brands.check_operate_brand(db, me, org_id)
    brands.do_set_tags(db, me, org, tags or [])
    db.commit()
    return redirect(f"/ops/brands?done=tags#b-{org.id}")


@router.post("/ops/brands/{org_id}/override")
def ops_override(
    request: Request,
    org_id: str,
    db: DB,
    me: SignedIn,
    override: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    org = brands.check_operate_brand(db, me, org_id)
    brands.do_set_override(db, me, org, override or None)
    db.commit()
    return redirect(f"/ops/brands?done=override#b-{org.id}")


@router.post("/ops/bases/{base_id}/incubation-rule")
@form_page(_ops_brands_again)
def ops_rule(
    request: Request,
    base_id: str,
    db: DB,
    me: SignedIn,
    min_shows: FormText = "",
    min_gmv_yuan: FormText = "",
    window_days: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    bases.check_base_operator(db, me, base_id)
    rule = brands.Rule(
        parse_count(min_shows, "min_shows"),
        parse_yuan(min_gmv_yuan, "min_gmv_yuan"),
        parse_count(window_days, "window_days"),
    )
    brands.do_set_rule(db, me, base_id, rule)
    brands.do_apply_rule(db, me, base_id)  # a rule made easier counts at once
    db.commit()
    return redirect("/ops/brands?done=rule")


@router.post("/ops/bases/{base_id}/launches")
@form_page(_ops_brands_again)
def ops_launch(
    request: Request,
    base_id: str,
    db: DB,
    me: SignedIn,
    org_id: FormText = "",
    name: FormText = "",
    launch_date: FormText = "",
    show_id: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    bases.check_base_operator(db, me, base_id)
    try:
        day = date.fromisoformat(launch_date.strip())
    except ValueError as exc:
        raise ValidationFailed("Enter the launch day.", loc="launch_date") from exc
    if len(name.strip()) > 100:
        raise ValidationFailed("A name is up to 100 characters.", loc="name")
    spec = brands.LaunchSpec(org_id, name, day, show_id or None)
    brands.do_create_launch(db, me, base_id, spec)
    db.commit()
    return redirect(f"/ops/brands?done=launch#launches-{base_id}")


@router.post("/ops/launches/{launch_id}/delete")
def ops_launch_delete(
    request: Request, launch_id: str, db: DB, me: SignedIn, csrf_token: FormText = ""
) -> Response:
    check_form_csrf(request, me, csrf_token)
    launch = brands.check_manage_launch(db, me, launch_id)
    brands.do_delete_launch(db, me, launch)
    db.commit()
    return redirect(f"/ops/brands?done=deleted#launches-{launch.base_id}")


# --- /ops/scenes -------------------------------------------------------------------------


def _ops_scenes(
    request: Request,
    db: Session,
    me: Principal,
    errors: dict[str, str] | None = None,
    values: FormValues | None = None,
) -> Response:
    groups = []
    for base in bases.operated_bases(db, me, OPS_ONLY):
        rows = [(s, scenes.scene_figures(db, s)) for s in scenes.list_scenes(db, base.id)]
        groups.append(
            {
                "base": base,
                "scenes": rows,
                "orgs": bases.list_orgs(db, base.id),
                "shows": shows.list_shows(
                    db, status=None, base_id=base.id, limit=PICKER_LIMIT, cursor=None
                ),
                "attached": {s.id: set(scenes.scene_show_ids(db, s.id)) for s, _ in rows},
            }
        )
    return render(
        request,
        "campaigns/ops_scenes.html",
        me,
        groups=groups,
        kinds=SCENE_KINDS,
        plan=scenes.PLAN_SCENES,
        errors=errors or {},
        values=values,
        done=request.query_params.get("done"),
    )


def _ops_scenes_again(
    request: Request, db: Session, user: Any, values: FormValues, errors: dict[str, str]
) -> Response:
    return _ops_scenes(request, db, signed_in(user), errors, values)


@router.get("/ops/scenes", response_class=HTMLResponse)
def ops_scenes(request: Request, db: DB, me: SignedIn) -> Response:
    return _ops_scenes(request, db, me)


@router.post("/ops/bases/{base_id}/scenes")
@form_page(_ops_scenes_again)
def ops_scene_create(
    request: Request,
    base_id: str,
    db: DB,
    me: SignedIn,
    name: FormText = "",
    kind: FormText = "",
    address: FormText = "",
    description: FormText = "",
    org_id: FormText = "",
    show_ids: FormList = None,
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    bases.check_base_operator(db, me, base_id)
    if len(name.strip()) > 100:
        raise ValidationFailed("A name is up to 100 characters.", loc="name")
    if len(address.strip()) > 200:
        raise ValidationFailed("An address is up to 200 characters.", loc="address")
    spec = scenes.SceneSpec(name, kind, address, description, org_id or None)
    scene = scenes.do_create_scene(db, me, base_id, spec, show_ids or [])
    db.commit()
    return redirect(f"/ops/scenes?done=created#s-{scene.id}")


@router.post("/ops/scenes/{scene_id}/shows")
@form_page(_ops_scenes_again)
def ops_scene_shows(
    request: Request,
    scene_id: str,
    db: DB,
    me: SignedIn,
    show_ids: FormList = None,
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    scene = scenes.check_manage_scene(db, me, scene_id)
    scenes.do_update_scene(db, me, scene, changes={}, show_ids=show_ids or [])
    db.commit()
    return redirect(f"/ops/scenes?done=shows#s-{scene.id}")
