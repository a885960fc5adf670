"""Studio and booking flows that change data, each test with its own world."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from livebase.app import create_app
from livebase.runtime import Runtime
from livebase.shows import service as shows
from tests.conftest import SYSTEM_TESTS, World
from tests.studios.helpers import EVERY_DAY, iso, local, make_studio, tomorrow


def _slot(hh: int, hours: int = 1) -> dict[str, str]:
    day = tomorrow()
    return {"starts_at": iso(local(day, hh)), "ends_at": iso(local(day, hh + hours))}


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=rt)) as c:
        yield c


def test_an_operator_creates_and_edits_a_studio(client: TestClient, world: World) -> None:
    op = world["op_a"].auth
    body = {
        "name": "一号直播间",
        "capacity": 8,
        "equipment": ["环形补光灯", "绿幕"],
        "opening_hours": {"mon": {"open": "09:00", "close": "22:00"}, "sun": None},
        "description": "大场直播",
    }
    r = client.post(f"/api/v1/bases/{world.base_a}/studios", json=body, headers=op)
    assert r.status_code == 201, r.text
    studio = r.json()
    assert studio["opening_hours"]["mon"] == {"open": "09:00", "close": "22:00"}
    assert studio["opening_hours"]["tue"] is None and studio["timezone"] == "Asia/Shanghai"
    r = client.patch(
        f"/api/v1/studios/{studio['id']}",
        json={"capacity": 10, "equipment": ["提词器"], "active": False},
        headers=op,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["capacity"], r.json()["equipment"], r.json()["active"]) == (
        10,
        ["提词器"],
        False,
    )
    r = client.get(f"/api/v1/studios/{studio['id']}", headers=world["agency_a"].auth)
    assert r.json()["capacity"] == 10
    # A retired studio takes no bookings.
    r = client.post(
        f"/api/v1/studios/{studio['id']}/bookings", json=_slot(10), headers=world["agency_a"].auth
    )
    assert r.status_code == 409 and r.json()["error"] == "conflict"


def test_cancel_own_then_rebook_and_the_operator_cancels_any(
    rt: Runtime, client: TestClient, world: World
) -> None:
    studio = make_studio(rt, world.base_a)
    url = f"/api/v1/studios/{studio}/bookings"
    a1, a2 = world["merchant_a1"].auth, world["merchant_a2"].auth
    first = client.post(url, json=_slot(10, 2), headers=a1).json()
    assert first["status"] == "active" and first["org_id"] == world.brand_a1
    r = client.post(url, json=_slot(11), headers=a2)
    assert r.status_code == 409 and r.json()["error"] == "slot_taken"
    r = client.delete(f"/api/v1/bookings/{first['id']}", headers=a1)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    again = client.delete(f"/api/v1/bookings/{first['id']}", headers=a1)
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    second = client.post(url, json=_slot(11), headers=a2)
    assert second.status_code == 201, second.text
    r = client.delete(f"/api/v1/bookings/{second.json()['id']}", headers=world["op_a"].auth)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    # Touching slots are not overlaps: 10–11 and 11–12 both stand.
    assert client.post(url, json=_slot(10), headers=a1).status_code == 201
    assert client.post(url, json=_slot(11), headers=a2).status_code == 201


def test_a_show_binds_to_its_organisations_booking_when_scheduled_in_the_slot(
    rt: Runtime, client: TestClient, world: World
) -> None:
    studio = make_studio(rt, world.base_a, opening_hours=EVERY_DAY)
    day = tomorrow()
    with rt.sessions() as db, db.begin():
        inside = shows.do_create_show(
            db, SYSTEM_TESTS, world.brand_a1, "冬季上新", local(day, 10, 30), world["host_a1"].id
        ).id
        outside = shows.do_create_show(
            db, SYSTEM_TESTS, world.brand_a1, "晚场", local(day, 20), world["host_a1"].id
        ).id
        other_org = shows.do_create_show(
            db, SYSTEM_TESTS, world.agency_a, "机构场", local(day, 10, 30), world["host_ag"].id
        ).id
    a1 = world["merchant_a1"].auth
    booking = client.post(f"/api/v1/studios/{studio}/bookings", json=_slot(10, 2), headers=a1)
    bid = booking.json()["id"]
    for show_id in (outside, other_org, "show_nope"):
        r = client.post(f"/api/v1/bookings/{bid}/show", json={"show_id": show_id}, headers=a1)
        assert r.status_code == 422 and r.json()["fields"][0]["loc"] == "body.show_id", r.text
    r = client.post(f"/api/v1/bookings/{bid}/show", json={"show_id": inside}, headers=a1)
    assert r.status_code == 200 and r.json()["show_id"] == inside
    assert client.get(f"/api/v1/bookings/{bid}", headers=a1).json()["show_id"] == inside
    r = client.post(f"/api/v1/bookings/{bid}/show", json={"show_id": None}, headers=a1)
    assert r.status_code == 200 and r.json()["show_id"] is None
