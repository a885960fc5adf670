"""Dashboard pages: the operations hub (/ops), the base's dashboard (/ops/dashboard), the
district side by side (/ops/district) and the public summary (/bases/{id}/summary)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from livebase.accounts.service import Principal
from livebase.bases import service as bases
from livebase.bases.models import LiveBase
from livebase.dashboard import charts, months, service
from livebase.dashboard.registry import metric, metrics
from livebase.dashboard.service import MetricFigure
from livebase.db import utcnow
from livebase.http import DB
from livebase.web.i18n import pick_lang
from livebase.web.render import PageRoute, PageUser, SignedIn, render, yuan_short

router = APIRouter(include_in_schema=False, route_class=PageRoute)

# What the public summary shows: the plan's public figures (money made, shows, brands,
# people trained, scenes, events). Orders counts, studio bookings and the like stay with
# the base's staff. A metric not registered is simply absent.
PUBLIC_METRICS = (
    "gmv_fen",
    "shows_held",
    "live_hours",
    "brands_incubated",
    "new_brands_launched",
    "hosts_incubated",
    "certificates_issued",
    "campaigns_held",
    "demo_scenes",
)

# The hub's cards: the page, its label key, and the registry metric whose current month
# figure the card shows (when that metric exists and is rolled up).
CARDS = (
    ("dashboard", "/ops/dashboard", "gmv_fen"),
    ("studios", "/ops/studios", "studio_hours_booked"),
    ("hosts", "/ops/hosts", "hosts_incubated"),
    ("training", "/ops/training", "certificates_issued"),
    ("campaigns", "/ops/campaigns", "campaigns_held"),
    ("brands", "/ops/brands", "brands_incubated"),
    ("scenes", "/ops/scenes", "demo_scenes"),
    ("bonded", "/ops/bonded", None),
    ("applications", "/operator/applications", None),
    ("moderation", "/moderation", None),
)
# Pending applications counted on the hub's card (the page itself shows up to 100).
PENDING_SHOWN = 100
BaseQuery = Annotated[str | None, Query(max_length=40)]


def formatter(unit: str, lang: str) -> Callable[[int], str]:
    if unit == "fen":
        return lambda v: yuan_short(v, lang)
    if unit == "hours":
        return lambda v: f"{v:,} 小时" if lang == "zh" else f"{v:,} h"
    return lambda v: f"{v:,}"


def _fmt(lang: str) -> Callable[[str, int], str]:
    return lambda unit, v: formatter(unit, lang)(v)


@dataclass
class FigureView:
    """A metric as a page draws it."""

    fig: MetricFigure
    label: str
    chart: Markup
    fmt: Callable[[int], str]


def _views(figures: list[MetricFigure], lang: str) -> list[FigureView]:
    out = []
    for f in figures:
        fmt = formatter(f.metric.spec.unit, lang)
        label = f.metric.label(lang)
        chart = charts.month_chart(f.months, cumulative=f.metric.cumulative, fmt=fmt, label=label)
        out.append(FigureView(f, label, chart, fmt))
    return out


def _pick(db: DB, me: Principal, base_id: str | None) -> tuple[LiveBase | None, list[LiveBase]]:
    operated = bases.operated_bases(db, me, service.OPS_ONLY)
    if base_id:
        return service.check_view(db, me, base_id), operated
    return (operated[0] if operated else None), operated


@router.get("/ops", response_class=HTMLResponse)
def hub(request: Request, db: DB, me: SignedIn, base_id: BaseQuery = None) -> Response:
    base, operated = _pick(db, me, base_id)
    lang = pick_lang(request)
    cards: list[dict[str, Any]] = []
    now_figures = service.current_figures(db, base.id) if base else {}
    for name, url, metric_name in CARDS:
        figure = None
        m = metric(metric_name) if metric_name else None
        if m is not None and metric_name in now_figures:
            figure = f"{m.label(lang)} {formatter(m.spec.unit, lang)(now_figures[metric_name])}"
        if name == "applications" and base is not None:
            pending = bases.list_applications(db, me, base.id, "pending", PENDING_SHOWN, None)
            figure = f"{min(len(pending), PENDING_SHOWN)}"
        link = f"{url}?base_id={base.id}" if base and url.startswith("/ops/") else url
        cards.append({"name": name, "url": link, "figure": figure})
    return render(request, "dashboard/hub.html", me, base=base, bases=operated, cards=cards)


@router.get("/ops/dashboard", response_class=HTMLResponse)
def ops_dashboard(
    request: Request,
    db: DB,
    me: SignedIn,
    base_id: BaseQuery = None,
    year: Annotated[int | None, Query(ge=service.FIRST_YEAR, le=service.LAST_YEAR)] = None,
) -> Response:
    base, operated = _pick(db, me, base_id)
    if base is None:
        return render(request, "dashboard/ops.html", me, base=None, bases=operated)
    dash = service.build(db, base, year=year)
    lang = pick_lang(request)
    return render(
        request,
        "dashboard/ops.html",
        me,
        base=base,
        bases=operated,
        dash=dash,
        views=_views(dash.figures, lang),
        targets=[(t, f.metric) for f in dash.figures for t in f.targets],
        fmt=_fmt(lang),
        month=months.key(utcnow()),
    )


@router.get("/ops/district", response_class=HTMLResponse)
def district(
    request: Request,
    db: DB,
    me: SignedIn,
    district: Annotated[str | None, Query(max_length=100)] = None,
    month: Annotated[str | None, Query(max_length=7)] = None,
) -> Response:
    names = service.districts(db, me)
    district = district or (names[0] if names else "")
    month = service.check_month(month) if month else months.key(utcnow())
    shown = service.district_bases(db, me, district) if district else []
    dashes = [service.build(db, b, through=month) for b in shown]
    lang = pick_lang(request)
    rows = []
    for i, m in enumerate(metrics()):
        fmt = formatter(m.spec.unit, lang)
        cells = [(fmt(d.figures[i].month_value), fmt(d.figures[i].ytd)) for d in dashes]
        rows.append({"label": m.label(lang), "metric": m.name, "cells": cells})
    return render(
        request,
        "dashboard/district.html",
        me,
        district=district,
        districts=names,
        month=month,
        bases=shown,
        rows=rows,
    )


@router.get("/bases/{base_id}/summary", response_class=HTMLResponse)
def summary(request: Request, base_id: str, db: DB, user: PageUser) -> Response:
    base = bases.get_base(db, base_id)
    dash = service.build(db, base)
    public = [f for f in dash.figures if f.metric.name in PUBLIC_METRICS]
    lang = pick_lang(request)
    return render(
        request,
        "dashboard/summary.html",
        user,
        base=base,
        dash=dash,
        views=_views(public, lang),
        targets=[(t, f.metric) for f in dash.figures for t in f.targets],
        fmt=_fmt(lang),
    )
