"""Demo data for host incubation, through the services: profiles of the demo hosts, the
base's ladder of levels, a cohort of both hosts mentored by the operator, and the
rollups of the demo's shows (so the leaderboard has its live show). Idempotent."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from livebase.accounts.actors import SYSTEM_DEMO
from livebase.accounts.service import user_by_username
from livebase.incubation import figures
from livebase.incubation import service as incubation
from livebase.incubation.models import Cohort, HostLevel
from livebase.web.forms import PAGE_TZ

COHORT_NAME = "2026 冬季主播孵化营"
# (username, organisation, specialities, bio): the demo's two hosts (demo.ACCOUNTS).
HOSTS = (
    (
        "xiaoya",
        "星河传媒",
        ["食品", "老字号", "服饰"],
        "星河传媒签约主播，擅长京味美食与国潮服饰讲解。",
    ),
    (
        "ajie",
        "颐和美妆",
        ["美妆", "护肤", "保税"],
        "颐和美妆品牌自播主播，主讲护肤成分与保税进口好物。",
    ),
)


def load_demo_incubation(db: Session, base_id: str, orgs: dict[str, str]) -> str:
    """``orgs``: the demo's organisations, name → id."""
    if db.scalar(select(HostLevel.id).where(HostLevel.base_id == base_id).limit(1)) is None:
        incubation.do_set_levels(db, SYSTEM_DEMO, base_id, list(incubation.DEFAULT_LEVELS))
    profiles = []
    for username, org_name, tags, bio in HOSTS:
        user = user_by_username(db, username)
        if user is None or org_name not in orgs:
            continue
        profile = incubation.do_ensure_profile(db, SYSTEM_DEMO, orgs[org_name], user.id)
        if not profile.bio:
            incubation.do_update_profile(db, SYSTEM_DEMO, profile, specialities=tags, bio=bio)
        profiles.append(profile)
    cohort = db.scalar(select(Cohort).where(Cohort.base_id == base_id, Cohort.name == COHORT_NAME))
    if cohort is None:
        today = datetime.now(PAGE_TZ).date()
        mentor = user_by_username(db, "operator")
        spec = incubation.CohortSpec(
            COHORT_NAME,
            "每位学员每周至少 3 场直播；结营前单场 GMV 破万元；话术零违规。",
            5_000_000,  # ¥50,000 for the cohort
            120,
            today - timedelta(days=14),
            today + timedelta(days=76),
            [mentor.id] if mentor else [],
        )
        cohort = incubation.do_create_cohort(db, SYSTEM_DEMO, base_id, spec)
        for p in profiles:
            incubation.do_add_member(db, SYSTEM_DEMO, cohort, p.id)
    figures.do_refresh_rollups(db)
    return f"incubation: {len(profiles)} host profiles, cohort {cohort.id}"
