"""Incubation pages: the operator's hosts and levels (/ops/hosts), a cohort with its
members' figures (/ops/cohorts/{id}), the public leaderboard (/bases/{id}/leaderboard)
and the host's own profile (/host/profile). Phone first; every form posts back to the
page it is on and shows a refused value beside the form."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import TypeAdapter
from pydantic import ValidationError as PydanticError
from sqlalchemy.orm import Session

from livebase.accounts.service import Principal, get_user, user_by_username
from livebase.bases import service as bases
from livebase.db import utcnow
from livebase.errors import ApiError, Forbidden, ValidationFailed
from livebase.http import DB
from livebase.http_errors import http_status
from livebase.incubation import figures, promotions
from livebase.incubation import service as incubation
from livebase.incubation.models import Cohort
from livebase.incubation.schemas import Day
from livebase.web.forms import PAGE_TZ
from livebase.web.render import PageRoute, PageUser, SignedIn, check_form_csrf, redirect, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
_DAY: TypeAdapter[date] = TypeAdapter(Day)
FormText = Annotated[str, Form(max_length=4000)]
# The leaderboard's periods, in days.
PERIODS = (7, 30, 90)
BOARD_LIMIT = 50
# Profiles on the operator's page (a base has hundreds of hosts, not tens of thousands).
HOSTS_LIMIT = 200


def _base_of(db: Session, me: Principal, request: Request) -> str:
    """The base the operator works on: ?base_id= or their (first) operated base."""
    asked = request.query_params.get("base_id")
    ids = sorted(me.base_ids("operator"))
    if me.is_admin and not ids:
        ids = [b.id for b in bases.list_bases(db)]
    if asked and (asked in ids or me.is_admin):
        return asked
    if not ids:
        raise Forbidden("Only a base's operator runs host incubation.")
    return ids[0]


def _int(value: str, loc: str, *, scale: int = 1) -> int:
    text = value.strip() or "0"
    try:
        number = float(text)
    except ValueError:
        raise ValidationFailed("Enter a number.", loc=loc) from None
    if number < 0 or number > 10**10:
        raise ValidationFailed("Enter a number from 0 up.", loc=loc)
    return round(number * scale)


def _day(value: str, loc: str) -> date:
    try:
        return _DAY.validate_python(value.strip())
    except PydanticError:
        raise ValidationFailed("Enter a day as YYYY-MM-DD.", loc=loc) from None


def _name(db: Session, user_id: str) -> str:
    user = get_user(db, user_id)
    return user.display_name if user else ""


def _tags(value: str) -> list[str]:
    return [t for t in value.replace("，", ",").replace("、", ",").split(",") if t.strip()]


# --- /ops/hosts -------------------------------------------------------------------------


def _hosts_page(
    request: Request, db: Session, me: Principal, error: ApiError | None = None, status: int = 200
) -> Response:
    base_id = _base_of(db, me, request)
    base = bases.get_base(db, base_id)
    levels = incubation.levels_of(db, base_id)
    totals = figures.lifetime_totals(db, base_id)
    profiles = incubation.list_profiles(db, me, base_id, limit=HOSTS_LIMIT)
    rows = []
    for card in incubation.cards(db, profiles[:HOSTS_LIMIT]):
        p = card.profile
        total = totals.get((p.org_id, p.user_id))
        rows.append(
            {
                "card": card,
                "initial": incubation.initial(card.display_name),
                "photo": card.profile.shown_photo_path,
                "level": incubation.level_at(levels, p.level_rank),
                "total": total,
                "below": promotions.below_level(levels, p, total),
            }
        )
    return render(
        request,
        "incubation/hosts.html",
        me,
        status_code=status,
        base=base,
        levels=levels,
        rows=rows,
        cohorts=incubation.list_cohorts(db, me, base_id, limit=100)[:100],
        error=error,
        done=request.query_params.get("done"),
        today=datetime.now(PAGE_TZ).date(),
    )


@router.get("/ops/hosts", response_class=HTMLResponse)
def hosts(request: Request, db: DB, me: SignedIn) -> Response:
    return _hosts_page(request, db, me)


def _again(request: Request, db: Session, me: Principal, exc: ApiError) -> Response:
    if http_status(exc) not in (409, 422):
        raise exc
    db.rollback()
    return _hosts_page(request, db, me, exc, http_status(exc))


@router.post("/ops/hosts/levels", response_class=HTMLResponse)
async def save_levels(request: Request, db: DB, me: SignedIn) -> Response:
    form = await request.form()
    check_form_csrf(request, me, str(form.get("csrf_token", "")))
    base_id = _base_of(db, me, request)
    try:
        incubation.check_operator(db, me, base_id)
        specs: list[incubation.LevelSpec] = []
        for i in range(incubation.MAX_LEVELS):
            name = str(form.get(f"name_{i}", "")).strip()
            if not name:
                continue
            specs.append(
                incubation.LevelSpec(
                    len(specs),
                    name[:40],
                    str(form.get(f"name_en_{i}", "")).strip()[:40],
                    _int(str(form.get(f"hours_{i}", "")), f"hours_{i}"),
                    _int(str(form.get(f"gmv_{i}", "")), f"gmv_{i}", scale=100),
                    _int(str(form.get(f"shows_{i}", "")), f"shows_{i}"),
                )
            )
        incubation.do_set_levels(db, me, base_id, specs)
    except ApiError as exc:
        return _again(request, db, me, exc)
    db.commit()
    return redirect(f"/ops/hosts?base_id={base_id}&done=levels")


@router.post("/ops/hosts/cohorts", response_class=HTMLResponse)
def create_cohort(
    request: Request,
    db: DB,
    me: SignedIn,
    name: FormText = "",
    goals: FormText = "",
    goal_gmv_yuan: FormText = "",
    goal_hours: FormText = "",
    starts_on: FormText = "",
    ends_on: FormText = "",
    mentors: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    base_id = _base_of(db, me, request)
    try:
        incubation.check_operator(db, me, base_id)
        if not name.strip() or len(name.strip()) > 100:
            raise ValidationFailed("Name the cohort (up to 100 characters).", loc="name")
        mentor_ids = []
        for username in _tags(mentors):
            user = user_by_username(db, username.strip())
            if user is None:
                raise ValidationFailed(f"No user {username.strip()}.", loc="mentors")
            mentor_ids.append(user.id)
        spec = incubation.CohortSpec(
            name.strip(),
            goals.strip(),
            _int(goal_gmv_yuan, "goal_gmv_yuan", scale=100) if goal_gmv_yuan.strip() else None,
            _int(goal_hours, "goal_hours") if goal_hours.strip() else None,
            _day(starts_on, "starts_on"),
            _day(ends_on, "ends_on"),
            mentor_ids,
        )
        cohort = incubation.do_create_cohort(db, me, base_id, spec)
    except ApiError as exc:
        return _again(request, db, me, exc)
    db.commit()
    return redirect(f"/ops/cohorts/{cohort.id}")


# --- /ops/cohorts/{id} --------------------------------------------------------------------


def _cohort_period(cohort: Cohort) -> tuple[datetime, datetime]:
    start = datetime.combine(cohort.starts_on, datetime.min.time(), PAGE_TZ)
    end = datetime.combine(cohort.ends_on + timedelta(days=1), datetime.min.time(), PAGE_TZ)
    return start, end


def _cohort_page(
    request: Request,
    db: Session,
    me: Principal,
    cohort_id: str,
    error: ApiError | None = None,
    status: int = 200,
) -> Response:
    cohort = incubation.check_see_cohort(db, me, cohort_id)
    start, end = _cohort_period(cohort)
    levels = incubation.levels_of(db, cohort.base_id)
    members: list[dict[str, Any]] = []
    for card in incubation.cards(db, incubation.members_of(db, cohort.id)):
        g = figures.growth_of(db, card.profile, start, end)
        members.append(
            {
                "card": card,
                "initial": incubation.initial(card.display_name),
                "photo": card.profile.shown_photo_path,
                "level": incubation.level_at(levels, card.profile.level_rank),
                "g": g,
            }
        )
    gmv = sum(m["g"].gmv_fen for m in members)
    seconds = sum(m["g"].live_seconds for m in members)
    top = max([m["g"].gmv_fen for m in members] + [1])
    member_ids = {m["card"].profile.id for m in members}
    can_manage = me.has("operator", base_id=cohort.base_id)
    candidates = []
    if can_manage:
        pool = incubation.list_profiles(db, me, cohort.base_id, limit=HOSTS_LIMIT)
        candidates = [c for c in incubation.cards(db, pool) if c.profile.id not in member_ids]
    return render(
        request,
        "incubation/cohort.html",
        me,
        status_code=status,
        cohort=cohort,
        base=bases.get_base(db, cohort.base_id),
        members=members,
        mentors=[_name(db, uid) for uid in incubation.mentors_of(db, cohort.id)],
        gmv=gmv,
        hours=round(seconds / 3600, 1),
        top=top,
        can_manage=can_manage,
        candidates=candidates,
        error=error,
    )


@router.get("/ops/cohorts/{cohort_id}", response_class=HTMLResponse)
def cohort_page(request: Request, cohort_id: str, db: DB, me: SignedIn) -> Response:
    return _cohort_page(request, db, me, cohort_id)


@router.post("/ops/cohorts/{cohort_id}/members", response_class=HTMLResponse)
def add_member(
    request: Request,
    cohort_id: str,
    db: DB,
    me: SignedIn,
    profile_id: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    cohort = incubation.check_manage_cohort(db, me, cohort_id)
    try:
        incubation.do_add_member(db, me, cohort, profile_id.strip())
    except ApiError as exc:
        if http_status(exc) not in (409, 422):
            raise
        db.rollback()
        return _cohort_page(request, db, me, cohort_id, exc, http_status(exc))
    db.commit()
    return redirect(f"/ops/cohorts/{cohort.id}")


@router.post("/ops/cohorts/{cohort_id}/members/{profile_id}/remove", response_class=HTMLResponse)
def remove_member(
    request: Request,
    cohort_id: str,
    profile_id: str,
    db: DB,
    me: SignedIn,
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    cohort = incubation.check_manage_cohort(db, me, cohort_id)
    incubation.do_remove_member(db, me, cohort, profile_id)
    db.commit()
    return redirect(f"/ops/cohorts/{cohort.id}")


# --- /bases/{id}/leaderboard ----------------------------------------------------------------


@router.get("/bases/{base_id}/leaderboard", response_class=HTMLResponse)
def leaderboard(request: Request, base_id: str, db: DB, user: PageUser) -> Response:
    base = bases.get_base(db, base_id)
    q = request.query_params
    asked = q.get("by")
    by: figures.By = "hours" if asked == "hours" else "orders" if asked == "orders" else "gmv"
    days = int(q["days"]) if q.get("days") in {str(d) for d in PERIODS} else 30
    cohort_id = q.get("cohort_id") or None
    cohort = incubation.public_cohort(db, base.id, cohort_id) if cohort_id else None
    end = utcnow()
    start = end - timedelta(days=days)
    rows = figures.leaderboard(
        db, base.id, start, end, by, cohort_id=cohort.id if cohort else None, limit=BOARD_LIMIT
    )
    levels = incubation.levels_of(db, base.id)
    entries = []
    for i, r in enumerate(rows, start=1):
        name = incubation.host_card(db, r.org_id, r.host_id)
        profile = incubation.find_profile(db, r.org_id, r.host_id)
        entries.append(
            {
                "rank": i,
                "row": r,
                "name": name,
                "initial": incubation.initial(name.display_name),
                "photo": profile.shown_photo_path if profile else None,
                "level": incubation.level_at(levels, profile.level_rank if profile else 0),
                "tags": list(profile.specialities or [])[:3] if profile else [],
            }
        )
    return render(
        request,
        "incubation/leaderboard.html",
        user,
        base=base,
        by=by,
        days=days,
        periods=PERIODS,
        cohort=cohort,
        cohorts=incubation.list_cohorts(db, None, base.id, limit=20)[:20],
        entries=entries,
    )


# --- /host/profile ------------------------------------------------------------------------


def _profile_page(
    request: Request,
    db: Session,
    me: Principal,
    error: ApiError | None = None,
    status: int = 200,
    values: dict[str, Any] | None = None,
) -> Response:
    mine = incubation.my_profiles(db, me)
    if not mine:
        raise Forbidden("This page is for hosts of a brand or an agency.")
    db.commit()  # a profile made on this first visit is kept
    end = utcnow()
    start = end - timedelta(days=30)
    items = []
    for card in incubation.cards(db, mine):
        p = card.profile
        levels = incubation.levels_of(db, p.base_id)
        rank = min(p.level_rank, len(levels) - 1)
        items.append(
            {
                "card": card,
                "initial": incubation.initial(card.display_name),
                "photo": card.profile.shown_photo_path,
                "level": levels[rank],
                "next": levels[rank + 1] if rank + 1 < len(levels) else None,
                "g": figures.growth_of(db, p, start, end),
                "promotions": promotions.promotions_of(db, p.id),
                "base": bases.get_base(db, p.base_id),
            }
        )
    return render(
        request,
        "incubation/profile.html",
        me,
        status_code=status,
        items=items,
        error=error,
        values=values or {},
        saved=request.query_params.get("saved") == "1",
    )


@router.get("/host/profile", response_class=HTMLResponse)
def my_profile(request: Request, db: DB, me: SignedIn) -> Response:
    return _profile_page(request, db, me)


@router.post("/host/profile/{profile_id}", response_class=HTMLResponse)
def save_profile(
    request: Request,
    profile_id: str,
    db: DB,
    me: SignedIn,
    specialities: FormText = "",
    bio: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    profile = incubation.check_edit_profile(db, me, profile_id)
    try:
        if len(bio) > 2000:
            raise ValidationFailed("A bio is up to 2,000 characters.", loc="bio")
        incubation.do_update_profile(
            db, me, profile, specialities=_tags(specialities), bio=bio.strip()
        )
    except ApiError as exc:
        if http_status(exc) != 422:
            raise
        db.rollback()
        values = {"profile_id": profile_id, "specialities": specialities, "bio": bio}
        return _profile_page(request, db, me, exc, 422, values)
    db.commit()
    return redirect("/host/profile?saved=1")
