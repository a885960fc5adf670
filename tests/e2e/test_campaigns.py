"""Campaigns, the brand directory, the launch calendar and scenes in a phone-sized
Chromium on the demo server: a viewer opens the demo's campaign and filters brands by
tag; the operator registers a scene and creates a campaign from the /ops pages."""

from __future__ import annotations

import secrets

import httpx
import pytest
from playwright.sync_api import Page, expect

from tests.e2e.conftest import Phone, Server, shot, sign_in

pytestmark = pytest.mark.e2e


def _fits_phone(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


def _base(server: Server) -> str:
    return str(httpx.get(f"{server.url}/api/v1/bases").json()["items"][0]["id"])


def test_a_viewer_opens_the_campaign_and_filters_brands_by_tag(
    phone: Phone, server: Server
) -> None:
    base = _base(server)
    items = httpx.get(f"{server.url}/api/v1/bases/{base}/campaigns").json()["items"]
    camps = [c for c in items if c["name"].startswith("双十二")]
    assert camps, "the demo has a published campaign"
    page = phone.open("zh")
    page.goto(f"/campaigns/{camps[0]['id']}")
    expect(page.get_by_test_id("campaign-banner")).to_contain_text("双十二")
    expect(page.get_by_test_id("campaign-figures")).to_be_visible()
    assert page.locator('a[href^="/shows/"]').count() >= 1
    _fits_phone(page)
    shot(page, "campaigns-01-campaign-zh")
    en = phone.open("en")
    en.goto(f"/campaigns/{camps[0]['id']}?lang=en")
    expect(en.get_by_test_id("campaign-figures")).to_contain_text("GMV")
    shot(en, "campaigns-02-campaign-en")

    page.goto(f"/bases/{base}/brands")
    all_cards = page.get_by_test_id("brand-card").count()
    page.locator('[data-tag="laozihao"]').click()
    expect(page).to_have_url(f"{server.url}/bases/{base}/brands?tag=laozihao")
    cards = page.get_by_test_id("brand-card")
    expect(cards.first).to_contain_text("京味斋")
    assert 1 <= cards.count() < all_cards
    _fits_phone(page)
    shot(page, "campaigns-03-brands-laozihao-zh")

    page.goto(f"/bases/{base}/launches")
    expect(page.get_by_test_id("calendar")).to_be_visible()
    _fits_phone(page)
    shot(page, "campaigns-04-launches-zh")


def test_the_operator_registers_a_scene_and_creates_a_campaign(
    phone: Phone, server: Server
) -> None:
    page = phone.open("zh")
    sign_in(page, "operator")
    page.goto("/ops/scenes")
    progress = page.get_by_test_id("scene-progress")
    before = int(progress.inner_text().split("/")[0].strip())
    page.locator("summary", has_text="登记示范场景").click()
    form = page.get_by_test_id("scene-form")
    name = f"平谷桃园 {secrets.token_hex(2)}"
    form.locator('input[name="name"]').fill(name)
    form.locator('select[name="kind"]').select_option("farm")
    form.locator('input[name="address"]').fill("北京市平谷区大华山镇")
    shot(page, "campaigns-05-ops-scene-form-zh")
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()
    expect(page.get_by_test_id("scene-progress")).to_contain_text(f"{before + 1}/30")
    _fits_phone(page)
    shot(page, "campaigns-06-ops-scenes-zh")
    page.get_by_role("link", name=name).click()
    expect(page.get_by_test_id("scene")).to_contain_text(name)
    shot(page, "campaigns-07-scene-zh")

    page.goto("/ops/campaigns")
    page.locator("summary", has_text="新建活动").click()
    form = page.get_by_test_id("campaign-form")
    form.locator('input[name="name"]').fill("乡村振兴 丰收周")
    form.locator('input[name="starts_at"]').fill("2027-09-20T00:00")
    form.locator('input[name="ends_at"]').fill("2027-09-27T00:00")
    with page.expect_navigation():
        form.locator('button[type="submit"]').click()
    card = page.get_by_test_id("ops-campaign").filter(has_text="乡村振兴 丰收周")
    expect(card).to_contain_text("草稿")
    with page.expect_navigation():
        card.get_by_test_id("publish").click()
    expect(page.get_by_test_id("ops-campaign").filter(has_text="乡村振兴 丰收周")).to_contain_text(
        "已发布"
    )
    _fits_phone(page)
    shot(page, "campaigns-08-ops-campaigns-zh")
    page.goto("/ops/brands")
    expect(page.get_by_test_id("ops-brand").first).to_be_visible()
    _fits_phone(page)
    shot(page, "campaigns-09-ops-brands-zh")
