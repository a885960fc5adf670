"""Campaign pages: the public campaign page (phone first, figures refreshed on load) with
a merchant's "enter my show" form, and the operator's ``/ops/campaigns``. The brand
directory, the launch calendar, scenes and their ``/ops`` pages are in ``ops_pages``;
this router includes them, so the feature has one page router."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from livebase.accounts.service import Principal
from livebase.bases import service as bases
from livebase.campaigns import service
from livebase.campaigns.api import live_peak
from livebase.campaigns.ops_pages import OPS_ONLY
from livebase.campaigns.ops_pages import router as ops_router
from livebase.errors import ValidationFailed
from livebase.http import DB, get_runtime
from livebase.shows import service as shows
from livebase.shows.models import Show
from livebase.web.formerrors import FormValues, form_page
from livebase.web.forms import parse_local_datetime
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
router.include_router(ops_router)
FormText = Annotated[str, Form(max_length=4000)]
# Shows offered in the operator's picker per base: the newest, not yet ended, plus those
# already in a campaign.
PICKER_LIMIT = 100
COLORS = ("#c62828", "#ad1457", "#6a1b9a", "#1565c0", "#2e7d32", "#ef6c00", "#5d4037")


def _joinable(db: Session, me: Principal | None, base_id: str) -> list[Show]:
    """Shows of this base the signed-in user manages, not ended, not in a campaign."""
    if me is None:
        return []
    found: dict[str, Show] = {}
    for org_id in sorted(me.org_ids("merchant", "agency")):
        for s in shows.list_shows(db, status=None, org_id=org_id, limit=50, cursor=None):
            found[s.id] = s
    for s in shows.list_shows(db, status=None, host_id=me.id, limit=50, cursor=None):
        found[s.id] = s
    taken = service.shows_in_campaigns(db, list(found))
    return [
        s
        for s in found.values()
        if s.base_id == base_id and s.status != "ended" and s.id not in taken
    ]


@router.get("/campaigns/{campaign_id}", response_class=HTMLResponse)
def campaign_page(request: Request, campaign_id: str, db: DB, user: PageUser) -> Response:
    campaign = service.check_see_campaign(db, user, campaign_id)
    listed = service.campaign_shows(db, campaign)
    fig = service.campaign_figures(db, campaign, listed, live_peak(get_runtime(request)))
    return render(
        request,
        "campaigns/campaign.html",
        user,
        c=campaign,
        base=bases.get_base(db, campaign.base_id),
        fig=fig,
        live=[s for s in listed if s.status == "live"],
        upcoming=[s for s in listed if s.status == "scheduled"],
        ended=[s for s in listed if s.status == "ended"],
        joinable=_joinable(db, user, campaign.base_id) if campaign.status == "published" else [],
        is_operator=service.is_operator(user, campaign.base_id),
        asked=request.query_params.get("asked") == "1",
    )


@router.post("/campaigns/{campaign_id}/join")
def campaign_join(
    request: Request,
    campaign_id: str,
    db: DB,
    me: SignedIn,
    show_id: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    campaign, show = service.check_request_join(db, me, campaign_id, show_id)
    service.do_request_join(db, me, campaign, show)
    db.commit()
    return redirect(f"/campaigns/{campaign.id}?asked=1")


def _ops(
    request: Request,
    db: Session,
    me: Principal,
    errors: dict[str, str] | None = None,
    values: FormValues | None = None,
) -> Response:
    groups = []
    for base in bases.operated_bases(db, me, OPS_ONLY):
        rows = []
        for c in service.list_campaigns(db, me, base.id):
            listed = service.campaign_shows(db, c)
            rows.append(
                {
                    "c": c,
                    "shows": listed,
                    "pending": service.pending_requests(db, c),
                    "fig": service.campaign_figures(db, c, listed),
                }
            )
        picker = [
            s
            for s in shows.list_shows(
                db, status=None, base_id=base.id, limit=PICKER_LIMIT, cursor=None
            )
            if s.status != "ended"
        ]
        groups.append({"base": base, "campaigns": rows, "picker": picker})
    return render(
        request,
        "campaigns/ops_campaigns.html",
        me,
        groups=groups,
        colors=COLORS,
        errors=errors or {},
        values=values,
        done=request.query_params.get("done"),
    )


def _ops_again(
    request: Request, db: Session, user: Any, values: FormValues, errors: dict[str, str]
) -> Response:
    return _ops(request, db, signed_in(user), errors, values)


@router.get("/ops/campaigns", response_class=HTMLResponse)
def ops_campaigns(request: Request, db: DB, me: SignedIn) -> Response:
    return _ops(request, db, me)


@router.post("/ops/campaigns")
@form_page(_ops_again)
def ops_create(
    request: Request,
    db: DB,
    me: SignedIn,
    base_id: FormText = "",
    name: FormText = "",
    description: FormText = "",
    starts_at: FormText = "",
    ends_at: FormText = "",
    banner_color: FormText = "#c62828",
    status: FormText = "draft",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    service.check_create_campaign(db, me, base_id)
    if len(name.strip()) > 100:
        raise ValidationFailed("A name is up to 100 characters.", loc="name")
    spec = service.CampaignSpec(
        name=name,
        description=description,
        starts_at=parse_local_datetime(starts_at, "starts_at"),
        ends_at=parse_local_datetime(ends_at, "ends_at"),
        banner_color=banner_color,
        status=status,
    )
    service.do_create_campaign(db, me, base_id, spec)
    db.commit()
    return redirect("/ops/campaigns?done=created")


@router.post("/ops/campaigns/{campaign_id}/status")
def ops_status(
    request: Request,
    campaign_id: str,
    db: DB,
    me: SignedIn,
    status: Annotated[Literal["draft", "published"], Form()],
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    campaign = service.check_manage_campaign(db, me, campaign_id)
    service.do_update_campaign(db, me, campaign, status=status)
    db.commit()
    return redirect(f"/ops/campaigns?done={status}#c-{campaign.id}")


@router.post("/ops/campaigns/{campaign_id}/shows")
@form_page(_ops_again)
def ops_shows(
    request: Request,
    campaign_id: str,
    db: DB,
    me: SignedIn,
    show_ids: Annotated[list[str] | None, Form(max_length=40)] = None,
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    campaign = service.check_manage_campaign(db, me, campaign_id)
    service.do_set_shows(db, me, campaign, show_ids or [])
    db.commit()
    return redirect(f"/ops/campaigns?done=shows#c-{campaign.id}")


@router.post("/ops/campaigns/{campaign_id}/requests/{show_id}/{decision}")
def ops_decide(
    request: Request,
    campaign_id: str,
    show_id: str,
    decision: Literal["approve", "reject"],
    db: DB,
    me: SignedIn,
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    campaign = service.check_manage_campaign(db, me, campaign_id)
    service.do_decide_join(db, me, campaign, show_id, approve=decision == "approve")
    db.commit()
    return redirect(f"/ops/campaigns?done={decision}#c-{campaign.id}")
