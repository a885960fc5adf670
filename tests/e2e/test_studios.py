"""Booking a studio slot on a 375 px phone in real Chromium, on the demo server: the demo
brand's merchant opens a demo studio's week, taps a free half hour, books it from the
prefilled form and sees the slot as theirs on the calendar and on the org's page; the
demo operator sees the studios with their usage bars."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from playwright.sync_api import Browser, Page, expect

from livebase.studios.service import LOCAL_TZ, week_label
from tests.e2e.conftest import STEP_TIMEOUT_MS, Server, shot, sign_in

pytestmark = pytest.mark.e2e
# The narrowest phones still sold (iPhone SE, many Android phones): 375 CSS pixels.
SMALL_PHONE = {"width": 375, "height": 812}


def _page(chromium: Browser, server: Server) -> Page:
    context = chromium.new_context(
        viewport=SMALL_PHONE,
        device_scale_factor=2,
        is_mobile=True,
        has_touch=True,
        locale="zh-CN",
        base_url=server.url,
    )
    context.set_default_timeout(STEP_TIMEOUT_MS)
    return context.new_page()


def test_a_merchant_books_a_slot_at_375px_and_sees_it_on_the_calendar(
    chromium: Browser, server: Server
) -> None:
    page = _page(chromium, server)
    try:
        sign_in(page, "jingwei")  # 京味斋's merchant
        page.goto("/org/bookings")
        page.get_by_test_id("calendar-link").first.click()
        expect(page.get_by_test_id("calendar")).to_be_visible()
        # Five days ahead (the demo's bookings are in the next three), at 15:00.
        day = (datetime.now(LOCAL_TZ) + timedelta(days=5)).date()
        page.goto(page.url.split("?")[0] + f"?week={week_label(day)}")
        shot(page, "studios-calendar-before")
        slot = f"{day.isoformat()}T15:00"
        page.locator(f'td.free[data-slot="{slot}"] a').click()
        form = page.get_by_test_id("book-form")
        expect(form.locator('input[name="date"]')).to_have_value(day.isoformat())
        expect(form.locator('select[name="start"]')).to_have_value("15:00")
        with page.expect_navigation():
            page.get_by_test_id("book-submit").click()
        expect(page.get_by_test_id("booked")).to_be_visible()
        expect(page.locator(f'td.mine[data-slot="{slot}"]')).to_have_text("京味斋")
        expect(page.locator(f'td.mine[data-slot="{day.isoformat()}T16:30"]')).to_be_visible()
        # Nothing sticks out sideways on a small phone.
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= SMALL_PHONE["width"], width
        shot(page, "studios-calendar-booked")
        page.goto("/org/bookings")
        expect(
            page.get_by_test_id("booking").filter(has_text=f"{day.isoformat()} 15:00")
        ).to_be_visible()
        shot(page, "studios-org-bookings")

        sign_in(page, "operator")
        page.goto("/ops/studios")
        expect(page.get_by_test_id("chart-studios")).to_be_visible()
        expect(page.get_by_test_id("studio")).to_have_count(2)
        assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]
        shot(page, "studios-ops")
    finally:
        page.context.close()
