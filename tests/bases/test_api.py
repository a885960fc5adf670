"""Bases, applications to join a base, and bonded warehouses over the HTTP API."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from livebase.bases import service as bases
from livebase.runtime import Runtime
from tests.conftest import SYSTEM_TESTS, World


def _apply(
    client: TestClient,
    world: World,
    actor: str = "viewer",
    *,
    kind: str = "brand",
    name: str = "新锐美妆",
) -> dict[str, Any]:
    r = client.post(
        f"/api/v1/bases/{world.base_a}/applications",
        headers=world[actor].auth,
        json={"org_kind": kind, "name": name, "description": "国货彩妆"},
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def test_bases_list_and_one_base_show_targets_with_actuals(
    client: TestClient, world: World, rt: Runtime
) -> None:
    with rt.sessions() as db, db.begin():
        bases.do_set_target(
            db, SYSTEM_TESTS, world.base_a, "gmv_fen", "2025", 10**12, reported=4 * 10**11
        )
        bases.do_set_target(db, SYSTEM_TESTS, world.base_a, "shows_held", "2025", 500)
    r = client.get(f"/api/v1/bases/{world.base_a}")
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "朝阳基地" and body["district"] == "朝阳区"
    targets = {t["metric"]: t for t in body["targets"]}
    assert targets["gmv_fen"] == {
        "metric": "gmv_fen",
        "period": "2025",
        "target": 10**12,
        "actual": 4 * 10**11,
    }
    assert targets["shows_held"]["actual"] == 0
    listed = client.get("/api/v1/bases").json()
    assert {b["id"] for b in listed["items"]} == {world.base_a, world.base_b}
    assert listed["next_cursor"] is None


def test_unknown_base_is_404(client: TestClient) -> None:
    r = client.get("/api/v1/bases/base_nope")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_apply_then_approve_creates_the_brand_and_makes_the_applicant_its_merchant(
    client: TestClient, world: World
) -> None:
    app = _apply(client, world)
    assert app["status"] == "pending" and app["id"].startswith("app_")
    assert app["org_id"] is None
    r = client.post(f"/api/v1/applications/{app['id']}/approve", headers=world["op_a"].auth)
    assert r.status_code == 200, r.text
    decided = r.json()
    assert decided["status"] == "approved" and decided["decided_at"].endswith("Z")
    org_id = decided["org_id"]
    orgs = client.get(f"/api/v1/bases/{world.base_a}/orgs").json()["items"]
    assert {"id": org_id, "kind": "brand", "name": "新锐美妆", "description": "国货彩妆"} in orgs
    roles = client.get("/api/v1/me", headers=world["viewer"].auth).json()["roles"]
    assert {"role": "merchant", "base_id": world.base_a, "org_id": org_id} in roles
    # The new merchant can list products for the brand at once.
    r = client.post(
        "/api/v1/products",
        headers=world["viewer"].auth,
        json={"org_id": org_id, "title": "口红", "skus": [{"price_fen": 9900, "stock": 3}]},
    )
    assert r.status_code == 201, r.text


def test_an_approved_agency_application_grants_the_agency_role(
    client: TestClient, world: World
) -> None:
    app = _apply(client, world, kind="agency", name="星光MCN")
    decided = client.post(
        f"/api/v1/applications/{app['id']}/approve", headers=world["op_a"].auth
    ).json()
    roles = client.get("/api/v1/me", headers=world["viewer"].auth).json()["roles"]
    assert {"role": "agency", "base_id": world.base_a, "org_id": decided["org_id"]} in roles


def test_reject_records_the_reason_and_creates_nothing(client: TestClient, world: World) -> None:
    app = _apply(client, world)
    r = client.post(
        f"/api/v1/applications/{app['id']}/reject",
        headers=world["op_a"].auth,
        json={"reason": "营业执照不清晰"},
    )
    assert r.status_code == 200
    assert r.json()["status"] == "rejected" and r.json()["reason"] == "营业执照不清晰"
    assert r.json()["org_id"] is None
    assert client.get("/api/v1/me", headers=world["viewer"].auth).json()["roles"] == []
    # The applicant sees the decision and why.
    mine = client.get(f"/api/v1/applications/{app['id']}", headers=world["viewer"].auth)
    assert mine.json()["reason"] == "营业执照不清晰"


@pytest.mark.parametrize(
    "first, second",
    [("approve", "approve"), ("approve", "reject"), ("reject", "approve"), ("reject", "reject")],
)
def test_deciding_an_application_twice_is_409(
    client: TestClient, world: World, first: str, second: str
) -> None:
    app = _apply(client, world)
    url = f"/api/v1/applications/{app['id']}"
    kw: dict[str, Any] = {"headers": world["op_a"].auth}
    r1 = client.post(
        f"{url}/{first}", json={"reason": "不符合"} if first == "reject" else None, **kw
    )
    assert r1.status_code == 200
    r2 = client.post(
        f"{url}/{second}", json={"reason": "再次"} if second == "reject" else None, **kw
    )
    assert r2.status_code == 409 and r2.json()["error"] == "conflict"
    assert client.get(url, **kw).json()["status"] == r1.json()["status"]
    orgs = client.get(f"/api/v1/bases/{world.base_a}/orgs").json()["items"]
    assert sum(o["name"] == "新锐美妆" for o in orgs) == (1 if first == "approve" else 0)


def test_a_second_pending_application_with_the_same_name_is_409(
    client: TestClient, world: World
) -> None:
    _apply(client, world)
    r = client.post(
        f"/api/v1/bases/{world.base_a}/applications",
        headers=world["viewer"].auth,
        json={"org_kind": "brand", "name": "新锐美妆"},
    )
    assert r.status_code == 409 and r.json()["error"] == "conflict"


def test_applying_to_an_unknown_base_is_404_and_needs_sign_in(
    client: TestClient, world: World
) -> None:
    body = {"org_kind": "brand", "name": "x"}
    r = client.post("/api/v1/bases/base_nope/applications", headers=world["viewer"].auth, json=body)
    assert r.status_code == 404
    r = client.post(f"/api/v1/bases/{world.base_a}/applications", json=body)
    assert r.status_code == 401 and r.json()["error"] == "unauthenticated"


def test_operator_lists_applications_by_status_a_page_at_a_time(
    client: TestClient, world: World
) -> None:
    # Five founders: one person may have only three pending applications at a base.
    made = [
        _apply(client, world, world.add_user(f"founder{i}").username, name=f"品牌{i}")["id"]
        for i in range(5)
    ]
    client.post(
        f"/api/v1/applications/{made[0]}/reject",
        headers=world["op_a"].auth,
        json={"reason": "重复"},
    )
    url = f"/api/v1/bases/{world.base_a}/applications"
    auth = world["op_a"].auth
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2, "status": "pending"}
        if cursor:
            params["cursor"] = cursor
        page = client.get(url, params=params, headers=auth).json()
        assert len(page["items"]) <= 2
        seen += [a["id"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(made[1:]) and len(seen) == 4
    rejected = client.get(url, params={"status": "rejected"}, headers=auth).json()["items"]
    assert [a["id"] for a in rejected] == [made[0]]
    r = client.get(url, params={"status": "nonsense"}, headers=auth)
    assert r.status_code == 422


@pytest.mark.parametrize("limit", [0, 101, -1])
def test_list_limit_outside_1_to_100_is_422(client: TestClient, world: World, limit: int) -> None:
    r = client.get(
        f"/api/v1/bases/{world.base_a}/applications",
        params={"limit": limit},
        headers=world["op_a"].auth,
    )
    assert r.status_code == 422 and r.json()["error"] == "validation_failed"


def test_operator_creates_a_bonded_warehouse_and_base_staff_list_it(
    client: TestClient, world: World
) -> None:
    r = client.post(
        f"/api/v1/bases/{world.base_a}/warehouses",
        headers=world["op_a"].auth,
        json={"name": "天竺保税仓", "customs_code": "0112", "ems_no": "T0112W000123"},
    )
    assert r.status_code == 201, r.text
    wh = r.json()
    assert wh["id"].startswith("wh_")
    assert (wh["base_id"], wh["customs_code"], wh["ems_no"]) == (
        world.base_a,
        "0112",
        "T0112W000123",
    )
    listed = client.get(
        f"/api/v1/bases/{world.base_a}/warehouses", headers=world["merchant_a1"].auth
    ).json()["items"]
    assert {w["id"] for w in listed} == {world.warehouse_a, wh["id"]}


@pytest.mark.parametrize(
    "customs_code, ems_no, loc",
    [
        ("101", "T0101W000001", "body.customs_code"),
        ("01011", "T0101W000001", "body.customs_code"),
        ("01a1", "T0101W000001", "body.customs_code"),
        ("０１０１", "T0101W000001", "body.customs_code"),  # full-width digits are not digits here
        ("0101", "T0101W00001", "body.ems_no"),
        ("0101", "t0101w000001", "body.ems_no"),
        ("0101", "0101W0000001", "body.ems_no"),
        ("0101", "", "body.ems_no"),
        ("0101", "T０101W000001", "body.ems_no"),
        ("0101", "T0101W000001\n", "body.ems_no"),
    ],
)
def test_warehouse_codes_are_validated(
    client: TestClient, world: World, customs_code: str, ems_no: str, loc: str
) -> None:
    r = client.post(
        f"/api/v1/bases/{world.base_a}/warehouses",
        headers=world["op_a"].auth,
        json={"name": "仓", "customs_code": customs_code, "ems_no": ems_no},
    )
    assert r.status_code == 422, r.text
    assert loc in [f["loc"] for f in r.json()["fields"]]


def test_one_applicant_may_have_at_most_three_pending_applications_per_base(
    client: TestClient, world: World
) -> None:
    first = [_apply(client, world, name=f"品牌{i}")["id"] for i in range(3)]
    url = f"/api/v1/bases/{world.base_a}/applications"
    r = client.post(
        url, headers=world["viewer"].auth, json={"org_kind": "agency", "name": "第四个名字"}
    )
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "conflict" and "3 applications waiting" in r.json()["detail"]
    mine = client.get("/api/v1/me/applications", headers=world["viewer"].auth).json()["items"]
    assert sorted(a["id"] for a in mine) == sorted(first)
    # Another base counts apart, and so does another applicant at the same base.
    r = client.post(
        f"/api/v1/bases/{world.base_b}/applications",
        headers=world["viewer"].auth,
        json={"org_kind": "brand", "name": "第四个名字"},
    )
    assert r.status_code == 201, r.text
    _apply(client, world, "merchant_a1", name="第四个名字")
    # Once one is decided, there is room again.
    r = client.post(
        f"/api/v1/applications/{first[0]}/reject",
        headers=world["op_a"].auth,
        json={"reason": "资料不全"},
    )
    assert r.status_code == 200, r.text
    _apply(client, world, name="第四个名字")
