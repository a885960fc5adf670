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


def test_a_picture_held_for_its_text_shows_in_the_queue_with_the_text(
    phone: Phone, server: Server
) -> None:
    import io
    import shutil
    import time
    from pathlib import Path

    from PIL import Image, ImageDraw, ImageFont

    if shutil.which("tesseract") is None:
        pytest.skip("needs tesseract-ocr")
    font = ImageFont.truetype("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 72)
    img = Image.new("RGB", (900, 220), "white")
    ImageDraw.Draw(img).text((40, 60), "加V: abc123", fill="black", font=font)
    data = io.BytesIO()
    img.save(data, format="PNG")
    merchant = _api_token(server, "yihe")
    org_id = next(
        r["org_id"] for r in httpx.get(f"{server.url}/api/v1/me", headers=merchant).json()["roles"]
    )
    created = httpx.post(
        f"{server.url}/api/v1/products",
        headers=merchant,
        json={
            "org_id": org_id,
            "title": "夏季纯棉短袖",
            "description": "舒适透气。",
            "skus": [{"attrs": {"尺码": "M"}, "price_fen": 5900, "stock": 20}],
        },
    )
    assert created.status_code == 201 and created.json()["status"] == "active"
    product_id = created.json()["id"]
    r = httpx.post(
        f"{server.url}/api/v1/products/{product_id}/images",
        headers=merchant,
        files={"file": ("ad.png", data.getvalue(), "image/png")},
    )
    assert r.status_code == 201, r.text
    moderator = _api_token(server, "moderator")
    deadline = time.monotonic() + 60  # the embedded job runner picks the OCR job up
    items: list[dict[str, object]] = []
    while time.monotonic() < deadline and not items:
        queue = httpx.get(f"{server.url}/api/v1/moderation/queue", headers=moderator).json()
        items = [i for i in queue["items"] if i["subject_id"] == r.json()["id"]]
        time.sleep(0.5)
    assert items, "the OCR job did not queue the picture within 60 s"
    assert httpx.get(f"{server.url}/api/v1/products/{product_id}").json()["images"] == []

    page = phone.open("zh")
    sign_in(page, "moderator")
    page.goto("/moderation")
    item = page.get_by_test_id("queue-item").filter(has=page.get_by_test_id("held-image"))
    assert item.locator("img").first.is_visible()
    assert "abc123" in (item.text_content() or "").replace(" ", "")
    item.scroll_into_view_if_needed()
    path = shot(page, "42-moderation-held-picture-zh")
    assert Path(path).is_file()
