"""Moderators work the review queue in a real Chromium: a held listing with its matched
words highlighted, a term added in the word-list editor that takes effect at once, and an
approval that publishes the listing."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.conftest import DEMO_PASSWORD, Phone, Server, shot, sign_in

pytestmark = pytest.mark.e2e


def _api_token(server: Server, username: str) -> dict[str, str]:
    r = httpx.post(
        f"{server.url}/api/v1/auth/tokens", json={"username": username, "password": DEMO_PASSWORD}
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def test_moderator_sees_the_held_listing_highlighted_adds_a_term_and_approves(
    phone: Phone, server: Server
) -> None:
    merchant = _api_token(server, "yihe")
    org_id = next(
        r["org_id"] for r in httpx.get(f"{server.url}/api/v1/me", headers=merchant).json()["roles"]
    )
    created = httpx.post(
        f"{server.url}/api/v1/products",
        headers=merchant,
        json={
            "org_id": org_id,
            "title": "全网最低价 祛痘精华 根治痘痘",
            "description": "国家级配方。",
            "skus": [{"attrs": {"规格": "30ml"}, "price_fen": 15900, "stock": 50}],
        },
    )
    assert created.status_code == 201 and created.json()["status"] == "held"
    product_id = created.json()["id"]

    seller = phone.open("zh")
    sign_in(seller, "yihe")
    seller.goto("/merchant/products")
    assert seller.locator("mark").first.is_visible()
    shot(seller, "40-merchant-held-listing-zh")

    page = phone.open("zh")
    sign_in(page, "moderator")
    page.goto("/moderation")
    item = page.get_by_test_id("queue-item").filter(has_text="祛痘精华")
    assert item.locator("mark.hit.ad_law").count() >= 2
    assert page.get_by_test_id("label-chart").is_visible()
    shot(page, "41-moderation-queue-zh")

    page.goto("/moderation/terms")
    form = page.get_by_test_id("term-form")
    form.locator('input[name="term"]').fill("洛神花茶")
    form.locator('select[name="label"]').select_option("prohibited")
    form.locator('select[name="action"]').select_option("block")
    with page.expect_navigation():
        form.locator("button").click()
    assert page.get_by_test_id("terms").get_by_text("洛神花茶").is_visible()
    shot(page, "42-moderation-terms-zh")

    page.goto("/moderation/try?kind=chat&text=" + "有没有洛神花茶")
    verdict = page.get_by_test_id("verdict")
    assert verdict.locator("mark.hit.prohibited").inner_text() == "洛神花茶"
    shot(page, "43-moderation-try-zh")

    page.goto("/moderation")
    item = page.get_by_test_id("queue-item").filter(has_text="祛痘精华")
    with page.expect_navigation():
        item.get_by_test_id("approve").click()
    assert httpx.get(f"{server.url}/api/v1/products/{product_id}").json()["status"] == "active"

    english = phone.open("en")
    sign_in(english, "moderator")
    english.goto("/moderation?lang=en")
    assert english.get_by_role("heading", name="Review queue").is_visible()
    shot(english, "44-moderation-queue-en")
