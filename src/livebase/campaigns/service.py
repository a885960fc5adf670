"""Campaigns (活动): base-wide events over dates, the shows they group, merchants' requests
to join with a show, and the campaign's figures so far.

Operators of the base create and edit campaigns and set their shows; a draft is seen only
by them (anyone else gets 404, as for a missing id); a published one is public. A show
belongs to at most one campaign: ``campaign_shows.show_id`` is unique, so a second
campaign claiming it is a 409 even when two requests race.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from livebase.accounts.actors import Actor, actor_name
from livebase.accounts.service import Principal
from livebase.audit.service import do_record
from livebase.bases import service as bases
from livebase.campaigns import figures
from livebase.campaigns.models import CAMPAIGN_STATUSES, Campaign, CampaignShow
from livebase.errors import Conflict, Forbidden, NotFound, ValidationFailed
from livebase.paging import keyset
from livebase.shows import service as shows
from livebase.shows.models import Show

# A campaign is an event of days or weeks; a year and a day covers any 双十一 season and
# refuses a typo that would make it run for a decade.
MAX_DURATION = timedelta(days=366)
# Shows one campaign groups: a base-wide 618 runs a few hundred at most.
MAX_SHOWS = 500
COLOR_RE = re.compile(r"#[0-9a-fA-F]{6}")
DEFAULT_COLOR = "#c62828"


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    starts_at: datetime
    ends_at: datetime
    description: str = ""
    banner_color: str = DEFAULT_COLOR
    status: str = "draft"


def _check_spec(spec: CampaignSpec) -> None:
    if not spec.name.strip():
        raise ValidationFailed("A campaign needs a name.", loc="body.name")
    if spec.ends_at <= spec.starts_at:
        raise ValidationFailed("A campaign ends after it starts.", loc="body.ends_at")
    if spec.ends_at - spec.starts_at > MAX_DURATION:
        raise ValidationFailed("A campaign runs for at most a year.", loc="body.ends_at")
    if not COLOR_RE.fullmatch(spec.banner_color):
        raise ValidationFailed(
            "banner_color is a hex colour like #c62828.", loc="body.banner_color"
        )
    if spec.status not in CAMPAIGN_STATUSES:
        raise ValidationFailed("status is draft or published.", loc="body.status")


def is_operator(principal: Principal | None, base_id: str) -> bool:
    return principal is not None and principal.has("operator", base_id=base_id)


def get_campaign(db: Session, campaign_id: str) -> Campaign:
    campaign = db.get(Campaign, campaign_id)
    if campaign is None:
        raise NotFound(f"No campaign {campaign_id}.")
    return campaign


def check_see_campaign(db: Session, principal: Principal | None, campaign_id: str) -> Campaign:
    """A published campaign, or a draft for the operators of its base; 404 otherwise."""
    campaign = get_campaign(db, campaign_id)
    if campaign.status != "published" and not is_operator(principal, campaign.base_id):
        raise NotFound(f"No campaign {campaign_id}.")
    return campaign


def check_manage_campaign(db: Session, principal: Principal, campaign_id: str) -> Campaign:
    campaign = check_see_campaign(db, principal, campaign_id)
    if not is_operator(principal, campaign.base_id):
        raise Forbidden("Only an operator of the campaign's base may change it.")
    return campaign


def check_create_campaign(db: Session, principal: Principal, base_id: str) -> None:
    bases.check_base_operator(db, principal, base_id)


def do_create_campaign(db: Session, actor: Actor, base_id: str, spec: CampaignSpec) -> Campaign:
    bases.get_base(db, base_id)
    _check_spec(spec)
    campaign = Campaign(
        base_id=base_id,
        name=spec.name.strip(),
        description=spec.description,
        starts_at=spec.starts_at,
        ends_at=spec.ends_at,
        banner_color=spec.banner_color.lower(),
        status=spec.status,
        created_by=actor_name(actor),
    )
    db.add(campaign)
    db.flush()
    do_record(db, actor, "create", "campaign", campaign.id, base_id=base_id)
    return campaign


def do_update_campaign(
    db: Session,
    actor: Actor,
    campaign: Campaign,
    *,
    name: str | None = None,
    description: str | None = None,
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    banner_color: str | None = None,
    status: str | None = None,
) -> Campaign:
    spec = CampaignSpec(
        name=campaign.name if name is None else name,
        description=campaign.description if description is None else description,
        starts_at=campaign.starts_at if starts_at is None else starts_at,
        ends_at=campaign.ends_at if ends_at is None else ends_at,
        banner_color=campaign.banner_color if banner_color is None else banner_color,
        status=campaign.status if status is None else status,
    )
    _check_spec(spec)
    before = campaign.status
    campaign.name = spec.name.strip()
    campaign.description = spec.description
    campaign.starts_at, campaign.ends_at = spec.starts_at, spec.ends_at
    campaign.banner_color = spec.banner_color.lower()
    campaign.status = spec.status
    db.flush()
    do_record(db, actor, "update", "campaign", campaign.id, status_before=before)
    return campaign


def list_campaigns(
    db: Session,
    principal: Principal | None,
    base_id: str,
    *,
    limit: int | None = None,
    cursor: str | None = None,
) -> list[Campaign]:
    """Newest first; drafts only for the base's operators."""
    bases.get_base(db, base_id)
    q = select(Campaign).where(Campaign.base_id == base_id)
    if not is_operator(principal, base_id):
        q = q.where(Campaign.status == "published")
    return list(db.scalars(keyset(q, Campaign.id, limit=limit, cursor=cursor, newest_first=True)))


