"""Training over the API: courses and sessions by the base's operator, enrolment with a
waiting list, attendance and scores, certificates with their verification; the wrong
users and bad input are refused and change nothing."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import parse_qs, urlparse

from fastapi.testclient import TestClient

from livebase.db import utcnow
from livebase.runtime import Runtime
from livebase.schemas import rfc3339
from tests.conftest import World
from tests.training.kit import make_session, make_users, start_session


def _roster(client: TestClient, world: World, session_id: str) -> list[dict[str, object]]:
    r = client.get(f"/api/v1/sessions/{session_id}/enrolments", headers=world["op_a"].auth)
    assert r.status_code == 200, r.text
    items: list[dict[str, object]] = r.json()["items"]
    return items


def test_enrolment_fills_the_seats_then_the_waiting_list_and_a_cancel_promotes_the_first(
    rt: Runtime, client: TestClient, world: World
) -> None:
    c = make_session(client, world, capacity=2)
    a, b, x, y = make_users(rt, 4)
    got = [
        client.post(f"/api/v1/sessions/{c.session_id}/enrolments", headers=u.auth)
        for u in (a, b, x, y)
    ]
    assert [r.status_code for r in got] == [201] * 4
    assert [(r.json()["status"], r.json()["position"]) for r in got] == [
        ("confirmed", None),
        ("confirmed", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    # The same person again: refused, nothing added.
    again = client.post(f"/api/v1/sessions/{c.session_id}/enrolments", headers=a.auth)
    assert again.status_code == 409 and again.json()["error"] == "conflict"
    session = client.get(f"/api/v1/sessions/{c.session_id}").json()
    assert (session["seats_taken"], session["seats_left"], session["waitlisted"]) == (2, 0, 2)

    # b cancels: x (first in line) gets the seat in the same transaction, y moves up.
    r = client.delete(f"/api/v1/enrolments/{got[1].json()['id']}", headers=b.auth)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "cancelled"
    assert r.json()["promoted"]["id"] == got[2].json()["id"]
    assert r.json()["promoted"]["status"] == "confirmed"
    y_now = client.get(f"/api/v1/enrolments/{got[3].json()['id']}", headers=y.auth).json()
    assert y_now["position"] == 1
    # y leaves the queue: no seat changes hands.
    assert (
        client.delete(f"/api/v1/enrolments/{y_now['id']}", headers=y.auth).json()["promoted"]
        is None
    )
    session = client.get(f"/api/v1/sessions/{c.session_id}").json()
    assert (session["seats_taken"], session["waitlisted"]) == (2, 0)
    # a cancels with nobody waiting: the seat is free again; a cancelled twice is 409.
    client.delete(f"/api/v1/enrolments/{got[0].json()['id']}", headers=a.auth)
    assert client.get(f"/api/v1/sessions/{c.session_id}").json()["seats_taken"] == 1
    assert (
        client.delete(f"/api/v1/enrolments/{got[0].json()['id']}", headers=a.auth).status_code
        == 409
    )
    # The roster: seats first, then the cancelled, with names.
    roster = _roster(client, world, c.session_id)
    assert [(e["username"], e["status"]) for e in roster] == [
        (x.username, "confirmed"),
        (a.username, "cancelled"),
        (b.username, "cancelled"),
        (y.username, "cancelled"),
    ]
    mine = client.get("/api/v1/me/enrolments", headers=x.auth).json()["items"]
    assert [e["status"] for e in mine] == ["confirmed"]


def test_attendance_score_certificate_verification_forgery_and_revocation(
    rt: Runtime, client: TestClient, world: World
) -> None:
    c = make_session(client, world, capacity=3, pass_mark=70)
    good, weak, absent = make_users(rt, 3)
    ids = [
        client.post(f"/api/v1/sessions/{c.session_id}/enrolments", headers=u.auth).json()["id"]
        for u in (good, weak, absent)
    ]
    op = world["op_a"].auth
    # Before the session starts there is nothing to mark.
    early = client.patch(f"/api/v1/enrolments/{ids[0]}", json={"attended": True}, headers=op)
    assert early.status_code == 409
    start_session(rt, c.session_id)
    # Enrolment closed once it started.
    late = make_users(rt, 1, "late")[0]
    assert (
        client.post(f"/api/v1/sessions/{c.session_id}/enrolments", headers=late.auth).status_code
        == 409
    )

    marks = [({"attended": True, "score": 88}), ({"attended": True, "score": 69}), ({"score": 95})]
    for enrolment_id, body in zip(ids, marks, strict=True):
        r = client.patch(f"/api/v1/enrolments/{enrolment_id}", json=body, headers=op)
        assert r.status_code == 200, r.text
    # Below the course's pass mark (70), or absent: no certificate.
    for enrolment_id in ids[1:]:
        r = client.post(f"/api/v1/enrolments/{enrolment_id}/certificate", headers=op)
        assert r.status_code == 409, r.text
    r = client.post(
        f"/api/v1/enrolments/{ids[0]}/certificate", json={"holder_name": "张晓明"}, headers=op
    )
    assert r.status_code == 201, r.text
    cert = r.json()
    year = utcnow().year
    assert cert["number"] == f"LB-{year}-000001"
    assert (cert["occupation"], cert["work_type"], cert["score"]) == (
        "互联网营销师",
        "直播销售员",
        88,
    )
    assert client.post(f"/api/v1/enrolments/{ids[0]}/certificate", headers=op).status_code == 409
    assert (
        client.get(f"/api/v1/enrolments/{ids[0]}", headers=good.auth).json()["certificate_number"]
        == cert["number"]
    )

    url = urlparse(cert["verification_url"])
    assert url.path == f"/certificates/{cert['number']}"
    sig = parse_qs(url.query)["sig"][0]
    ok = client.get(f"/api/v1/certificates/{cert['number']}", params={"sig": sig}).json()
    assert ok["status"] == "valid" and ok["signature_checked"] is True
    assert ok["holder_name"] == "张*明" and ok["course"] == "直播销售员（五级）实训"
    assert ok["issued_on"] == cert["issued_on"]
    # A QR re-made with another signature, or a number never issued: not valid.
    forged = "0" * 32 if sig != "0" * 32 else "1" * 32
    bad = client.get(f"/api/v1/certificates/{cert['number']}", params={"sig": forged}).json()
    assert (bad["status"], bad["reason"]) == ("not_valid", "bad_signature")
    assert "holder_name" not in bad
    unknown = client.get(f"/api/v1/certificates/LB-{year}-999999", params={"sig": sig}).json()
    assert (unknown["status"], unknown["reason"]) == ("not_valid", "unknown_number")
    page = client.get(f"/certificates/{cert['number']}?sig={forged}")
    assert page.status_code == 200 and 'data-status="not_valid"' in page.text

    # The PDF: the holder and the base's operator; nobody else.
    pdf = client.get(f"/api/v1/certificates/{cert['number']}.pdf", headers=good.auth)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF") and cert["number"].encode() in pdf.content
    assert client.get(f"/api/v1/certificates/{cert['number']}.pdf", headers=op).status_code == 200
    for other in (weak.auth, world["op_b"].auth):
        assert (
            client.get(f"/api/v1/certificates/{cert['number']}.pdf", headers=other).status_code
            == 404
        )
    assert client.get(f"/api/v1/certificates/{cert['number']}.pdf").status_code == 401

    # Revocation: not by another base's operator; by this one, with a reason, once.
    path = f"/api/v1/certificates/{cert['number']}/revoke"
    assert client.post(path, json={"reason": "x"}, headers=world["op_b"].auth).status_code == 404
    assert client.post(path, json={"reason": ""}, headers=op).status_code == 422
    assert client.get(f"/api/v1/certificates/{cert['number']}").json()["status"] == "valid"
    r = client.post(path, json={"reason": "考核材料造假"}, headers=op)
    assert r.status_code == 200 and r.json()["revoked_reason"] == "考核材料造假"
    assert client.post(path, json={"reason": "again"}, headers=op).status_code == 409
    gone = client.get(f"/api/v1/certificates/{cert['number']}", params={"sig": sig}).json()
    assert gone["status"] == "revoked" and gone["revoked_reason"] == "考核材料造假"
    assert gone["revoked_on"] == utcnow().date().isoformat()
    page = client.get(f"/certificates/{cert['number']}?sig={sig}")
    assert 'data-status="revoked"' in page.text and "考核材料造假" in page.text


def test_another_bases_operator_and_plain_users_cannot_manage(
    rt: Runtime, client: TestClient, world: World
) -> None:
    c = make_session(client, world, capacity=1)
    learner = make_users(rt, 1)[0]
    enr = client.post(f"/api/v1/sessions/{c.session_id}/enrolments", headers=learner.auth).json()
    start_session(rt, c.session_id)
    op_b, viewer = world["op_b"].auth, world["viewer"].auth
    course = {"title": "越权课程", "hours": 8}
    assert (
        client.post(f"/api/v1/bases/{world.base_a}/courses", json=course, headers=op_b).status_code
        == 403
    )
    assert (
        client.post(
            f"/api/v1/bases/{world.base_a}/courses", json=course, headers=viewer
        ).status_code
        == 403
    )
    assert client.post(f"/api/v1/bases/{world.base_a}/courses", json=course).status_code == 401
    session = {
        "teacher_name": "x",
        "room": "y",
        "starts_at": rfc3339(utcnow() + timedelta(days=1)),
        "ends_at": rfc3339(utcnow() + timedelta(days=1, hours=1)),
        "capacity": 5,
    }
    assert (
        client.post(
            f"/api/v1/courses/{c.course_id}/sessions", json=session, headers=op_b
        ).status_code
        == 403
    )
    for who in (op_b, viewer):
        assert (
            client.get(f"/api/v1/sessions/{c.session_id}/enrolments", headers=who).status_code
            == 403
        )
        r = client.patch(
            f"/api/v1/enrolments/{enr['id']}", json={"attended": True, "score": 99}, headers=who
        )
        assert r.status_code == 404
        assert (
            client.post(f"/api/v1/enrolments/{enr['id']}/certificate", headers=who).status_code
            == 404
        )
        assert client.delete(f"/api/v1/enrolments/{enr['id']}", headers=who).status_code == 404
    # Nothing changed.
    (line,) = _roster(client, world, c.session_id)
    assert (line["status"], line["attended"], line["score"], line["certificate_number"]) == (
        "confirmed",
        False,
        None,
        None,
    )
    courses = client.get(f"/api/v1/bases/{world.base_a}/courses").json()["items"]
    assert [x["id"] for x in courses] == [c.course_id]
    assert len(client.get(f"/api/v1/courses/{c.course_id}/sessions").json()["items"]) == 1
    # Another base's operator runs their own base's training.
    assert (
        client.post(f"/api/v1/bases/{world.base_b}/courses", json=course, headers=op_b).status_code
        == 201
    )


def test_bad_input_is_refused_with_the_field_named_and_changes_nothing(
    client: TestClient, world: World
) -> None:
    op = world["op_a"].auth
    url = f"/api/v1/bases/{world.base_a}/courses"
    for body, loc in [
        ({"title": "", "hours": 4}, "body.title"),
        ({"title": "课", "hours": 0}, "body.hours"),
        ({"title": "课", "hours": "4"}, "body.hours"),
        ({"title": "课", "hours": 4, "pass_mark": 101}, "body.pass_mark"),
        ({"title": "课", "hours": 4, "level": 6}, "body.level"),
        ({"title": "课", "hours": 4, "price_fen": 1}, "body.price_fen"),
    ]:
        r = client.post(url, json=body, headers=op)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"] == "validation_failed"
        assert loc in [f["loc"] for f in r.json()["fields"]], (body, r.json())
    assert (
        client.post(
            url, content=b"{", headers={**op, "Content-Type": "application/json"}
        ).status_code
        == 400
    )
    assert (
        client.post(
            url, content=b"title=x", headers={**op, "Content-Type": "text/plain"}
        ).status_code
        == 415
    )
    assert client.get(url).json()["items"] == []
    assert (
        client.post(
            "/api/v1/bases/base_nope/courses", json={"title": "课", "hours": 4}, headers=op
        ).status_code
        == 404
    )

    c = make_session(client, world)
    start = utcnow() + timedelta(days=3)
    good = {
        "teacher_name": "王老师",
        "room": "201",
        "starts_at": rfc3339(start),
        "ends_at": rfc3339(start + timedelta(hours=2)),
        "capacity": 10,
    }
    for change, loc in [
        ({"ends_at": rfc3339(start)}, "body.ends_at"),
        ({"capacity": 0}, "body.capacity"),
        ({"capacity": 1001}, "body.capacity"),
        ({"starts_at": "2026-12-01 10:00"}, "body.starts_at"),
        ({"room": "", "studio_id": None}, "body.room"),
        ({"teacher_name": ""}, "body.teacher_name"),
        ({"teacher_name": "", "teacher_user_id": "usr_nobody"}, "body.teacher_user_id"),
    ]:
        r = client.post(f"/api/v1/courses/{c.course_id}/sessions", json=good | change, headers=op)
        assert r.status_code == 422, (change, r.text)
        assert loc in [f["loc"] for f in r.json()["fields"]], (change, r.json())
    assert len(client.get(f"/api/v1/courses/{c.course_id}/sessions").json()["items"]) == 1
    # A studio of the base instead of a room is fine.
    studio = good | {"room": "", "studio_id": "std_01"}
    assert (
        client.post(f"/api/v1/courses/{c.course_id}/sessions", json=studio, headers=op).status_code
        == 201
    )

    learner = world["viewer"]
    enr = client.post(f"/api/v1/sessions/{c.session_id}/enrolments", headers=learner.auth)
    assert (
        client.post(
            f"/api/v1/sessions/{c.session_id}/enrolments",
            json={"user_id": "x"},
            headers=learner.auth,
        ).status_code
        == 422
    )
    assert (
        client.post("/api/v1/sessions/tss_nope/enrolments", headers=learner.auth).status_code == 404
    )
    for body in (
        {"score": 101},
        {"score": -1},
        {"score": "90"},
        {"attended": None},
        {},
        {"status": "confirmed"},
    ):
        r = client.patch(f"/api/v1/enrolments/{enr.json()['id']}", json=body, headers=op)
        assert r.status_code == 422, (body, r.text)
    assert client.get(f"/api/v1/certificates/{'x' * 41}").status_code == 422
    assert (
        client.get("/api/v1/certificates/LB-2026-000001", params={"sig": "zz"}).status_code == 422
    )
