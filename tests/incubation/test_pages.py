"""The incubation pages through a cookie session: forms refuse bad input and change
nothing, another base's operator never sees this base's hosts or cohorts."""

from __future__ import annotations

from livebase.incubation.models import Cohort, HostProfile
from tests.conftest import World
from tests.web.conftest import Browser, browser  # noqa: F401  (the fixture)

COHORT = {
    "name": "春季营",
    "goals": "每周三场",
    "goal_gmv_yuan": "50000",
    "goal_hours": "60",
    "starts_on": "2026-03-01",
    "ends_on": "2026-05-31",
    "mentors": "agency_a",
}


def _count(world: World, model: type) -> int:
    with world.rt.sessions() as db:
        return db.query(model).count()


def test_operator_pages_open_a_cohort_and_refuse_bad_forms(
    browser: Browser,  # noqa: F811
    world: World,
) -> None:
    browser.sign_in("host_a1")
    page = browser.get("/host/profile")
    assert page.status_code == 200 and "host_a1" in page.text
    profile_id = page.text.split('action="/host/profile/')[1].split('"')[0]
    r = browser.post(f"/host/profile/{profile_id}", {"specialities": "美妆, 护肤", "bio": "你好"})
    assert r.status_code == 303
    bad = browser.post(f"/host/profile/{profile_id}", {"specialities": ",".join("abcdefghij")})
    assert bad.status_code == 422 and 'data-testid="form-error"' in bad.text

    browser.sign_in("op_a")
    hosts = browser.get("/ops/hosts")
    assert hosts.status_code == 200 and 'data-name="host_a1"' in hosts.text
    for wrong in ({"ends_on": "2026-01-01"}, {"starts_on": "3月1日"}, {"mentors": "nobody"}):
        r = browser.post(f"/ops/hosts/cohorts?base_id={world.base_a}", COHORT | wrong)
        assert r.status_code == 422, wrong
    assert _count(world, Cohort) == 0
    r = browser.post(f"/ops/hosts/cohorts?base_id={world.base_a}", COHORT)
    assert r.status_code == 303
    cohort_url = r.headers["location"]
    r = browser.post(f"{cohort_url}/members", {"profile_id": profile_id})
    assert r.status_code == 303
    page = browser.get(cohort_url)
    assert page.status_code == 200 and 'data-testid="cohort-chart"' in page.text
    levels = {"name_0": "新人", "hours_0": "0", "name_1": "达人", "hours_1": "x"}
    assert browser.post(f"/ops/hosts/levels?base_id={world.base_a}", levels).status_code == 422

    browser.sign_in("op_b")
    assert browser.get(cohort_url).status_code == 404
    other = browser.get(f"/ops/hosts?base_id={world.base_a}")  # falls back to their own base
    assert other.status_code == 200 and 'data-name="host_a1"' not in other.text
    assert browser.post(f"{cohort_url}/members", {"profile_id": profile_id}).status_code == 404
    browser.sign_in("viewer")
    assert browser.get("/host/profile").status_code == 403
    assert browser.get("/ops/hosts").status_code == 403
    assert _count(world, HostProfile) == 1
