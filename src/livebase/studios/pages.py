"""Studio pages: a studio's week on a phone (/studios/{id}?week=2026-W49) with a booking
form, the operator's studios with this month's usage (/ops/studios), and an
organisation's bookings (/org/bookings)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from livebase.accounts.service import Principal
from livebase.bases import service as bases
from livebase.db import utcnow
from livebase.errors import ApiError, Forbidden, ValidationFailed
from livebase.http import DB
from livebase.http_errors import http_status
from livebase.shows import service as shows
from livebase.studios import service as studios
from livebase.studios.models import Booking, Studio
from livebase.studios.service import LOCAL_TZ, WEEKDAYS
from livebase.web.i18n import pick_lang, translator
from livebase.web.render import PageRoute, SignedIn, check_form_csrf, redirect, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)
FormText = Annotated[str, Form(max_length=2000)]
# Half-hour choices of the time selects: 00:00 … 24:00.
TIMES = [f"{m // 60:02d}:{m % 60:02d}" for m in range(0, 24 * 60 + 1, 30)]
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# An organisation's page lists this many of its bookings (upcoming first).
ORG_LIST_LIMIT = 100


def _slot_from_form(day: str, start: str, end: str) -> tuple[datetime, datetime]:
    """A date and two half-hour times of a form, Beijing time → aware UTC."""
    if not _DATE.fullmatch(day.strip()):
        raise ValidationFailed("Pick a date.", loc="date")
    try:
        d = date.fromisoformat(day.strip())
    except ValueError:
        raise ValidationFailed("Pick a date.", loc="date") from None
    out = []
    for name, value in (("start", start), ("end", end)):
        if value not in TIMES:
            raise ValidationFailed("Pick a time on the hour or half hour.", loc=name)
        out.append(studios.local_midnight(d) + timedelta(minutes=studios._minutes(value)))
    return out[0], out[1]


def _error_text(t: Any, exc: ApiError) -> str:
    rule = getattr(exc, "rule", None)
    if rule:
        return str(t(f"studios.rule.{rule}"))
    return str(t(f"error.{exc.code}"))


# -- the week calendar -------------------------------------------------------------------


@dataclass
class Cell:
    state: str  # closed | past | free | taken | mine
    start: datetime
    booking: Booking | None = None
    first: bool = False  # the first half hour of its booking: the label goes here


@dataclass
class WeekView:
    monday: date
    days: list[date]
    times: list[str]
    rows: list[list[Cell]]  # one row per half hour, one cell per day


def _week_view(
    db: Session, me: Principal, studio: Studio, monday: date, bookings: list[Booking]
) -> WeekView:
    now = utcnow()
    days = [monday + timedelta(days=i) for i in range(7)]
    spans = [studios.opening_span(studio, d) for d in days]
    opens = [
        studios._minutes(studio.opening_hours[WEEKDAYS[d.weekday()]]["open"])
        for d, s in zip(days, spans, strict=True)
        if s
    ]
    closes = [
        studios._minutes(studio.opening_hours[WEEKDAYS[d.weekday()]]["close"])
        for d, s in zip(days, spans, strict=True)
        if s
    ]
    first, last = (min(opens), max(closes)) if opens else (9 * 60, 18 * 60)
    rows: list[list[Cell]] = []
    times = []
    for m in range(first, last, 30):
        times.append(f"{m // 60:02d}:{m % 60:02d}")
        row = []
        for d, span in zip(days, spans, strict=True):
            at = studios.local_midnight(d) + timedelta(minutes=m)
            booking = next((b for b in bookings if b.starts_at <= at < b.ends_at), None)
            if booking is not None:
                mine = studios.sees_detail(db, me, booking)
                row.append(Cell("mine" if mine else "taken", at, booking, at == booking.starts_at))
            elif span is None or not (span[0] <= at < span[1]):
                row.append(Cell("closed", at))
            elif at <= now:
                row.append(Cell("past", at))
            else:
                row.append(Cell("free", at))
        rows.append(row)
    return WeekView(monday, days, times, rows)


def _calendar(
    request: Request,
    db: Session,
    me: Principal,
    studio: Studio,
    week: str | None,
    *,
    error: ApiError | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    today = datetime.now(LOCAL_TZ).date()
    monday = studios.parse_week(week, today)
    start = studios.local_midnight(monday)
    bookings = studios.bookings_between(db, studio.id, start, start + timedelta(days=7))
    view = _week_view(db, me, studio, monday, bookings)
    base = bases.get_base(db, studio.base_id)
    own = studios.member_org_ids(db, me, studio.base_id, studios.BOOKING_ROLES)
    operator = studios.is_operator(me, studio.base_id)
    book_orgs = bases.list_orgs(db, studio.base_id) if operator else []
    book_orgs = book_orgs or [bases.get_org(db, o) for o in sorted(own)]
    names = {o.id: o.name for o in bases.list_orgs(db, studio.base_id)}
    picked = request.query_params.get("start", "")
    form = form or {}
    if not form and re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}", picked):
        hh = int(picked[11:13]) * 60 + int(picked[14:16])
        form = {"date": picked[:10], "start": picked[11:], "end": TIMES[min(hh // 30 + 4, 48)]}
    t = translator(pick_lang(request))
    return render(
        request,
        "studios/calendar.html",
        me,
        status_code=http_status(error) if error else 200,
        studio=studio,
        base=base,
        view=view,
        week=studios.week_label(monday),
        prev_week=studios.week_label(monday - timedelta(days=7)),
        next_week=studios.week_label(monday + timedelta(days=7)),
        this_week=studios.week_label(today - timedelta(days=today.weekday())),
        bookings=bookings,
        sees=lambda b: studios.sees_detail(db, me, b),
        can_cancel=lambda b: b.org_id in me.org_ids(*studios.BOOKING_ROLES) or operator,
        org_names=names,
        book_orgs=book_orgs,
        times=TIMES,
        form=form,
        failure=_error_text(t, error) if error else None,
        booked=request.query_params.get("booked") == "1",
        cancelled=request.query_params.get("cancelled") == "1",
        weekdays=WEEKDAYS,
        this_day=today.isoformat(),
    )


@router.get("/studios/{studio_id}", response_class=HTMLResponse)
def calendar(request: Request, studio_id: str, db: DB, me: SignedIn) -> Response:
    studio = studios.check_see_studio(db, me, studio_id)
    return _calendar(request, db, me, studio, request.query_params.get("week"))


@router.post("/studios/{studio_id}/bookings", response_class=HTMLResponse)
def book(
    request: Request,
    studio_id: str,
    db: DB,
    me: SignedIn,
    date_: Annotated[str, Form(alias="date", max_length=20)] = "",
    start: FormText = "",
    end: FormText = "",
    org_id: FormText = "",
    note: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    form = {"date": date_, "start": start, "end": end, "org_id": org_id, "note": note}
    studio = studios.check_see_studio(db, me, studio_id)
    try:
        starts_at, ends_at = _slot_from_form(date_, start, end)
        studio, org = studios.check_book(db, me, studio_id, org_id or None)
        booking = studios.do_book(db, me, studio, org, starts_at, ends_at, note=note.strip())
    except ApiError as exc:
        if http_status(exc) not in (409, 422):
            raise
        db.rollback()
        week = _week_of(form.get("date", ""))
        return _calendar(request, db, me, studio, week, error=exc, form=form)
    db.commit()
    week = studios.week_label(booking.starts_at.astimezone(LOCAL_TZ).date())
    return redirect(f"/studios/{studio_id}?week={week}&booked=1")


def _week_of(day: str) -> str | None:
    try:
        return studios.week_label(date.fromisoformat(day))
    except ValueError:
        return None


@router.post("/bookings/{booking_id}/cancel")
def cancel(
    request: Request, booking_id: str, db: DB, me: SignedIn, csrf_token: FormText = ""
) -> Response:
    check_form_csrf(request, me, csrf_token)
    booking = studios.check_cancel(db, me, booking_id)
    studios.do_cancel(db, me, booking)
    db.commit()
    back = request.query_params.get("back", "")
    if back == "org":
        return redirect("/org/bookings?cancelled=1")
    week = studios.week_label(booking.starts_at.astimezone(LOCAL_TZ).date())
    return redirect(f"/studios/{booking.studio_id}?week={week}&cancelled=1")


# -- the operator's studios ----------------------------------------------------------------


def _chart_rows(u: studios.Usage) -> tuple[list[Any], list[Any]]:
    """Bars of the usage page: (label, value, scale top, used or None) per row."""
    per_studio = [(r.name, r.utilisation_pct or 0.0, 100, None) for r in u.studios]
    top = max((r.hours_booked for r in u.orgs), default=0.0)
    per_org = [(r.name, r.hours_booked, top, r.hours_used) for r in u.orgs]
    return per_studio, per_org


def _hours_from_form(form: Any) -> dict[str, Any]:
    hours: dict[str, Any] = {}
    for day in WEEKDAYS:
        opens, closes = form.get(f"open_{day}", ""), form.get(f"close_{day}", "")
        if not opens and not closes:
            continue
        if opens not in TIMES or closes not in TIMES:
            raise ValidationFailed("Pick both times, or neither for a closed day.", loc=day)
        hours[day] = {"open": opens, "close": closes}
    return studios.clean_hours(hours, loc="hours")


def _ops(
    request: Request,
    db: Session,
    me: Principal,
    *,
    error: ApiError | None = None,
    form: dict[str, str] | None = None,
    failed_base: str | None = None,
) -> HTMLResponse:
    start, end = studios.local_month(utcnow())
    groups = []
    for base in bases.operated_bases(db, me, "Only a base's operator manages its studios."):
        groups.append((base, studios.usage(db, base.id, start, end)))
    rooms = {base.id: studios.list_studios(db, base.id) for base, _ in groups}
    charts = {base.id: _chart_rows(u) for base, u in groups}
    t = translator(pick_lang(request))
    default_form = {f"open_{d}": "09:00" for d in WEEKDAYS} | {
        f"close_{d}": "22:00" for d in WEEKDAYS
    }
    return render(
        request,
        "studios/ops.html",
        me,
        status_code=http_status(error) if error else 200,
        groups=groups,
        rooms=rooms,
        charts=charts,
        month=start.astimezone(LOCAL_TZ).strftime("%Y-%m"),
        form=form or default_form,
        failure=_error_text(t, error) if error else None,
        failed_base=failed_base,
        times=TIMES,
        weekdays=WEEKDAYS,
        created=request.query_params.get("created") == "1",
    )


@router.get("/ops/studios", response_class=HTMLResponse)
def ops(request: Request, db: DB, me: SignedIn) -> Response:
    return _ops(request, db, me)


@router.post("/ops/studios", response_class=HTMLResponse)
async def ops_create(request: Request, db: DB, me: SignedIn) -> Response:
    posted = await request.form()
    form = {k: v for k, v in posted.items() if isinstance(v, str)}
    check_form_csrf(request, me, form.get("csrf_token", ""))
    return await run_in_threadpool(_create_studio, request, db, me, form)


def _create_studio(request: Request, db: Session, me: Principal, form: dict[str, str]) -> Response:
    base_id = form.get("base_id", "")
    try:
        bases.check_base_operator(db, me, base_id)
        capacity = form.get("capacity", "").strip()
        if not capacity.isascii() or not capacity.isdigit() or not 1 <= int(capacity) <= 500:
            raise ValidationFailed("Capacity is 1–500 people.", loc="capacity")
        name = form.get("name", "").strip()
        if not name or len(name) > 100:
            raise ValidationFailed("A studio needs a name (up to 100 characters).", loc="name")
        equipment = [e.strip()[:60] for e in re.split(r"[,，、\n]", form.get("equipment", ""))]
        studios.do_create_studio(
            db,
            me,
            base_id,
            name=name,
            capacity=int(capacity),
            opening_hours=_hours_from_form(form),
            equipment=equipment,
            description=form.get("description", "")[:2000],
        )
    except ApiError as exc:
        if http_status(exc) not in (409, 422):
            raise
        db.rollback()
        return _ops(request, db, me, error=exc, form=form, failed_base=base_id)
    db.commit()
    return redirect("/ops/studios?created=1")


# -- an organisation's bookings -------------------------------------------------------------


@router.get("/org/bookings", response_class=HTMLResponse)
def org_bookings(request: Request, db: DB, me: SignedIn) -> Response:
    return _org(request, db, me)


def _org(
    request: Request,
    db: Session,
    me: Principal,
    *,
    error: ApiError | None = None,
    form: dict[str, str] | None = None,
) -> HTMLResponse:
    org_ids = sorted(me.org_ids(*studios.BOOKING_ROLES))
    if not org_ids:
        raise Forbidden("Only a brand's or an agency's staff book studios.")
    orgs = [bases.get_org(db, o) for o in org_ids]
    now = utcnow()
    rows = studios.org_bookings(db, org_ids, since=now - timedelta(days=7), limit=ORG_LIST_LIMIT)
    rooms: dict[str, Studio] = {}
    for o in orgs:
        for s in studios.list_studios(db, o.base_id):
            rooms[s.id] = s
    # A show of the organisation scheduled inside a booking can be bound to it.
    candidates: dict[str, list[Any]] = {}
    for o in orgs:
        upcoming = shows.list_shows(db, status="scheduled", org_id=o.id, limit=100, cursor=None)
        for b in rows:
            if b.org_id == o.id and b.status == "active":
                candidates[b.id] = [
                    s for s in upcoming if b.starts_at <= s.scheduled_at < b.ends_at
                ]
    t = translator(pick_lang(request))
    return render(
        request,
        "studios/org.html",
        me,
        status_code=http_status(error) if error else 200,
        orgs=orgs,
        org_names={o.id: o.name for o in orgs},
        bookings=rows,
        rooms=rooms,
        candidates=candidates,
        bound={b.id: shows.get_show(db, b.show_id) for b in rows if b.show_id},
        now=now,
        times=TIMES,
        form=form or {},
        failure=_error_text(t, error) if error else None,
        booked=request.query_params.get("booked") == "1",
        cancelled=request.query_params.get("cancelled") == "1",
        today=datetime.now(LOCAL_TZ).date().isoformat(),
    )


@router.post("/org/bookings", response_class=HTMLResponse)
def org_book(
    request: Request,
    db: DB,
    me: SignedIn,
    studio_id: FormText = "",
    date_: Annotated[str, Form(alias="date", max_length=20)] = "",
    start: FormText = "",
    end: FormText = "",
    org_id: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    form = {"studio_id": studio_id, "date": date_, "start": start, "end": end, "org_id": org_id}
    try:
        starts_at, ends_at = _slot_from_form(date_, start, end)
        studio, org = studios.check_book(db, me, studio_id, org_id or None)
        studios.do_book(db, me, studio, org, starts_at, ends_at)
    except ApiError as exc:
        if http_status(exc) not in (404, 409, 422):
            raise
        db.rollback()
        return _org(request, db, me, error=exc, form=form)
    db.commit()
    return redirect("/org/bookings?booked=1")


@router.post("/org/bookings/{booking_id}/show")
def org_bind(
    request: Request,
    booking_id: str,
    db: DB,
    me: SignedIn,
    show_id: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    booking = studios.check_bind_show(db, me, booking_id)
    studios.do_bind_show(db, me, booking, show_id or None)
    db.commit()
    return redirect("/org/bookings")
