"""The base dashboard in real Chromium at 375 px: the operator opens the operations hub
from the nav, goes to the dashboard, sees a chart for every metric and the targets with
their forecast, and downloads the month's XLSX; the public summary opens without signing
in; a merchant is refused the hub."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.e2e.conftest import Phone, shot, sign_in

pytestmark = pytest.mark.e2e
NARROW = {"width": 375, "height": 812}


def test_operator_opens_the_hub_then_the_dashboard_and_downloads_the_xlsx(phone: Phone) -> None:
    page = phone.open("zh")
    page.set_viewport_size(NARROW)
    sign_in(page, "operator")
    page.get_by_test_id("nav-ops").click()
    expect(page.get_by_test_id("ops-hub")).to_be_visible()
    for card in ("dashboard", "studios", "hosts", "training", "campaigns", "brands", "scenes"):
        expect(page.get_by_test_id(f"hub-{card}")).to_be_visible()
    # Phone first: the cards fit the screen, nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    shot(page, "dashboard-hub-375")

    page.get_by_test_id("hub-dashboard").click()
    expect(page.get_by_test_id("ops-dashboard")).to_be_visible()
    charts = page.locator("svg.mchart")
    expect(charts.first).to_be_visible()
    assert charts.count() == page.get_by_test_id("dash-metric").count() >= 6
    targets = page.get_by_test_id("dash-target")
    assert targets.count() >= 4  # the demo's plan targets
    expect(targets.first.get_by_test_id("forecast")).to_be_visible()
    assert page.evaluate("document.documentElement.scrollWidth") <= NARROW["width"]
    shot(page, "dashboard-ops-375")

    with page.expect_download() as info:
        page.get_by_test_id("export-xlsx").click()
    download = info.value
    assert download.suggested_filename.endswith(".xlsx")
    sheet = load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[1][0] == "metric" and "gmv_fen" in [r[0] for r in rows[2:]]

    page.goto("/ops/district?district=朝阳区")
    expect(page.get_by_test_id("district-table")).to_be_visible()
    shot(page, "dashboard-district-375")


def test_the_public_summary_opens_for_anyone_and_the_hub_is_refused_to_a_merchant(
    phone: Phone,
) -> None:
    page = phone.open("en")
    page.set_viewport_size(NARROW)
    page.goto("/")
    base_link = page.locator('a[href^="/bases/base_"]').first
    base_id = (base_link.get_attribute("href") or "").split("/")[2]
    page.goto(f"/bases/{base_id}/summary")
    expect(page.get_by_test_id("base-summary")).to_be_visible()
    expect(page.locator("svg.mchart").first).to_be_visible()
    assert page.locator('[data-metric="orders_paid"]').count() == 0
    shot(page, "dashboard-summary-375")

    sign_in(page, "jingwei")
    assert page.get_by_test_id("nav-ops").count() == 0
    r = page.goto("/ops")
    assert r is not None and r.status == 403
