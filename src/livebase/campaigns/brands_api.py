"""Brand directory, tags, the incubation rule and its progress, launches (docs/campaigns.md)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from livebase.bases import service as bases
from livebase.campaigns import brands
from livebase.campaigns.models import Launch
from livebase.campaigns.schemas import LaunchIn, OverrideIn, RuleIn, TagsIn
from livebase.http import DB, Me, require_json
from livebase.schemas import rfc3339

router = APIRouter(prefix="/api/v1", tags=["brands"], dependencies=[Depends(require_json)])
TagQuery = Annotated[
    str | None,
    Query(pattern="^(guochao|laozihao|new_consumer|first_store|factory_live|rural)$"),
]
MonthQuery = Annotated[str | None, Query(pattern="^[0-9]{4}-(0[1-9]|1[0-2])$")]


def brand_out(card: brands.BrandCard) -> dict[str, Any]:
    o = card.org
    return {
        "id": o.id,
        "name": o.name,
        "description": o.description,
        "tags": card.tags,
        "incubated": o.incubated,
        "launched_at": rfc3339(o.launched_at),
    }


def launch_out(x: Launch) -> dict[str, Any]:
    return {
        "id": x.id,
        "base_id": x.base_id,
        "org_id": x.org_id,
        "name": x.name,
        "launch_date": x.launch_date.isoformat(),
        "show_id": x.show_id,
    }


def rule_out(rule: brands.Rule) -> dict[str, Any]:
    return {
        "min_shows": rule.min_shows,
        "min_gmv_fen": rule.min_gmv_fen,
        "window_days": rule.window_days,
    }


def progress_out(p: brands.Progress) -> dict[str, Any]:
    return {
        "org_id": p.org.id,
        "name": p.org.name,
        "joined_at": rfc3339(p.joined_at),
        "window_ends": rfc3339(p.window_ends),
        "shows": p.shows,
        "gmv_fen": p.gmv_fen,
        "override": p.override,
        "meets_rule": p.meets_rule,
        "incubated": p.org.incubated,
    }


@router.get("/bases/{base_id}/brands")
def list_brands(base_id: str, db: DB, tag: TagQuery = None) -> dict[str, Any]:
    """Public: the base's brands with their tags (every brand, one page)."""
    return {
        "items": [brand_out(c) for c in brands.list_brands(db, base_id, tag)],
        "next_cursor": None,
    }


@router.put("/orgs/{org_id}/tags")
def set_tags(org_id: str, body: TagsIn, me: Me, db: DB) -> dict[str, Any]:
    org = brands.check_operate_brand(db, me, org_id)
    tags = brands.do_set_tags(db, me, org, body.tags)
    db.commit()
    return {"org_id": org.id, "tags": tags}


@router.get("/bases/{base_id}/incubation-rule")
def get_rule(base_id: str, me: Me, db: DB) -> dict[str, Any]:
    bases.check_base_operator(db, me, base_id)
    return rule_out(brands.rule_of(db, base_id))


@router.put("/bases/{base_id}/incubation-rule")
def set_rule(base_id: str, body: RuleIn, me: Me, db: DB) -> dict[str, Any]:
    bases.check_base_operator(db, me, base_id)
    rule = brands.do_set_rule(
        db, me, base_id, brands.Rule(body.min_shows, body.min_gmv_fen, body.window_days)
    )
    db.commit()
    return rule_out(rule)


@router.get("/bases/{base_id}/incubation")
def incubation_progress(base_id: str, me: Me, db: DB) -> dict[str, Any]:
    """Operators: every brand against the rule."""
    bases.check_base_operator(db, me, base_id)
    rows = brands.progress_of(db, base_id)
    return {
        "rule": rule_out(brands.rule_of(db, base_id)),
        "items": [progress_out(p) for p in rows],
        "next_cursor": None,
    }


@router.put("/orgs/{org_id}/incubation")
def set_override(org_id: str, body: OverrideIn, me: Me, db: DB) -> dict[str, Any]:
    org = brands.check_operate_brand(db, me, org_id)
    brands.do_set_override(db, me, org, body.override, body.note)
    db.commit()
    (p,) = [x for x in brands.progress_of(db, org.base_id) if x.org.id == org.id]
    return progress_out(p)


@router.post("/bases/{base_id}/launches", status_code=201)
def create_launch(base_id: str, body: LaunchIn, me: Me, db: DB) -> dict[str, Any]:
    bases.check_base_operator(db, me, base_id)
    spec = brands.LaunchSpec(body.org_id, body.name, body.launch_date, body.show_id)
    launch = brands.do_create_launch(db, me, base_id, spec)
    db.commit()
    return launch_out(launch)


@router.get("/bases/{base_id}/launches")
def list_launches(base_id: str, db: DB, month: MonthQuery = None) -> dict[str, Any]:
    """Public: the month's launches (Beijing calendar), by day; this month by default."""
    first, end = brands.month_range(month)
    rows = brands.list_launches(db, base_id, first, end)
    return {
        "month": first.strftime("%Y-%m"),
        "items": [launch_out(x) for x in rows],
        "next_cursor": None,
    }


@router.delete("/launches/{launch_id}", status_code=204)
def delete_launch(launch_id: str, me: Me, db: DB) -> Response:
    launch = brands.check_manage_launch(db, me, launch_id)
    brands.do_delete_launch(db, me, launch)
    db.commit()
    return Response(status_code=204)
