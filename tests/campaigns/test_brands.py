"""Brand tags and directory, the incubation rule (meets, does not, override) applied by
its job through bases.do_set_incubated, and launches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from livebase.bases.models import Organisation
from livebase.campaigns.brands import apply_incubation
from livebase.campaigns.models import Launch, OrgTag
from livebase.runtime import Runtime
from tests.campaigns.helpers import NOW, make_show, make_sku, seed_order
from tests.conftest import World


def _org(rt: Runtime, org_id: str) -> Organisation:
    with rt.sessions() as db:
        org = db.get(Organisation, org_id)
        assert org is not None
        db.expunge(org)
        return org


def _joined_brand(client: TestClient, world: World, name: str) -> str:
    """A brand that joined base A through an application the operator approved."""
    applicant = world.add_user(f"app_{len(world.actors)}")
    r = client.post(
        f"/api/v1/bases/{world.base_a}/applications",
        json={"org_kind": "brand", "name": name, "description": ""},
        headers=applicant.auth,
    )
    app_id = r.json()["id"]
    r = client.post(f"/api/v1/applications/{app_id}/approve", headers=world["op_a"].auth)
    org_id: str = r.json()["org_id"]
    return org_id


def _run_job(rt: Runtime) -> None:
    with rt.sessions() as db, db.begin():
        apply_incubation(db, {})


def _on_air(rt: Runtime, world: World, org_id: str, n: int, gmv_each: int, **kw: Any) -> None:
    host = world.add_user(
        f"host_{org_id[-6:]}_{len(world.actors)}", "host", base_id=world.base_a, org_id=org_id
    ).id
    sku = make_sku(rt, org_id)
    for _ in range(n):
        show = make_show(rt, org_id, host, status="ended", **kw)
        seed_order(
            rt,
            world,
            org_id=org_id,
            base_id=world.base_a,
            show_id=show,
            sku=sku,
            total_fen=gmv_each,
            paid_at=datetime.now(UTC),  # after joining (NOW is this module's import time)
        )


def test_the_rule_flags_a_brand_that_meets_it_and_not_one_that_does_not(
    client: TestClient, world: World, rt: Runtime
) -> None:
    op = world["op_a"].auth
    r = client.put(
        f"/api/v1/bases/{world.base_a}/incubation-rule",
        json={"min_shows": 2, "min_gmv_fen": 20_000, "window_days": 365},
        headers=op,
    )
    assert r.status_code == 200
    meets = _joined_brand(client, world, "新锐茶饮")
    short = _joined_brand(client, world, "小众香氛")
    _on_air(rt, world, meets, 2, 10_000)
    _on_air(rt, world, short, 1, 50_000)  # enough money, one show short
    # brand_a1 was created by the base itself, not through an application: never by rule.
    _on_air(rt, world, world.brand_a1, 5, 100_000)
    _run_job(rt)
    assert _org(rt, meets).incubated and _org(rt, meets).launched_at is not None
    assert not _org(rt, short).incubated
    assert not _org(rt, world.brand_a1).incubated
    progress = client.get(f"/api/v1/bases/{world.base_a}/incubation", headers=op).json()
    by_id = {p["org_id"]: p for p in progress["items"]}
    assert by_id[meets]["meets_rule"] and by_id[meets]["shows"] == 2
    assert by_id[meets]["gmv_fen"] == 20_000
    assert (by_id[short]["shows"], by_id[short]["meets_rule"]) == (1, False)
    assert by_id[world.brand_a1]["joined_at"] is None
    # The flag is never lowered by the job, even under a stricter rule.
    client.put(
        f"/api/v1/bases/{world.base_a}/incubation-rule",
        json={"min_shows": 9, "min_gmv_fen": 20_000, "window_days": 365},
        headers=op,
    )
    _run_job(rt)
    assert _org(rt, meets).incubated


def test_shows_and_gmv_after_the_window_do_not_count(
    client: TestClient, world: World, rt: Runtime
) -> None:
    client.put(
        f"/api/v1/bases/{world.base_a}/incubation-rule",
        json={"min_shows": 1, "min_gmv_fen": 1, "window_days": 30},
        headers=world["op_a"].auth,
    )
    late = _joined_brand(client, world, "迟到品牌")
    # On air 40 days after joining (started_at moved forward), outside a 30-day window.
    _on_air(
        rt,
        world,
        late,
        1,
        10_000,
        started_at=NOW + timedelta(days=40),
        ended_at=NOW + timedelta(days=40, hours=2),
    )
    _run_job(rt)
    assert not _org(rt, late).incubated


def test_an_operators_override_decides_either_way(
    client: TestClient, world: World, rt: Runtime
) -> None:
    op = world["op_a"].auth
    url = f"/api/v1/orgs/{world.brand_a2}/incubation"
    r = client.put(url, json={"override": "yes", "note": "外地孵化后迁入"}, headers=op)
    assert r.status_code == 200 and r.json()["incubated"] and r.json()["override"] == "yes"
    assert _org(rt, world.brand_a2).launched_at is not None
    r = client.put(url, json={"override": "no"}, headers=op)
    assert r.status_code == 200 and not r.json()["incubated"]
    # A "no" holds against the rule: the brand meets it, the job leaves it alone.
    joined = _joined_brand(client, world, "排除品牌")
    client.put(
        f"/api/v1/bases/{world.base_a}/incubation-rule",
        json={"min_shows": 0, "min_gmv_fen": 0, "window_days": 365},
        headers=op,
    )
    client.put(f"/api/v1/orgs/{joined}/incubation", json={"override": "no"}, headers=op)
    _run_job(rt)
    assert not _org(rt, joined).incubated
    client.put(f"/api/v1/orgs/{joined}/incubation", json={"override": None}, headers=op)
    _run_job(rt)
    assert _org(rt, joined).incubated
    # Who may: not a merchant, not another base's operator; nothing changed.
    for who in ("merchant_a2", "op_b"):
        r = client.put(url, json={"override": "yes"}, headers=world[who].auth)
        assert r.status_code == 403, who
    assert not _org(rt, world.brand_a2).incubated
    r = client.put(url, json={"override": "maybe"}, headers=op)
    assert r.status_code == 422


def test_operators_tag_brands_and_the_directory_filters_by_tag(
    client: TestClient, world: World, rt: Runtime
) -> None:
    op = world["op_a"].auth
    r = client.put(
        f"/api/v1/orgs/{world.brand_a1}/tags", json={"tags": ["rural", "laozihao"]}, headers=op
    )
    assert r.status_code == 200 and r.json()["tags"] == ["laozihao", "rural"]
    client.put(f"/api/v1/orgs/{world.brand_a2}/tags", json={"tags": ["guochao"]}, headers=op)
    everyone = client.get(f"/api/v1/bases/{world.base_a}/brands").json()["items"]
    # Both brands, no agency (ids made in the same millisecond have no fixed order).
    assert sorted(b["id"] for b in everyone) == sorted([world.brand_a1, world.brand_a2])
    old = client.get(f"/api/v1/bases/{world.base_a}/brands?tag=laozihao").json()["items"]
    assert [b["id"] for b in old] == [world.brand_a1]
    assert client.get(f"/api/v1/bases/{world.base_a}/brands?tag=cheap").status_code == 422
    for who, status in (("merchant_a1", 403), ("op_b", 403)):
        r = client.put(
            f"/api/v1/orgs/{world.brand_a1}/tags", json={"tags": []}, headers=world[who].auth
        )
        assert r.status_code == status, who
    for body in ({"tags": ["cheap"]}, {"tags": "rural"}, {"tags": [], "x": 1}):
        r = client.put(f"/api/v1/orgs/{world.brand_a1}/tags", json=body, headers=op)
        assert r.status_code == 422, body
    r = client.put(f"/api/v1/orgs/{world.agency_a}/tags", json={"tags": ["rural"]}, headers=op)
    assert r.status_code == 422
    with rt.sessions() as db:
        assert sorted(db.scalars(select(OrgTag.tag).where(OrgTag.org_id == world.brand_a1))) == [
            "laozihao",
            "rural",
        ]
    page = client.get(f"/bases/{world.base_a}/brands?tag=rural")
    assert page.status_code == 200 and "品牌甲" in page.text and "品牌乙" not in page.text


def test_launches_by_month_and_who_may_add_them(
    client: TestClient, world: World, rt: Runtime
) -> None:
    op = world["op_a"].auth
    path = f"/api/v1/bases/{world.base_a}/launches"
    show = make_show(rt, world.brand_a1, world["host_a1"].id)
    body = {
        "org_id": world.brand_a1,
        "name": "故宫联名礼盒",
        "launch_date": "2026-12-12",
        "show_id": show,
    }
    r = client.post(path, json=body, headers=op)
    assert r.status_code == 201, r.text
    client.post(
        path,
        json=body | {"name": "新年限定", "launch_date": "2027-01-08", "show_id": None},
        headers=op,
    )
    dec = client.get(f"{path}?month=2026-12").json()
    assert [x["name"] for x in dec["items"]] == ["故宫联名礼盒"] and dec["month"] == "2026-12"
    assert [x["name"] for x in client.get(f"{path}?month=2027-01").json()["items"]] == ["新年限定"]
    bad = [
        (body | {"launch_date": "2026-13-01"}, 422),
        (body | {"launch_date": 1765497600}, 422),
        (body | {"org_id": world.brand_b1}, 422),
        (body | {"org_id": world.agency_a}, 422),
        (
            body
            | {
                "show_id": make_show(
                    rt,
                    world.brand_a2,
                    world.add_user(
                        "host_a2", "host", base_id=world.base_a, org_id=world.brand_a2
                    ).id,
                )
            },
            422,
        ),
        (body | {"name": ""}, 422),
    ]
    for b, status in bad:
        assert client.post(path, json=b, headers=op).status_code == status, b
    for who in ("merchant_a1", "op_b"):
        assert client.post(path, json=body, headers=world[who].auth).status_code == 403, who
    assert client.get(f"{path}?month=2026-1").status_code == 422
    with rt.sessions() as db:
        assert len(db.scalars(select(Launch)).all()) == 2
    page = client.get(f"/bases/{world.base_a}/launches?month=2026-12")
    assert page.status_code == 200 and "故宫联名礼盒" in page.text
    launch_id = r.json()["id"]
    assert (
        client.delete(f"/api/v1/launches/{launch_id}", headers=world["op_b"].auth).status_code
        == 403
    )
    assert client.delete(f"/api/v1/launches/{launch_id}", headers=op).status_code == 204


def test_a_month_at_the_end_of_the_calendar_is_refused_not_a_500(
    client: TestClient, world: World
) -> None:
    for month in ("9999-12", "0000-01"):
        r = client.get(f"/api/v1/bases/{world.base_a}/launches?month={month}")
        assert r.status_code == 422, month
    assert client.get(f"/bases/{world.base_a}/launches?month=9999-12").status_code == 200
