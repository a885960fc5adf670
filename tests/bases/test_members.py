from __future__ import annotations

from fastapi.testclient import TestClient

from tests.conftest import World


def test_agency_staff_sign_a_host_who_can_then_schedule_shows(
    client: TestClient, world: World
) -> None:
    newcomer = world.add_user("new_host")
    r = client.post(
        f"/api/v1/orgs/{world.agency_a}/members",
        headers=world["agency_a"].auth,
        json={"username": "new_host", "role": "host"},
    )
    assert r.status_code == 201 and r.json()["role"] == "host"
    r = client.post(
        "/api/v1/shows",
        headers=newcomer.auth,
        json={"org_id": world.agency_a, "title": "首播", "scheduled_at": "2030-01-01T12:00:00Z"},
    )
    assert r.status_code == 201 and r.json()["host_id"] == newcomer.id
    members = client.get(
        f"/api/v1/orgs/{world.agency_a}/members", headers=world["agency_a"].auth
    ).json()["items"]
    assert {(m["username"], m["role"]) for m in members} >= {
        ("new_host", "host"),
        ("agency_a", "agency"),
    }


def test_members_are_added_only_by_the_orgs_staff_with_its_roles(
    client: TestClient, world: World
) -> None:
    world.add_user("someone")
    body = {"username": "someone", "role": "host"}
    url = f"/api/v1/orgs/{world.brand_a1}/members"
    assert client.post(url, headers=world["host_a1"].auth, json=body).status_code == 403
    assert client.post(url, headers=world["merchant_a2"].auth, json=body).status_code == 404
    assert client.post(url, headers=world["merchant_b1"].auth, json=body).status_code == 404
    r = client.post(
        url, headers=world["merchant_a1"].auth, json={"username": "someone", "role": "agency"}
    )
    assert r.status_code == 422
    r = client.post(
        url, headers=world["merchant_a1"].auth, json={"username": "ghost_user", "role": "host"}
    )
    assert r.status_code == 422
    assert client.get(url, headers=world["viewer"].auth).status_code == 404
    assert client.get(url, headers=world["op_a"].auth).status_code == 200
    assert client.post(url, headers=world["merchant_a1"].auth, json=body).status_code == 201
