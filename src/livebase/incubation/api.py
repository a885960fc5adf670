"""Host incubation's JSON routes (docs/incubation.md)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from livebase.bases import service as bases
from livebase.db import new_id, utcnow
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
from livebase.incubation import figures, promotions
from livebase.incubation import service as incubation
from livebase.incubation.models import Cohort, HostProfile
from livebase.incubation.schemas import (
    CohortIn,
    CohortPatch,
    LevelsIn,
    MemberIn,
    ProfileIn,
    ProfilePatch,
)
from livebase.schemas import AwareDatetime, rfc3339
from livebase.uploads.images import store_image

router = APIRouter(prefix="/api/v1", tags=["incubation"], dependencies=[Depends(require_json)])
uploads = APIRouter(
    prefix="/api/v1", tags=["incubation"], dependencies=[Depends(require_multipart)]
)

ProfilePageDep = Annotated[Page, Depends(page_of("hp"))]
CohortPageDep = Annotated[Page, Depends(page_of("coh"))]
TimeQuery = Annotated[str | None, Query(max_length=40, description="RFC 3339 time")]
# A period with neither end given: the last 30 days.
DEFAULT_PERIOD = timedelta(days=30)
# The longest period asked for at once: a few years of one base.
MAX_PERIOD = timedelta(days=5 * 366)
_TIME = TypeAdapter(AwareDatetime)


def period(start: str | None, end: str | None) -> tuple[datetime, datetime]:
    """``from``/``to`` (RFC 3339, half-open); by default the 30 days up to now."""

    def parse(value: str | None, loc: str) -> datetime | None:
        if value is None:
            return None
        try:
            return _TIME.validate_python(value)
        except ValidationError:
            raise ValidationFailed(
                "A time is RFC 3339 with an offset, e.g. 2026-11-28T08:00:00Z.", loc=loc
            ) from None

    to = parse(end, "query.to") or utcnow()
    frm = parse(start, "query.from") or to - DEFAULT_PERIOD
    if frm >= to:
        raise ValidationFailed("`from` is before `to`.", loc="query.from")
    if to - frm > MAX_PERIOD:
        raise ValidationFailed("A period is at most five years.", loc="query.from")
    return frm, to


def _not_empty(fields: set[str]) -> None:
    if not fields:
        raise ValidationFailed("Send at least one field to change.", loc="body")


# --- shapes -----------------------------------------------------------------------------


def profile_out(db: Session, card: incubation.ProfileCard) -> dict[str, Any]:
    p = card.profile
    levels = incubation.levels_of(db, p.base_id)
    level = incubation.level_at(levels, p.level_rank)
    return {
        "id": p.id,
        "base_id": p.base_id,
        "org_id": p.org_id,
        "org_name": card.org_name,
        "user_id": p.user_id,
        "display_name": card.display_name,
        "specialities": list(p.specialities or []),
        "bio": p.bio,
        # Without a photo (or while it is held for its text) pages draw the letter.
        "avatar": {
            "initial": incubation.initial(card.display_name),
            "photo_url": f"/uploads/{p.shown_photo_path}" if p.shown_photo_path else None,
        },
        "level": {"rank": p.level_rank, "name": level.name, "name_en": level.name_en},
        "level_since": rfc3339(p.level_since),
        "created_at": rfc3339(p.created_at),
    }


def _one(db: Session, profile: HostProfile) -> dict[str, Any]:
    return profile_out(db, incubation.cards(db, [profile])[0])


def cohort_out(db: Session, c: Cohort, *, members: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": c.id,
        "base_id": c.base_id,
        "name": c.name,
        "goals": c.goals,
        "goal_gmv_fen": c.goal_gmv_fen,
        "goal_hours": c.goal_hours,
        "starts_on": c.starts_on.isoformat(),
        "ends_on": c.ends_on.isoformat(),
        "mentor_ids": incubation.mentors_of(db, c.id),
        "created_at": rfc3339(c.created_at),
    }
    if members:
        out["members"] = [
            profile_out(db, card) for card in incubation.cards(db, incubation.members_of(db, c.id))
        ]
    return out


def growth_out(g: figures.Growth) -> dict[str, Any]:
    return {
        "from": rfc3339(g.start),
        "to": rfc3339(g.end),
        "shows": g.shows,
        "live_seconds": g.live_seconds,
        "hours": g.hours,
        "peak_viewers": g.peak_viewers,
        "avg_viewers": g.avg_viewers,
        "orders": g.orders,
        "gmv_fen": g.gmv_fen,
        "buyers": g.buyers,
        "conversion_bp": g.conversion_bp,
        "compliance": {
            "scripts_held": g.compliance.scripts_held,
            "scripts_rejected": g.compliance.scripts_rejected,
            "scripts_blocked": g.compliance.scripts_blocked,
            "chat_held": g.compliance.chat_held,
        },
    }


def level_out(s: incubation.LevelSpec) -> dict[str, Any]:
    return {
        "rank": s.rank,
        "name": s.name,
        "name_en": s.name_en,
        "min_hours": s.min_hours,
        "min_gmv_fen": s.min_gmv_fen,
        "min_shows": s.min_shows,
    }


# --- host profiles ----------------------------------------------------------------------


@router.get("/bases/{base_id}/hosts")
def list_hosts(base_id: str, me: Me, db: DB, page: ProfilePageDep) -> dict[str, Any]:
    rows = incubation.list_profiles(db, me, base_id, limit=page.limit, cursor=page.cursor)
    return paged([profile_out(db, c) for c in incubation.cards(db, rows)], page)


@router.post("/bases/{base_id}/hosts", status_code=201)
def create_host(base_id: str, body: ProfileIn, me: Me, db: DB) -> dict[str, Any]:
    incubation.check_create_profile(db, me, base_id, body.org_id, body.user_id)
    profile = incubation.do_create_profile(
        db, me, base_id, body.org_id, body.user_id, specialities=body.specialities, bio=body.bio
    )
    db.commit()
    return _one(db, profile)


@router.get("/host-profiles/{profile_id}")
def get_host(profile_id: str, me: Me, db: DB) -> dict[str, Any]:
    profile = incubation.check_see_profile(db, me, profile_id)
    out = _one(db, profile)
    out["promotions"] = [
        {
            "from": p.from_name,
            "to": p.to_name,
            "from_rank": p.from_rank,
            "to_rank": p.to_rank,
            "at": rfc3339(p.at),
            "reason": p.reason,
            "actor": p.actor,
        }
        for p in promotions.promotions_of(db, profile.id)
    ]
    return out


@router.patch("/host-profiles/{profile_id}")
def patch_host(profile_id: str, body: ProfilePatch, me: Me, db: DB) -> dict[str, Any]:
    profile = incubation.check_edit_profile(db, me, profile_id)
    _not_empty(body.model_fields_set)
    incubation.do_update_profile(db, me, profile, specialities=body.specialities, bio=body.bio)
    db.commit()
    return _one(db, profile)


@uploads.post("/host-profiles/{profile_id}/photo", status_code=201)
async def upload_photo(
    profile_id: str, request: Request, me: Me, db: DB, rt: RuntimeDep
) -> dict[str, Any]:
    """The host or their organisation's staff: one image (JPEG, PNG or WebP), multipart
    field ``file``; answers the profile with its ``avatar.photo_url``."""
    profile = await run_in_threadpool(incubation.check_edit_profile, db, me, profile_id)
    data = await read_upload(request, rt.settings.upload_limit)

    def _store() -> dict[str, Any]:
        stored = store_image(
            data,
            rt.settings.uploads_dir,
            f"hosts/{profile.id}",
            new_id("pho"),
            rt.settings.upload_limit,
        )
        incubation.do_set_photo(db, me, profile, stored.path, rt.settings.uploads_dir)
        db.commit()
        return _one(db, profile)

    return await run_in_threadpool(_store)


@router.get("/host-profiles/{profile_id}/growth")
def host_growth(
    profile_id: str,
    me: Me,
    db: DB,
    start: Annotated[TimeQuery, Query(alias="from")] = None,
    end: Annotated[TimeQuery, Query(alias="to")] = None,
) -> dict[str, Any]:
    profile = incubation.check_see_profile(db, me, profile_id)
    frm, to = period(start, end)
    return {"profile_id": profile.id} | growth_out(figures.growth_of(db, profile, frm, to))


# --- cohorts ----------------------------------------------------------------------------


@router.post("/bases/{base_id}/cohorts", status_code=201)
def create_cohort(base_id: str, body: CohortIn, me: Me, db: DB) -> dict[str, Any]:
    incubation.check_operator(db, me, base_id)
    spec = incubation.CohortSpec(
        body.name,
        body.goals,
        body.goal_gmv_fen,
        body.goal_hours,
        body.starts_on,
        body.ends_on,
        list(body.mentor_ids),
    )
    cohort = incubation.do_create_cohort(db, me, base_id, spec)
    db.commit()
    return cohort_out(db, cohort, members=True)


@router.get("/bases/{base_id}/cohorts")
def list_cohorts(base_id: str, me: Me, db: DB, page: CohortPageDep) -> dict[str, Any]:
    rows = incubation.list_cohorts(db, me, base_id, limit=page.limit, cursor=page.cursor)
    return paged([cohort_out(db, c) for c in rows], page)


@router.get("/cohorts/{cohort_id}")
def get_cohort(cohort_id: str, me: Me, db: DB) -> dict[str, Any]:
    return cohort_out(db, incubation.check_see_cohort(db, me, cohort_id), members=True)


@router.patch("/cohorts/{cohort_id}")
def patch_cohort(cohort_id: str, body: CohortPatch, me: Me, db: DB) -> dict[str, Any]:
    cohort = incubation.check_manage_cohort(db, me, cohort_id)
    _not_empty(body.model_fields_set)
    incubation.do_update_cohort(db, me, cohort, body.model_dump(exclude_unset=True))
    db.commit()
    return cohort_out(db, cohort, members=True)


@router.get("/cohorts/{cohort_id}/members")
def list_members(cohort_id: str, me: Me, db: DB) -> dict[str, Any]:
    cohort = incubation.check_see_cohort(db, me, cohort_id)
    cards = incubation.cards(db, incubation.members_of(db, cohort.id))
    return {"items": [profile_out(db, c) for c in cards], "next_cursor": None}


@router.post("/cohorts/{cohort_id}/members", status_code=201)
def add_member(cohort_id: str, body: MemberIn, me: Me, db: DB) -> dict[str, Any]:
    cohort = incubation.check_manage_cohort(db, me, cohort_id)
    profile = incubation.do_add_member(db, me, cohort, body.profile_id)
    db.commit()
    return _one(db, profile)


@router.delete("/cohorts/{cohort_id}/members/{profile_id}", status_code=204, dependencies=[NO_BODY])
def remove_member(cohort_id: str, profile_id: str, me: Me, db: DB) -> None:
    cohort = incubation.check_manage_cohort(db, me, cohort_id)
    incubation.do_remove_member(db, me, cohort, profile_id)
    db.commit()


# --- levels -----------------------------------------------------------------------------


@router.get("/bases/{base_id}/levels")
def get_levels(base_id: str, db: DB) -> dict[str, Any]:
    """Public: a host and their fans may know what the next level takes."""
    bases.get_base(db, base_id)
    return {"items": [level_out(s) for s in incubation.levels_of(db, base_id)], "next_cursor": None}


@router.put("/bases/{base_id}/levels")
def put_levels(base_id: str, body: LevelsIn, me: Me, db: DB) -> dict[str, Any]:
    incubation.check_operator(db, me, base_id)
    specs = [
        incubation.LevelSpec(i, x.name, x.name_en, x.min_hours, x.min_gmv_fen, x.min_shows)
        for i, x in enumerate(body.levels)
    ]
    incubation.do_set_levels(db, me, base_id, specs)
    db.commit()
    return {"items": [level_out(s) for s in incubation.levels_of(db, base_id)], "next_cursor": None}


# --- the leaderboard --------------------------------------------------------------------


def board_out(db: Session, base_id: str, rows: list[figures.BoardRow]) -> list[dict[str, Any]]:
    levels = incubation.levels_of(db, base_id)
    out = []
    for i, r in enumerate(rows, start=1):
        profile = incubation.find_profile(db, r.org_id, r.host_id)
        card = incubation.host_card(db, r.org_id, r.host_id)
        level = incubation.level_at(levels, profile.level_rank if profile else 0)
        out.append(
            {
                "rank": i,
                "profile_id": profile.id if profile else None,
                "host_id": r.host_id,
                "display_name": card.display_name,
                "org_id": r.org_id,
                "org_name": card.org_name,
                "level": {"name": level.name, "name_en": level.name_en},
                "shows": r.shows,
                "live_seconds": r.live_seconds,
                "hours": r.hours,
                "orders": r.orders,
                "gmv_fen": r.gmv_fen,
            }
        )
    return out


@router.get("/bases/{base_id}/leaderboard")
def get_leaderboard(
    base_id: str,
    db: DB,
    cohort_id: Annotated[str | None, Query(max_length=40)] = None,
    start: Annotated[TimeQuery, Query(alias="from")] = None,
    end: Annotated[TimeQuery, Query(alias="to")] = None,
    by: Literal["gmv", "hours", "orders"] = "gmv",
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
) -> dict[str, Any]:
    """Public (the base's wall of hosts): names, levels and figures of the period."""
    bases.get_base(db, base_id)
    if cohort_id is not None:
        incubation.public_cohort(db, base_id, cohort_id)
    frm, to = period(start, end)
    rows = figures.leaderboard(db, base_id, frm, to, by, cohort_id=cohort_id, limit=limit)
    return {
        "from": rfc3339(frm),
        "to": rfc3339(to),
        "by": by,
        "cohort_id": cohort_id,
        "items": board_out(db, base_id, rows),
        "next_cursor": None,
    }