def _links(db: Session, campaign_id: str, status: str) -> list[CampaignShow]:
    return list(
        db.scalars(
            select(CampaignShow)
            .where(CampaignShow.campaign_id == campaign_id, CampaignShow.status == status)
            .order_by(CampaignShow.id)
        )
    )


def campaign_shows(db: Session, campaign: Campaign, status: str = "approved") -> list[Show]:
    """The campaign's shows: live first (latest start first), then scheduled (soonest
    first), then ended (latest first)."""
    listed = figures.shows_by_id(db, [link.show_id for link in _links(db, campaign.id, status)])
    rank = {"live": 0, "scheduled": 1, "ended": 2}

    def key(s: Show) -> tuple[int, float]:
        at = s.started_at if s.status == "live" else s.scheduled_at
        stamp = at.timestamp() if at is not None else 0.0
        return rank.get(s.status, 3), (stamp if s.status == "scheduled" else -stamp)

    return sorted(listed, key=key)


def _check_shows(db: Session, base_id: str, show_ids: Sequence[str], loc: str) -> list[Show]:
    wanted = list(dict.fromkeys(show_ids))
    if len(wanted) > MAX_SHOWS:
        raise ValidationFailed(f"At most {MAX_SHOWS} shows.", loc=loc)
    found = {s.id: s for s in figures.shows_by_id(db, wanted)}
    for sid in wanted:
        show = found.get(sid)
        if show is None or show.base_id != base_id:
            raise ValidationFailed(f"{sid} is not a show of this base.", loc=loc)
    return [found[sid] for sid in wanted]


def _flush_links(db: Session) -> None:
    """Flush in a savepoint: a concurrent claim of the same show (the unique index) is a
    409, and only this savepoint is rolled back."""
    try:
        with db.begin_nested():
            db.flush()
    except IntegrityError as exc:
        raise Conflict("A show is already in another campaign.") from exc


def do_set_shows(
    db: Session, actor: Actor, campaign: Campaign, show_ids: Sequence[str]
) -> list[Show]:
    """Make ``show_ids`` the campaign's shows (a pending request among them is approved);
    a show of another campaign is a 409 and nothing changes."""
    listed = _check_shows(db, campaign.base_id, show_ids, "body.show_ids")
    ids = [s.id for s in listed]
    links = {
        link.show_id: link
        for link in db.scalars(select(CampaignShow).where(CampaignShow.show_id.in_(ids)))
    }
    for sid in ids:
        link = links.get(sid)
        if link is not None and link.campaign_id != campaign.id:
            raise Conflict(f"Show {sid} is already in another campaign.")
    db.execute(
        delete(CampaignShow).where(
            CampaignShow.campaign_id == campaign.id,
            CampaignShow.status == "approved",
            CampaignShow.show_id.not_in(ids),
        )
    )
    for sid in ids:
        link = links.get(sid)
        if link is None:
            db.add(
                CampaignShow(
                    campaign_id=campaign.id,
                    show_id=sid,
                    status="approved",
                    requested_by=actor_name(actor),
                )
            )
        else:
            link.status = "approved"
    _flush_links(db)
    do_record(db, actor, "set_shows", "campaign", campaign.id, shows=len(ids))
    return campaign_shows(db, campaign)


