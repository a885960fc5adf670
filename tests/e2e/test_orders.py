"""A buyer's journey in real Chromium at phone size: the buy button on a show's shelf
opens the buy sheet, an address is added on the way, the order is placed at the live
price, read with its timeline, cancelled, and listed under my orders (zh and en)."""

from __future__ import annotations

import json
import secrets
import urllib.request

import pytest
from playwright.sync_api import expect

from tests.conftest import SCREENSHOTS
from tests.e2e.conftest import Phone, Server, register, shot

pytestmark = pytest.mark.e2e


def _show_with_stock(server: Server) -> tuple[str, dict]:
    with urllib.request.urlopen(f"{server.url}/api/v1/shows?limit=100", timeout=5) as r:
        shows = json.load(r)["items"]
    for s in shows:
        if s["status"] == "ended":
            continue
        with urllib.request.urlopen(f"{server.url}/api/v1/shows/{s['id']}", timeout=5) as r:
            shelf = json.load(r)["shelf"]
        for line in shelf:
            if line["stock"] >= 2:
                return s["id"], line
    raise AssertionError("the demo has no show with an item in stock")


def test_a_viewer_buys_from_the_shelf_reads_the_timeline_and_cancels(
    phone: Phone, server: Server
) -> None:
    show_id, line = _show_with_stock(server)
    price = line["live_price_fen"] or line["price_fen"]
    page = phone.open("zh")
    register(page, f"buyer_{secrets.token_hex(3)}", "买家 小陈")

    page.goto(f"/shows/{show_id}")
    item = page.locator(f'[data-testid=shelf-item][data-no="{line["no"]}"]')
    item.get_by_test_id("buy").click()
    # No address yet: the sheet sends the buyer to add one, then back to the sheet.
    page.get_by_test_id("need-address").click()
    form = page.get_by_test_id("address-form")
    for name, value in {
        "name": "陈七",
        "phone": "13700000007",
        "province": "北京市",
        "city": "北京市",
        "district": "朝阳区",
        "detail": "望京SOHO T1",
    }.items():
        form.locator(f'input[name="{name}"]').fill(value)
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()
    sheet = page.get_by_test_id("buy-sheet")
    expect(sheet).to_be_visible()
    page.get_by_test_id("quantity").fill("2")
    expected = f"¥{2 * price // 100:,}.{2 * price % 100:02d}"
    expect(page.get_by_test_id("sheet-total")).to_have_text(expected)
    box = sheet.bounding_box()
    assert box is not None and box["width"] <= 390
    # The sheet is fixed to the screen: a screen-sized picture shows it as a phone does.
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "40-buy-sheet-zh.png"))

    with page.expect_navigation():
        page.get_by_test_id("place-order").click()
    detail = page.get_by_test_id("order-detail")
    expect(detail).to_have_attribute("data-status", "pending_payment")
    expect(page.get_by_test_id("order-status")).to_have_text("待付款")
    expect(page.get_by_test_id("order-total")).to_have_text(expected)
    expect(page.locator("[data-testid=timeline] li")).to_have_count(1)
    shot(page, "41-order-detail-zh")

    with page.expect_navigation():
        page.get_by_test_id("cancel").click()
    expect(detail).to_have_attribute("data-status", "cancelled")
    expect(page.locator("[data-testid=timeline] li")).to_have_count(2)
    shot(page, "42-order-cancelled-zh")

    page.goto("/me/orders?lang=en")
    row = page.get_by_test_id("order-row").first
    expect(row).to_contain_text("Cancelled")
    expect(row).to_contain_text(expected)
    shot(page, "43-my-orders-en")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
