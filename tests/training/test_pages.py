"""The training pages: the public list with enrolment, the operator's page and roster
with attendance, scores and certificates, the verification page; another base's operator
sees no roster."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from livebase.runtime import Runtime
from tests.conftest import World
from tests.training.kit import make_session, start_session
from tests.web.conftest import Browser


def test_enrol_mark_issue_and_verify_through_the_pages(
    rt: Runtime, client: TestClient, world: World, browser: Browser
) -> None:
    c = make_session(client, world, capacity=1)
    assert 'data-testid="session"' in browser.get("/training").text  # anonymous: listed

    browser.sign_in("viewer")
    r = browser.post(f"/training/sessions/{c.session_id}/enrol")
    assert r.status_code == 303 and r.headers["location"] == "/training?done=confirmed"
    page = browser.get("/training").text
    assert 'data-testid="my-enrolment" data-status="confirmed"' in page
    browser.sign_in("host_a1")
    browser.post(f"/training/sessions/{c.session_id}/enrol")
    assert 'data-status="waitlisted"' in browser.get("/training").text
    # A form without its CSRF token changes nothing.
    assert browser.post(f"/training/sessions/{c.session_id}/enrol", csrf=False).status_code == 403

    browser.sign_in("op_b")
    assert browser.get(f"/ops/training/sessions/{c.session_id}").status_code == 403
    assert c.session_id not in browser.get("/ops/training").text

    browser.sign_in("op_a")
    ops = browser.get("/ops/training").text
    assert f'data-session="{c.session_id}"' in ops and 'data-taken="1" data-capacity="1"' in ops
    start_session(rt, c.session_id)
    roster = browser.get(f"/ops/training/sessions/{c.session_id}").text
    (enrolment_id,) = re.findall(r'action="/ops/training/enrolments/(enr_[0-9a-z]+)/mark"', roster)
    bad = browser.post(
        f"/ops/training/enrolments/{enrolment_id}/mark", {"attended": "on", "score": "101"}
    )
    assert bad.status_code == 422 and 'data-field="score"' in bad.text
    ok = browser.post(
        f"/ops/training/enrolments/{enrolment_id}/mark", {"attended": "on", "score": "75"}
    )
    assert ok.status_code == 303
    assert browser.post(f"/ops/training/enrolments/{enrolment_id}/certificate").status_code == 303
    roster = browser.get(f"/ops/training/sessions/{c.session_id}").text
    (number,) = re.findall(r'data-testid="cert-number">(LB-\d{4}-\d{6})<', roster)

    browser.sign_in("viewer")
    mine = browser.get("/training").text
    assert f'data-number="{number}"' in mine
    pdf = browser.get(f"/certificates/{number}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    browser.sign_in("host_a1")
    assert browser.get(f"/certificates/{number}/pdf").status_code == 404
    browser.sign_out()
    verify = browser.get(f"/certificates/{number}?lang=en").text
    assert 'data-status="valid"' in verify and "This link carries no QR signature" in verify


def test_operator_creates_a_course_and_a_session_from_the_page(
    world: World, browser: Browser, client: TestClient
) -> None:
    browser.sign_in("op_a")
    r = browser.post(
        f"/ops/training/bases/{world.base_a}/courses",
        {"title": "直播话术与合规", "hours": "16", "level": "4", "pass_mark": "70"},
    )
    assert r.status_code == 303
    (course,) = client.get(f"/api/v1/bases/{world.base_a}/courses").json()["items"]
    assert (course["hours"], course["level"], course["pass_mark"]) == (16, 4, 70)
    form = {
        "teacher_name": "李老师",
        "room": "培训教室 A",
        "starts_at": "2030-03-01T09:00",
        "ends_at": "2030-03-01T08:00",
        "capacity": "20",
    }
    bad = browser.post(f"/ops/training/courses/{course['id']}/sessions", form)
    assert bad.status_code == 422 and 'data-field="ends_at"' in bad.text
    good = browser.post(
        f"/ops/training/courses/{course['id']}/sessions", form | {"ends_at": "2030-03-01T12:00"}
    )
    assert good.status_code == 303
    (sess,) = client.get(f"/api/v1/courses/{course['id']}/sessions").json()["items"]
    assert sess["starts_at"] == "2030-03-01T01:00:00Z" and sess["capacity"] == 20
    browser.sign_in("op_b")
    r = browser.post(f"/ops/training/bases/{world.base_a}/courses", {"title": "x", "hours": "1"})
    assert r.status_code == 403
    browser.sign_in("viewer")
    assert browser.get("/ops/training").status_code == 403
