"""The demo shows this feature: a published campaign with the live show, tagged brands,
two launches and two scenes; a second run adds nothing twice."""

from __future__ import annotations

from sqlalchemy import func, select

from livebase.campaigns.models import Campaign, CampaignShow, Launch, OrgTag, Scene
from livebase.demo import LIVE_TITLE, load_demo
from livebase.runtime import Runtime
from livebase.shows.models import Show


def test_the_demo_has_a_campaign_with_the_live_show_tags_launches_and_scenes(
    rt: Runtime,
) -> None:
    for _ in range(2):
        with rt.sessions() as db, db.begin():
            load_demo(db, None)
    with rt.sessions() as db:
        (campaign,) = db.scalars(select(Campaign)).all()
        assert campaign.status == "published"
        live = db.scalar(select(Show.id).where(Show.title == LIVE_TITLE))
        shows = set(db.scalars(select(CampaignShow.show_id)))
        assert live in shows and len(shows) == 2
        assert db.scalar(select(func.count()).select_from(Launch)) == 2
        assert db.scalar(select(func.count()).select_from(Scene)) == 2
        assert db.scalar(select(func.count(func.distinct(OrgTag.org_id)))) == 3
