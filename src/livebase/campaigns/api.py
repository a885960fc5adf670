"""Campaign routes (docs/campaigns.md): a published campaign is public with its shows and
figures; operators of its base create, edit and fill it; merchants ask to join."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from livebase.campaigns import service
from livebase.campaigns.figures import LivePeak
from livebase.campaigns.models import Campaign
from livebase.campaigns.schemas import CampaignIn, CampaignPatch, JoinIn, ShowIdsIn
from livebase.errors import ValidationFailed
from livebase.http import DB, NO_BODY, MaybeMe, Me, Page, RuntimeDep, page_of, paged, require_json
from livebase.rooms.parts import ROOM_KIT
from livebase.runtime import Runtime
from livebase.schemas import rfc3339
from livebase.shows.models import Show

CampaignPage = Annotated[Page, Depends(page_of("cmp"))]

router = APIRouter(prefix="/api/v1", tags=["campaigns"], dependencies=[Depends(require_json)])


def live_peak(rt: Runtime) -> LivePeak:
    """A live room's peak so far, from the room counters every node shares."""
    counters = rt.part(ROOM_KIT).counters
    return lambda show_id: int(counters.totals(show_id).peak)


def show_out(s: Show) -> dict[str, Any]:
    return {
        "id": s.id,
        "org_id": s.org_id,
        "title": s.title,
        "status": s.status,
        "scheduled_at": rfc3339(s.scheduled_at),
        "started_at": rfc3339(s.started_at),
        "url": f"/shows/{s.id}",
    }


def campaign_out(c: Campaign) -> dict[str, Any]:
    return {
        "id": c.id,
        "base_id": c.base_id,
        "name": c.name,
        "description": c.description,
        "starts_at": rfc3339(c.starts_at),
        "ends_at": rfc3339(c.ends_at),
        "banner_color": c.banner_color,
        "status": c.status,
        "created_at": rfc3339(c.created_at),
    }


def full_out(db: DB, c: Campaign, rt: Runtime, with_pending: bool = False) -> dict[str, Any]:
    listed = service.campaign_shows(db, c)
    fig = service.campaign_figures(db, c, listed, live_peak(rt))
    out = campaign_out(c) | {
        "shows": [show_out(s) for s in listed],
        "figures": {
            "gmv_fen": fig.gmv_fen,
            "orders": fig.orders,
            "viewers": fig.viewers,
            "shows": fig.shows,
            "live_shows": fig.live_shows,
        },
    }
    if with_pending:
        out["pending_shows"] = [show_out(s) for s in service.pending_requests(db, c)]
    return out


@router.post("/bases/{base_id}/campaigns", status_code=201)
def create_campaign(
    base_id: str, body: CampaignIn, me: Me, db: DB, rt: RuntimeDep
) -> dict[str, Any]:
    service.check_create_campaign(db, me, base_id)
    spec = service.CampaignSpec(
        name=body.name,
        description=body.description,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        banner_color=body.banner_color,
        status=body.status,
    )
    campaign = service.do_create_campaign(db, me, base_id, spec)
    db.commit()
    return full_out(db, campaign, rt, with_pending=True)


@router.get("/bases/{base_id}/campaigns")
def list_campaigns(base_id: str, db: DB, me: MaybeMe, page: CampaignPage) -> dict[str, Any]:
    rows = service.list_campaigns(db, me, base_id, limit=page.limit, cursor=page.cursor)
    return paged([campaign_out(c) for c in rows], page)


@router.get("/campaigns/{campaign_id}")
def get_campaign(campaign_id: str, db: DB, me: MaybeMe, rt: RuntimeDep) -> dict[str, Any]:
    campaign = service.check_see_campaign(db, me, campaign_id)
    return full_out(db, campaign, rt, with_pending=service.is_operator(me, campaign.base_id))


@router.patch("/campaigns/{campaign_id}")
def update_campaign(
    campaign_id: str, body: CampaignPatch, me: Me, db: DB, rt: RuntimeDep
) -> dict[str, Any]:
    if not body.model_fields_set:
        raise ValidationFailed("Send at least one field to change.", loc="body")
    campaign = service.check_manage_campaign(db, me, campaign_id)
    service.do_update_campaign(db, me, campaign, **body.model_dump(exclude_unset=True))
    db.commit()
    return full_out(db, campaign, rt, with_pending=True)


@router.put("/campaigns/{campaign_id}/shows")
def set_shows(campaign_id: str, body: ShowIdsIn, me: Me, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    campaign = service.check_manage_campaign(db, me, campaign_id)
    service.do_set_shows(db, me, campaign, body.show_ids)
    db.commit()
    return full_out(db, campaign, rt, with_pending=True)


@router.post("/campaigns/{campaign_id}/join-requests", status_code=201)
def request_join(campaign_id: str, body: JoinIn, me: Me, db: DB) -> dict[str, Any]:
    campaign, show = service.check_request_join(db, me, campaign_id, body.show_id)
    link = service.do_request_join(db, me, campaign, show)
    db.commit()
    return {"campaign_id": campaign.id, "show_id": show.id, "status": link.status}


@router.post("/campaigns/{campaign_id}/join-requests/{show_id}/approve", dependencies=[NO_BODY])
def approve_join(campaign_id: str, show_id: str, me: Me, db: DB) -> dict[str, Any]:
    campaign = service.check_manage_campaign(db, me, campaign_id)
    service.do_decide_join(db, me, campaign, show_id, approve=True)
    db.commit()
    return {"campaign_id": campaign.id, "show_id": show_id, "status": "approved"}


@router.post("/campaigns/{campaign_id}/join-requests/{show_id}/reject", dependencies=[NO_BODY])
def reject_join(campaign_id: str, show_id: str, me: Me, db: DB) -> dict[str, Any]:
    campaign = service.check_manage_campaign(db, me, campaign_id)
    service.do_decide_join(db, me, campaign, show_id, approve=False)
    db.commit()
    return {"campaign_id": campaign.id, "show_id": show_id, "status": "rejected"}