def check_request_join(
    db: Session, principal: Principal, campaign_id: str, show_id: str
) -> tuple[Campaign, Show]:
    """A merchant (or the show's host or agency) asks to join a published campaign with a
    show they manage, of the campaign's base, not yet ended."""
    campaign = get_campaign(db, campaign_id)
    if campaign.status != "published":
        raise NotFound(f"No campaign {campaign_id}.")
    (show,) = _check_shows(db, campaign.base_id, [show_id], "body.show_id")
    if not shows.can_manage(principal, show):
        raise Forbidden("Only the show's host or its organisation's staff may enter it.")
    if show.status == "ended":
        raise shows.ShowEnded("The show has ended.")
    return campaign, show


def do_request_join(db: Session, actor: Actor, campaign: Campaign, show: Show) -> CampaignShow:
    existing = db.scalar(select(CampaignShow).where(CampaignShow.show_id == show.id))
    if existing is not None:
        if existing.campaign_id == campaign.id:
            return existing  # asked twice, or already in: the same answer
        raise Conflict("The show is already in another campaign.")
    link = CampaignShow(
        campaign_id=campaign.id, show_id=show.id, status="pending", requested_by=actor_name(actor)
    )
    db.add(link)
    _flush_links(db)
    do_record(db, actor, "request_join", "campaign", campaign.id, show_id=show.id)
    return link


def pending_requests(db: Session, campaign: Campaign) -> list[Show]:
    return campaign_shows(db, campaign, "pending")


def do_decide_join(
    db: Session, actor: Actor, campaign: Campaign, show_id: str, *, approve: bool
) -> None:
    link = db.scalar(
        select(CampaignShow).where(
            CampaignShow.campaign_id == campaign.id,
            CampaignShow.show_id == show_id,
            CampaignShow.status == "pending",
        )
    )
    if link is None:
        raise NotFound(f"No pending request of show {show_id} in this campaign.")
    if approve:
        link.status = "approved"
    else:
        db.delete(link)  # the show is free to enter another campaign
    db.flush()
    action = "approve_join" if approve else "reject_join"
    do_record(db, actor, action, "campaign", campaign.id, show_id=show_id)


@dataclass(frozen=True)
class CampaignFigures:
    gmv_fen: int
    orders: int
    viewers: int
    shows: int
    live_shows: int


def campaign_figures(
    db: Session,
    campaign: Campaign,
    listed: Sequence[Show] | None = None,
    live_peak: figures.LivePeak | None = None,
) -> CampaignFigures:
    """GMV and orders: paid, kept orders of the campaign's shows paid within its dates;
    viewers: the sum of its shows' peaks (figures.viewers_of_shows)."""
    listed = campaign_shows(db, campaign) if listed is None else listed
    sales = figures.sales_of_shows(db, [s.id for s in listed], campaign.starts_at, campaign.ends_at)
    return CampaignFigures(
        gmv_fen=sales.gmv_fen,
        orders=sales.orders,
        viewers=figures.viewers_of_shows(db, listed, live_peak),
        shows=len(listed),
        live_shows=sum(1 for s in listed if s.status == "live"),
    )


def campaign_of_show(db: Session, show_id: str) -> Campaign | None:
    """The published campaign a show is in, if any (for a show page's badge)."""
    return db.scalar(
        select(Campaign)
        .join(CampaignShow, CampaignShow.campaign_id == Campaign.id)
        .where(
            CampaignShow.show_id == show_id,
            CampaignShow.status == "approved",
            Campaign.status == "published",
        )
    )


def count_campaigns_held(db: Session, base_id: str, start: datetime, end: datetime) -> int:
    """MetricSpec ``campaigns_held``: published campaigns that started in [start, end)."""
    value = db.scalar(
        select(func.count(Campaign.id)).where(
            Campaign.base_id == base_id,
            Campaign.status == "published",
            Campaign.starts_at >= start,
            Campaign.starts_at < end,
        )
    )
    return int(value or 0)


def shows_in_campaigns(db: Session, show_ids: Sequence[str]) -> set[str]:
    """Which of these shows are in a campaign (approved or asked)."""
    if not show_ids:
        return set()
    return set(
        db.scalars(select(CampaignShow.show_id).where(CampaignShow.show_id.in_(list(show_ids))))
    )
