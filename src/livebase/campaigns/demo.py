"""Demo data of this feature (called from ``livebase.demo``): a published campaign with
the demo's live and upcoming shows, brand tags, two launches and two scenes. Made through
the services; a second run finds each by name and adds nothing twice."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from livebase.accounts.actors import SYSTEM_DEMO
from livebase.bases import service as bases
from livebase.campaigns import brands, scenes, service
from livebase.campaigns.models import Campaign, Launch, Scene
from livebase.db import utcnow
from livebase.shows.models import Show
from livebase.web.forms import PAGE_TZ

CAMPAIGN_NAME = "双十二 京味年货节"
TAGS = {
    "京味斋": ["laozihao", "guochao"],
    "燕山织造": ["guochao", "new_consumer"],
    "颐和美妆": ["new_consumer", "first_store"],
}


def load_campaigns_demo(db: Session, base_id: str, live: Show, upcoming: Show) -> None:
    orgs = {o.name: o for o in bases.list_orgs(db, base_id)}
    now = utcnow()
    campaign = db.scalar(
        select(Campaign).where(Campaign.base_id == base_id, Campaign.name == CAMPAIGN_NAME)
    )
    if campaign is None:
        campaign = service.do_create_campaign(
            db,
            SYSTEM_DEMO,
            base_id,
            service.CampaignSpec(
                name=CAMPAIGN_NAME,
                description="老字号与新消费品牌联合开播，京味年货一站买齐。",
                starts_at=now - timedelta(days=1),
                ends_at=now + timedelta(days=10),
                banner_color="#c62828",
                status="published",
            ),
        )
        service.do_set_shows(db, SYSTEM_DEMO, campaign, [live.id, upcoming.id])

    tagged = brands.tags_of(db, [o.id for o in orgs.values()])
    for name, tags in TAGS.items():
        if name in orgs and not tagged.get(orgs[name].id):
            brands.do_set_tags(db, SYSTEM_DEMO, orgs[name], tags)

    day = upcoming.scheduled_at.astimezone(PAGE_TZ).date()
    for brand, title, when, show in (
        ("京味斋", "故宫联名 京八件礼盒", day, upcoming),
        ("燕山织造", "羊绒围巾 新年限定色", day + timedelta(days=9), None),
    ):
        exists = db.scalar(select(Launch.id).where(Launch.base_id == base_id, Launch.name == title))
        if brand in orgs and exists is None:
            spec = brands.LaunchSpec(
                orgs[brand].id,
                title,
                when,
                show.id if show is not None and show.org_id == orgs[brand].id else None,
            )
            brands.do_create_launch(db, SYSTEM_DEMO, base_id, spec)

    for name, kind, address, channel, shows in (
        ("蓝色港湾 直播街区", "street", "北京市朝阳区朝阳公园路6号", "星河传媒", [live.id]),
        ("京味斋 糕点工厂直播间", "factory", "北京市通州区马驹桥镇兴贸二街", "京味斋", []),
    ):
        if db.scalar(select(Scene.id).where(Scene.base_id == base_id, Scene.name == name)):
            continue
        org = orgs.get(channel)
        venue = scenes.SceneSpec(name, kind, address, "", org.id if org else None)
        scenes.do_create_scene(db, SYSTEM_DEMO, base_id, venue, shows)
