"""A week of the base run from the pages, as issue 16 says it is done: the demo operator,
on a 375 px phone in real Chromium, goes from the operations hub to book a studio slot
for a brand, open an incubation cohort with its first host, open a training course,
create and publish a campaign, and export the month's figures for the district (an XLSX
that opens)."""

from __future__ import annotations

import io
import secrets
from datetime import date, timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Phone, shot, sign_in

pytestmark = pytest.mark.e2e
NARROW = {"width": 375, "height": 812}


def _hub(page: Page, card: str) -> None:
    page.goto("/ops")
    expect(page.get_by_test_id("ops-hub")).to_be_visible()
    with page.expect_navigation():
        page.get_by_test_id(f"hub-{card}").click()


def _fits(page: Page) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROW["width"], f"{page.url} is {width}px wide at 375px"


def test_an_operator_runs_a_week_of_the_base_from_the_pages(phone: Phone) -> None:
    tag = secrets.token_hex(2)
    page = phone.open("zh")
    page.set_viewport_size(NARROW)
    sign_in(page, "operator")

    # Monday: a brand asks for a studio; the operator books next week's first free slot.
    _hub(page, "studios")
    expect(page.get_by_test_id("studio").first).to_be_visible()
    with page.expect_navigation():
        page.get_by_test_id("studio").first.locator("a.title").click()
    with page.expect_navigation():
        page.get_by_test_id("next-week").click()
    free = page.locator("td.free a").first
    expect(free).to_be_visible()
    free.click()
    form = page.get_by_test_id("book-form")
    expect(form).to_be_visible()
    with page.expect_navigation():
        page.get_by_test_id("book-submit").click()
    expect(page.get_by_test_id("booked")).to_be_visible()
    expect(page.locator("td.mine").first).to_be_visible()
    _fits(page)
    shot(page, "week-1-studio-booked")

    # Tuesday: a new incubation cohort for the spring.
    _hub(page, "hosts")
    cohort = f"春季主播营 {tag}"
    page.locator("summary", has_text="新建").last.click()
    form = page.get_by_test_id("cohort-form")
    form.locator('input[name="name"]').fill(cohort)
    form.locator('input[name="goal_hours"]').fill("40")
    start = date.today() + timedelta(days=7)
    form.locator('input[name="starts_on"]').fill(start.isoformat())
    form.locator('input[name="ends_on"]').fill((start + timedelta(days=60)).isoformat())
    with page.expect_navigation():
        form.locator("button").click()
    # The new cohort's page opens; the operator enrols its first host.
    expect(page.get_by_test_id("cohort-page")).to_contain_text(cohort)
    with page.expect_navigation():
        page.get_by_test_id("add-member").locator("button").click()
    expect(page.get_by_test_id("member")).to_have_count(1)
    _fits(page)
    shot(page, "week-2-cohort")

    # Wednesday: a course for the live-selling certificate.
    _hub(page, "training")
    course = f"直播销售员 五级 {tag}"
    page.get_by_text("新建课程").first.click()
    form = page.get_by_test_id("new-course")
    form.locator('input[name="title"]').fill(course)
    form.locator('input[name="hours"]').fill("16")
    with page.expect_navigation():
        form.get_by_test_id("create-course").click()
    expect(page.get_by_test_id("course").filter(has_text=course)).to_be_visible()
    _fits(page)
    shot(page, "week-3-course")

    # Thursday: a campaign, created as a draft and published.
    _hub(page, "campaigns")
    name = f"老字号 周 {tag}"
    page.locator("summary", has_text="新建活动").click()
    form = page.get_by_test_id("campaign-form")
    form.locator('input[name="name"]').fill(name)
    begins = date.today() + timedelta(days=14)
    form.locator('input[name="starts_at"]').fill(f"{begins.isoformat()}T00:00")
    form.locator('input[name="ends_at"]').fill(f"{(begins + timedelta(days=7)).isoformat()}T00:00")
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()
    card = page.get_by_test_id("ops-campaign").filter(has_text=name)
    expect(card).to_contain_text("草稿")
    with page.expect_navigation():
        card.get_by_test_id("publish").click()
    expect(page.get_by_test_id("ops-campaign").filter(has_text=name)).to_contain_text("已发布")
    _fits(page)
    shot(page, "week-4-campaign")

    # Friday: the month's figures for the district, as a spreadsheet.
    _hub(page, "dashboard")
    expect(page.get_by_test_id("ops-dashboard")).to_be_visible()
    _fits(page)
    shot(page, "week-5-dashboard")
    with page.expect_download() as info:
        page.get_by_test_id("export-xlsx").click()
    sheet = load_workbook(io.BytesIO(Path(info.value.path()).read_bytes())).active
    metrics = [row[0] for row in sheet.iter_rows(values_only=True)]
    # The week's work is counted: the studio hours and the campaign are rows of the export.
    assert {"gmv_fen", "studio_hours_booked", "campaigns_held"} <= set(metrics), metrics
