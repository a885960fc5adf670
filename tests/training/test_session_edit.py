"""An operator changes a session before it starts: more seats go to the waiting list in
line order, in the same transaction; fewer seats than are taken is a 409; bad values are
422; another base's operator and plain users are refused; none of these change anything.
Through the API and the roster page; the race of a capacity change with enrolments runs
on real threads in tests/training/test_race.py's manner."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from livebase.db import utcnow
from livebase.runtime import Runtime
from livebase.schemas import rfc3339
from livebase.training import service
from livebase.training.models import Enrolment
from tests.conftest import SYSTEM_TESTS, World
from tests.training.kit import make_session, make_users, start_session
from tests.web.conftest import Browser


def _session(client: TestClient, session_id: str) -> dict[str, Any]:
    r = client.get(f"/api/v1/sessions/{session_id}")
    assert r.status_code == 200, r.text
    return dict(r.json())


def _patch(client: TestClient, world: World, session_id: str, body: Any, user: str = "op_a"):
    return client.patch(f"/api/v1/sessions/{session_id}", json=body, headers=world[user].auth)


def test_more_seats_go_to_the_waiting_list_in_line_order_and_fewer_are_refused(
    rt: Runtime, client: TestClient, world: World
) -> None:
    c = make_session(client, world, capacity=2)
    people = make_users(rt, 5)
    ids = []
    for u in people:
        r = client.post(f"/api/v1/sessions/{c.session_id}/enrolments", headers=u.auth)
        assert r.status_code == 201, r.text
        ids.append(r.json()["id"])
    before = _session(client, c.session_id)
    assert (before["seats_taken"], before["waitlisted"]) == (2, 3)

    # Below the seats taken: 409, nothing changes.
    r = _patch(client, world, c.session_id, {"capacity": 1})
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    assert "2 seats are taken" in r.json()["detail"]
    assert _session(client, c.session_id) == before

    # Two more seats: the first two in line get them, the third moves up to first.
    r = _patch(client, world, c.session_id, {"capacity": 4, "room": "培训中心 305"})
    assert r.status_code == 200, r.text
    assert r.json()["promoted"] == ids[2:4]
    assert (r.json()["capacity"], r.json()["seats_taken"], r.json()["waitlisted"]) == (4, 4, 1)
    assert r.json()["room"] == "培训中心 305" and r.json()["teacher_name"] == "王老师"
    last = client.get(f"/api/v1/enrolments/{ids[4]}", headers=people[4].auth).json()
    assert (last["status"], last["position"]) == ("waitlisted", 1)
    promoted = client.get(f"/api/v1/enrolments/{ids[2]}", headers=people[2].auth).json()
    assert promoted["status"] == "confirmed"
    # A seat cancelled now goes to the last in line, as before.
    r = client.delete(f"/api/v1/enrolments/{ids[0]}", headers=people[0].auth)
    assert r.json()["promoted"]["id"] == ids[4]
    # Down to exactly the seats taken is allowed.
    r = _patch(client, world, c.session_id, {"capacity": 4})
    assert r.status_code == 200 and r.json()["promoted"] == []


def test_times_and_teacher_change_and_a_started_session_does_not(
    rt: Runtime, client: TestClient, world: World
) -> None:
    c = make_session(client, world, capacity=2)
    start = utcnow() + timedelta(days=5)
    body = {"starts_at": rfc3339(start), "ends_at": rfc3339(start + timedelta(hours=2))}
    r = _patch(client, world, c.session_id, body | {"teacher_name": "赵老师"})
    assert r.status_code == 200, r.text
    assert r.json()["starts_at"] == body["starts_at"] and r.json()["teacher_name"] == "赵老师"
    # A teacher user names the teacher; taking the user off keeps the name.
    host = world["host_a1"]
    r = _patch(client, world, c.session_id, {"teacher_user_id": host.id})
    assert r.status_code == 200, r.text
    named = r.json()["teacher_name"]
    assert r.json()["teacher_user_id"] == host.id and named != "赵老师"
    r = _patch(client, world, c.session_id, {"teacher_user_id": None})
    assert r.status_code == 200, r.text
    assert r.json()["teacher_user_id"] is None and r.json()["teacher_name"] == named
    start_session(rt, c.session_id)
    before = _session(client, c.session_id)
    r = _patch(client, world, c.session_id, {"capacity": 10})
    assert r.status_code == 409 and "started" in r.json()["detail"]
    assert _session(client, c.session_id) == before


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({}, None),
        ({"capacity": 0}, "capacity"),
        ({"capacity": 100_000}, "capacity"),
        ({"capacity": "3"}, "capacity"),
        ({"capacity": None}, "capacity"),
        ({"ends_at": "2020-01-01T00:00:00Z"}, "ends_at"),  # before its start
        ({"starts_at": "2020-01-01T00:00:00Z"}, "starts_at"),  # into the past
        ({"starts_at": "2030-01-01"}, "starts_at"),
        ({"teacher_name": ""}, "teacher_name"),
        ({"teacher_user_id": "usr_nobody"}, "teacher_user_id"),
        ({"room": "", "studio_id": None}, "room"),
        ({"price_fen": 1}, "price_fen"),
    ],
)
def test_bad_changes_are_422_and_change_nothing(
    client: TestClient, world: World, body: dict[str, Any], loc: str | None
) -> None:
    c = make_session(client, world)
    before = _session(client, c.session_id)
    r = _patch(client, world, c.session_id, body)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "validation_failed" and r.json()["detail"]
    if loc is not None:
        assert loc in str(r.json())
    assert _session(client, c.session_id) == before


@pytest.mark.parametrize(("user", "status"), [("op_b", 403), ("merchant_a1", 403), ("viewer", 403)])
def test_only_the_bases_operator_changes_a_session(
    client: TestClient, world: World, user: str, status: int
) -> None:
    c = make_session(client, world)
    before = _session(client, c.session_id)
    r = _patch(client, world, c.session_id, {"capacity": 9}, user)
    assert r.status_code == status and r.json()["error"] == "forbidden"
    assert _session(client, c.session_id) == before
    anonymous = client.patch(f"/api/v1/sessions/{c.session_id}", json={"capacity": 9})
    assert anonymous.status_code == 401
    assert _patch(client, world, "tss_nothing", {"capacity": 9}).status_code == 404


def test_a_capacity_change_racing_enrolments_never_overfills(
    rt: Runtime, client: TestClient, world: World
) -> None:
    """Eight people enrol on threads while the operator raises the capacity from 2 to 5
    on another: whatever the order the locks are granted in, exactly five hold a seat,
    the rest wait in line, and the seats counter equals the confirmed rows."""
    c = make_session(client, world, capacity=2)
    people = make_users(rt, 8)
    start = threading.Barrier(len(people) + 1)
    errors: list[BaseException] = []

    def enrol(user_id: str) -> None:
        try:
            start.wait(timeout=30)
            with rt.sessions() as db, db.begin():
                service.do_enrol(db, SYSTEM_TESTS, service.get_session(db, c.session_id), user_id)
        except BaseException as exc:
            errors.append(exc)

    def widen() -> None:
        try:
            start.wait(timeout=30)
            with rt.sessions() as db, db.begin():
                sess = service.get_session(db, c.session_id)
                service.do_update_session(db, SYSTEM_TESTS, sess, {"capacity": 5})
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=enrol, args=(u.id,)) for u in people]
    threads.append(threading.Thread(target=widen))
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with rt.sessions() as db:
        rows = db.query(Enrolment).filter(Enrolment.session_id == c.session_id).all()
        confirmed = [e for e in rows if e.status == "confirmed"]
        waiting = sorted((e for e in rows if e.status == "waitlisted"), key=lambda e: e.queue_no)
        sess = service.get_session(db, c.session_id)
        assert (len(confirmed), len(waiting), sess.seats_taken, sess.capacity) == (5, 3, 5, 5)
        # Nobody who got a seat enrolled after someone still waiting, except those seated
        # before the widening found the list (both orders keep the line).
        assert max(e.queue_no for e in confirmed) < min(e.queue_no for e in waiting)


def test_the_roster_page_edits_the_session(
    rt: Runtime, client: TestClient, world: World, browser: Browser
) -> None:
    c = make_session(client, world, capacity=1)
    a, b = make_users(rt, 2)
    for u in (a, b):
        client.post(f"/api/v1/sessions/{c.session_id}/enrolments", headers=u.auth)
    browser.sign_in("op_a")
    page = browser.get(f"/ops/training/sessions/{c.session_id}")
    assert 'data-testid="edit-session"' in page.text
    form = {
        "teacher_name": "王老师",
        "room": "培训中心 201",
        "studio_id": "",
        "starts_at": "2031-05-01T09:00",
        "ends_at": "2031-05-01T12:00",
        "capacity": "0",
    }
    bad = browser.post(f"/ops/training/sessions/{c.session_id}/edit", form)
    assert bad.status_code == 422 and 'data-field="capacity"' in bad.text
    assert _session(client, c.session_id)["capacity"] == 1
    good = browser.post(f"/ops/training/sessions/{c.session_id}/edit", form | {"capacity": "3"})
    assert good.status_code == 303 and "done=updated" in good.headers["location"]
    after = _session(client, c.session_id)
    assert (after["capacity"], after["seats_taken"], after["waitlisted"]) == (3, 2, 0)
    assert after["starts_at"] == "2031-05-01T01:00:00Z"
    page = browser.get(good.headers["location"])
    assert 'data-testid="done"' in page.text and "1" in page.text
    browser.sign_in("op_b")
    r = browser.post(f"/ops/training/sessions/{c.session_id}/edit", form | {"capacity": "9"})
    assert r.status_code == 403
    assert _session(client, c.session_id)["capacity"] == 3
