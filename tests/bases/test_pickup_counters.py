from __future__ import annotations

import subprocess

from fastapi.testclient import TestClient
from sqlalchemy import select

from livebase.accounts.models import RoleGrant
from livebase.runtime import Runtime
from tests.clikit import invoke
from tests.conftest import World

BODY = {"name": "首都机场 T3 提货点", "customs_code": "0101"}


def test_operator_opens_a_counter_that_buyers_see(client: TestClient, world: World) -> None:
    r = client.post(
        f"/api/v1/bases/{world.base_a}/pickup-counters",
        headers=world["op_a"].auth,
        json={**BODY, "warehouse_id": world.warehouse_a},
    )
    assert r.status_code == 201
    counter = r.json()
    assert counter["id"].startswith("pc_") and counter["warehouse_id"] == world.warehouse_a
    listed = client.get(f"/api/v1/bases/{world.base_a}/pickup-counters").json()["items"]
    assert [c["id"] for c in listed] == [counter["id"]]  # public: no token


def test_counters_are_refused_to_others_and_to_foreign_warehouses(
    client: TestClient, world: World
) -> None:
    url = f"/api/v1/bases/{world.base_a}/pickup-counters"
    body = {**BODY, "warehouse_id": world.warehouse_a}
    for actor in ("op_b", "merchant_a1", "mod_a", "viewer"):
        assert client.post(url, headers=world[actor].auth, json=body).status_code == 403, actor
    assert client.post(url, json=body).status_code == 401
    other = client.post(
        f"/api/v1/bases/{world.base_b}/warehouses",
        headers=world["op_b"].auth,
        json={"name": "顺义仓", "customs_code": "0102", "ems_no": "T0102W000001"},
    ).json()["id"]
    r = client.post(url, headers=world["op_a"].auth, json={**BODY, "warehouse_id": other})
    assert r.status_code == 422 and r.json()["fields"][0]["loc"] == "body.warehouse_id"
    for bad in (
        {**body, "customs_code": "１０１"},
        {**body, "customs_code": 101},
        {**body, "name": ""},
        {**body, "extra": True},
    ):
        assert client.post(url, headers=world["op_a"].auth, json=bad).status_code == 422, bad
    assert client.get("/api/v1/bases/base_missing/pickup-counters").status_code == 404
    assert client.get(url).json()["items"] == []


def test_a_clerk_is_granted_a_counter_by_the_cli(
    client: TestClient, world: World, rt: Runtime
) -> None:
    url = rt.settings.sqlalchemy_url.replace("postgresql+psycopg://", "postgresql://")
    counters = []
    for name in ("T3 提货点", "大兴机场提货点"):
        r = client.post(
            f"/api/v1/bases/{world.base_a}/pickup-counters",
            headers=world["op_a"].auth,
            json={**BODY, "name": name, "warehouse_id": world.warehouse_a},
        )
        counters.append(r.json()["id"])
    world.add_user("clerk_li")
    env = {
        "LIVEBASE_DEMO": "1",
        "LIVEBASE_DATABASE_URL": url,
        "LIVEBASE_DATA_DIR": str(rt.settings.data_dir),
    }

    def grant(counter: str) -> subprocess.CompletedProcess[str]:
        return invoke(env, "users", "grant", "clerk_li", "clerk", "--counter", counter, ok=False)

    for counter in counters:  # one clerk may serve two counters
        proc = grant(counter)
        assert proc.returncode == 0, proc.stderr
    proc = grant("pc_missing")
    assert proc.returncode == 1 and "No pickup counter" in proc.stderr
    with rt.sessions() as db:
        grants = db.scalars(select(RoleGrant).where(RoleGrant.role == "clerk")).all()
        assert sorted((g.counter_id, g.base_id) for g in grants) == sorted(
            (c, world.base_a) for c in counters
        )
