"""Talent training in a real Chromium at 375 px: the operator's page with seat bars, a
course and a session made from the page, enrolment into the last seat and onto the
waiting list, a cancellation promoting the next in line, and a certificate's public
verification (valid, and forged)."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Phone, register, shot, sign_in

pytestmark = pytest.mark.e2e
NARROW = {"width": 375, "height": 812}


def _page(phone: Phone) -> Page:
    page = phone.open()
    page.set_viewport_size(NARROW)
    return page


def test_training_from_course_to_waiting_list_to_certificate(phone: Phone) -> None:
    op = _page(phone)
    sign_in(op, "operator")
    op.goto("/ops/training")
    expect(op.get_by_test_id("ops-session").first).to_be_visible()
    shot(op, "training-ops")

    title = f"直播复盘实训 {secrets.token_hex(2)}"
    op.get_by_text("新建课程").first.click()
    form = op.get_by_test_id("new-course")
    form.locator('input[name="title"]').fill(title)
    form.locator('input[name="hours"]').fill("8")
    with op.expect_navigation():
        form.get_by_test_id("create-course").click()
    expect(op.get_by_test_id("done")).to_be_visible()
    course = op.get_by_test_id("course").filter(has_text=title)
    course.locator("summary").click()
    new = course.get_by_test_id("new-session")
    new.locator('input[name="teacher_name"]').fill("周老师")
    new.locator('input[name="room"]').fill("培训中心 305")
    new.locator('input[name="starts_at"]').fill("2031-05-20T09:00")
    new.locator('input[name="ends_at"]').fill("2031-05-20T12:00")
    new.locator('input[name="capacity"]').fill("1")
    with op.expect_navigation():
        new.get_by_test_id("create-session").click()
    expect(op.get_by_test_id("ops-session").filter(has_text=title)).to_be_visible()

    tag = secrets.token_hex(3)
    first, second = _page(phone), _page(phone)
    register(first, f"tr_a_{tag}", "学员甲")
    register(second, f"tr_b_{tag}", "学员乙")
    for page in (first, second):
        page.goto("/training")
        card = page.get_by_test_id("session").filter(has_text=title)
        with page.expect_navigation():
            card.get_by_test_id("enrol").click()
    expect(first.get_by_test_id("done")).to_contain_text("报名成功")
    expect(second.get_by_test_id("done")).to_contain_text("候补")
    mine = second.get_by_test_id("my-enrolment").filter(has_text=title)
    expect(mine).to_have_attribute("data-status", "waitlisted")
    expect(mine).to_contain_text("第 1 位")
    shot(second, "training-waitlisted")

    first.goto("/training")
    with first.expect_navigation():
        first.get_by_test_id("my-enrolment").filter(has_text=title).get_by_test_id("cancel").click()
    second.goto("/training")
    expect(second.get_by_test_id("my-enrolment").filter(has_text=title)).to_have_attribute(
        "data-status", "confirmed"
    )

    # The demo's certificate: its holder sees it, and anyone can verify it.
    holder = _page(phone)
    sign_in(holder, "xiaoya")
    holder.goto("/training")
    cert = holder.get_by_test_id("my-certificate").first
    number = cert.get_attribute("data-number")
    assert number and number.startswith("LB-")
    shot(holder, "training-mine")
    public = _page(phone)
    public.goto(f"/certificates/{number}")
    expect(public.get_by_test_id("verdict")).to_have_attribute("data-status", "valid")
    expect(public.get_by_test_id("holder")).to_have_text("林*雅")
    shot(public, "training-verify-valid")
    public.goto(f"/certificates/{number}?sig={'0' * 32}")
    expect(public.get_by_test_id("verdict")).to_have_attribute("data-status", "not_valid")
    shot(public, "training-verify-forged")

    op.goto("/ops/training")
    op.get_by_test_id("ops-session").filter(has_text="五级").last.get_by_test_id(
        "roster-link"
    ).click()
    expect(op.get_by_test_id("roster-line").first).to_be_visible()
    shot(op, "training-roster")
