"""Issue 18's pages in a real phone-sized Chromium, zh and en: the first screen with show
cards and drawn demo pictures, a product page a viewer opens from a live show, the HTML
404, the moderation queue in people's words with a rejection that reaches the merchant,
form errors next to their fields, pictures on the create forms, one state after saving,
the operator's own base and the per-base word list."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from playwright.sync_api import Page, expect

from livebase.demo_pictures import product_picture, show_cover
from tests.e2e.conftest import DEMO_PASSWORD, Phone, Server, shot, sign_in

pytestmark = pytest.mark.e2e


def _fits_phone(page: Page) -> None:
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0, f"{page.url} is {overflow}px wider than the screen"


def _token(server: Server, username: str) -> dict[str, str]:
    r = httpx.post(
        f"{server.url}/api/v1/auth/tokens", json={"username": username, "password": DEMO_PASSWORD}
    )
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


def _org_of(server: Server, auth: dict[str, str]) -> str:
    roles = httpx.get(f"{server.url}/api/v1/me", headers=auth).json()["roles"]
    return str(next(r["org_id"] for r in roles if r.get("org_id")))


def _file(name: str, data: bytes) -> dict[str, object]:
    return {"name": name, "mimeType": "image/jpeg", "buffer": data}


def test_the_first_screen_shows_live_and_upcoming_shows_as_cards_of_one_size(
    phone: Phone,
) -> None:
    # A host schedules a show with its cover chosen on the new-show form itself.
    host = phone.open("zh")
    sign_in(host, "ajie")
    host.goto("/host/shows/new")
    form = host.get_by_test_id("show-form")
    form.locator('input[name="title"]').fill("颐和美妆 新年护肤专场")
    when = (datetime.now(UTC) + timedelta(days=3)).astimezone().strftime("%Y-%m-%dT20:00")
    form.locator('input[name="scheduled_at"]').fill(when)
    cover = show_cover("颐和美妆 新年护肤专场", [("保湿面霜", "颐和美妆", None)])
    host.get_by_test_id("new-cover").set_input_files(_file("cover.jpg", cover))
    shot(host, "50-new-show-with-cover-zh")
    with host.expect_navigation():
        form.locator('button[type="submit"]').click()
    expect(host.get_by_test_id("shelf")).to_be_visible()
    expect(host.locator("img#cover")).to_be_visible()

    for lang in ("zh", "en"):
        page = phone.open(lang)
        page.goto(f"/?lang={lang}")
        live = page.locator('[data-testid=show-card][data-status="live"]').first
        upcoming = page.locator('[data-testid=show-card][data-status="scheduled"]').first
        expect(live).to_be_visible()
        expect(upcoming).to_be_visible()
        live_box = live.locator(".cover-link").bounding_box()
        upcoming_box = upcoming.locator(".cover-link").bounding_box()
        assert live_box and upcoming_box
        assert abs(live_box["height"] - upcoming_box["height"]) < 2  # one card size
        assert live_box["height"] > 150  # a picture, not a thin text row
        expect(upcoming).to_contain_text("北京时间" if lang == "zh" else "Beijing time")
        shot(page, f"51-home-{lang}")
        _fits_phone(page)


def test_a_viewer_opens_a_product_page_from_a_live_show(phone: Phone) -> None:
    for lang, words in (
        ("zh", ("规格与价格", "直播中", "讲解中")),
        ("en", ("Options", "Live", "Explaining")),
    ):
        page = phone.open(lang)
        page.goto(f"/?lang={lang}")
        page.locator('[data-testid=show-card][data-status="live"] a.title').first.click()
        expect(page.get_by_test_id("public-show")).to_be_visible()
        expect(page.locator(".shelf-item.explaining")).to_contain_text(words[2])
        shot(page, f"52-live-show-{lang}")
        page.locator('[data-testid=shelf-item][data-no="1"] [data-testid=product-link]').click()
        expect(page.get_by_test_id("product-page")).to_be_visible()
        expect(page.get_by_test_id("photos").locator("img").first).to_be_visible()
        expect(page.get_by_test_id("sku").first).to_be_visible()
        expect(page.get_by_test_id("price")).to_contain_text("¥")
        expect(page.get_by_test_id("skus")).to_contain_text(words[0])
        expect(page.get_by_test_id("showing").locator(".card").first).to_contain_text(words[1])
        shot(page, f"53-product-page-{lang}")
        _fits_phone(page)


def test_an_unknown_page_is_an_html_404_in_the_layout_with_a_favicon(
    phone: Phone, server: Server
) -> None:
    for lang, words in (("zh", "你要找的页面不存在"), ("en", "does not exist")):
        page = phone.open(lang)
        response = page.goto(f"/no-such-page?lang={lang}")
        assert response is not None and response.status == 404
        expect(page.get_by_test_id("error-page")).to_contain_text(words)
        expect(page.get_by_test_id("lang-switch")).to_be_visible()  # inside the layout
        shot(page, f"54-not-found-{lang}")
    assert httpx.get(f"{server.url}/favicon.ico").status_code == 200
    assert (
        httpx.get(f"{server.url}/favicon.svg").headers["content-type"].startswith("image/svg+xml")
    )


def test_a_rejection_without_a_reason_stays_on_the_queue_and_one_with_a_reason_reaches_the_merchant(
    phone: Phone, server: Server
) -> None:
    merchant = _token(server, "yihe")
    title = f"全网最低价 美白精华 {secrets.token_hex(2)}"
    created = httpx.post(
        f"{server.url}/api/v1/products",
        headers=merchant,
        json={
            "org_id": _org_of(server, merchant),
            "title": title,
            "description": "国家级配方。",
            "skus": [{"attrs": {"规格": "30ml"}, "price_fen": 15900, "stock": 50}],
        },
    )
    assert created.status_code == 201 and created.json()["status"] == "held"
    product_id = created.json()["id"]
    other = httpx.post(
        f"{server.url}/api/v1/products",
        headers=merchant,
        json={
            "org_id": _org_of(server, merchant),
            "title": f"加微信 lily8866 领小样 {secrets.token_hex(2)}",
            "description": "",
            "skus": [{"attrs": {"规格": "5ml"}, "price_fen": 900, "stock": 50}],
        },
    )
    assert other.json()["status"] == "held"  # stays in the queue for the English look

    mod = phone.open("zh")
    sign_in(mod, "moderator")
    mod.goto("/moderation")
    item = mod.get_by_test_id("queue-item").filter(has_text=title)
    expect(item.get_by_test_id("findings")).to_contain_text("广告法禁用词：最低价")
    expect(item.get_by_test_id("item-verdict")).to_have_text("人工审核")
    expect(item.get_by_test_id("queued-at")).to_contain_text("北京时间")
    assert "ad_law:term" not in mod.content()
    shot(mod, "55-moderation-queue-zh")
    _fits_phone(mod)

    with mod.expect_navigation():
        item.get_by_test_id("reject").click()
    item = mod.get_by_test_id("queue-item").filter(has_text=title)
    expect(item.get_by_test_id("field-error")).to_contain_text("驳回时请写明理由")
    expect(mod.get_by_test_id("error-page")).to_have_count(0)
    shot(mod, "56-moderation-reject-needs-reason-zh")
    item.locator('input[name="reason"]').fill("“全网最低价”属于绝对化用语，请修改标题。")
    with mod.expect_navigation():
        item.get_by_test_id("reject").click()
    expect(mod.get_by_test_id("queue-item").filter(has_text=title)).to_have_count(0)

    got = httpx.get(f"{server.url}/api/v1/products/{product_id}", headers=merchant).json()
    assert got["status"] == "rejected" and "绝对化用语" in got["moderation"]["reason"]
    seller = phone.open("zh")
    sign_in(seller, "yihe")
    seller.goto("/merchant/products")
    row = seller.locator('[data-testid=product-row][data-status="rejected"]').filter(has_text=title)
    expect(row.get_by_test_id("status")).to_have_text("未通过")
    expect(row.get_by_test_id("rejection-reason")).to_contain_text("绝对化用语")
    row.scroll_into_view_if_needed()
    shot(seller, "57-merchant-rejected-zh")
    row.locator("a.title").click()
    expect(seller.get_by_test_id("rejection-reason")).to_contain_text("绝对化用语")
    shot(seller, "58-merchant-rejected-editor-zh")

    english = phone.open("en")
    sign_in(english, "moderator")
    english.goto("/moderation?lang=en")
    expect(english.get_by_test_id("queue-item").first).to_be_visible()
    expect(english.get_by_test_id("findings").first).to_contain_text("Off-platform contact")
    expect(english.get_by_test_id("item-verdict").first).to_have_text("Needs review")
    assert ">review<" not in english.content()
    shot(english, "59-moderation-queue-en")


def test_a_new_product_takes_a_plain_sku_value_and_pictures_and_shows_one_state(
    phone: Phone,
) -> None:
    page = phone.open("zh")
    sign_in(page, "yihe")
    page.goto("/merchant/products/new")
    form = page.get_by_test_id("product-form")
    form.locator('input[name="title"]').fill("颐和美妆 玫瑰纯露")
    rows = page.get_by_test_id("sku-row")
    rows.nth(0).get_by_test_id("sku-attrs").fill("500ml×6瓶")
    rows.nth(0).get_by_test_id("sku-price").fill("89")
    rows.nth(0).get_by_test_id("sku-stock").fill("100")
    rows.nth(1).get_by_test_id("sku-attrs").fill("颜色:")
    rows.nth(1).get_by_test_id("sku-price").fill("59")
    rows.nth(1).get_by_test_id("sku-stock").fill("10")
    with page.expect_navigation():
        page.get_by_test_id("save").click()
    error = page.locator('[data-testid=field-error][data-field="sku_attrs.1"]')
    expect(error).to_contain_text("缺少名称或值")
    expect(page.get_by_test_id("sku-row").nth(0).get_by_test_id("sku-attrs")).to_have_value(
        "500ml×6瓶"
    )
    error.scroll_into_view_if_needed()
    shot(page, "60-product-form-field-error-zh")

    page.get_by_test_id("sku-row").nth(1).get_by_test_id("sku-attrs").fill("200ml")
    page.get_by_test_id("new-images").set_input_files(
        [
            _file("front.jpg", product_picture("玫瑰纯露", "颐和美妆")),
            _file("back.jpg", product_picture("防晒乳", "颐和美妆")),
        ]
    )
    with page.expect_navigation():
        page.get_by_test_id("save").click()
    expect(page.get_by_test_id("saved")).to_contain_text("已保存，商品在售")
    expect(page.get_by_test_id("images").locator("img")).to_have_count(2)
    expect(page.get_by_test_id("held-reason")).to_have_count(0)
    shot(page, "61-product-created-with-pictures-zh")
    _fits_phone(page)

    page.goto("/merchant/products/new")
    form = page.get_by_test_id("product-form")
    form.locator('input[name="title"]').fill("全网最低价 玫瑰纯露")
    first = page.get_by_test_id("sku-row").nth(0)
    first.get_by_test_id("sku-attrs").fill("500ml")
    first.get_by_test_id("sku-price").fill("89")
    first.get_by_test_id("sku-stock").fill("100")
    with page.expect_navigation():
        page.get_by_test_id("save").click()
    held = page.get_by_test_id("held-reason")
    expect(held).to_contain_text("审核通过前不会上架")
    expect(page.locator(".notice.ok")).to_have_count(0)  # no green beside the yellow
    shot(page, "62-product-held-one-state-zh")


def test_the_operator_runs_their_base_without_an_apply_button(phone: Phone) -> None:
    page = phone.open("zh")
    sign_in(page, "operator")
    page.goto("/")
    page.locator("[data-testid=base] h2 a").first.click()
    expect(page.get_by_test_id("base-dashboard")).to_be_visible()
    expect(page.get_by_test_id("apply-link")).to_have_count(0)
    expect(page.get_by_test_id("base-dashboard")).to_contain_text("入驻审核")
    shot(page, "63-operator-base-dashboard-zh")


def test_the_shelf_picker_names_each_size_once(phone: Phone) -> None:
    page = phone.open("zh")
    sign_in(page, "xiaoya")
    page.goto("/host/shows")
    page.get_by_test_id("show-row").first.locator("a").click()
    picker = page.get_by_test_id("shelf-add")
    expect(picker).to_contain_text("精华液 30ml")
    assert "30ml 30ml" not in picker.inner_text()


def test_a_moderator_edits_their_own_bases_terms(phone: Phone) -> None:
    page = phone.open("zh")
    sign_in(page, "moderator")
    page.goto("/moderation/terms")
    expect(page.get_by_test_id("term-scope-note")).to_contain_text("北京朝阳直播电商基地")
    form = page.get_by_test_id("term-form")
    form.locator('input[name="term"]').fill("   ")
    form.locator('input[name="term"]').evaluate("e => e.removeAttribute('required')")
    with page.expect_navigation():
        form.locator("button").click()
    expect(page.locator('[data-testid=field-error][data-field="term"]')).to_contain_text(
        "1–64 个字"
    )
    form = page.get_by_test_id("term-form")
    form.locator('input[name="term"]').fill("祖传秘方")
    form.locator('select[name="label"]').select_option("ad_law")
    with page.expect_navigation():
        form.locator("button").click()
    row = page.get_by_test_id("term-row").filter(has_text="祖传秘方")
    expect(row).to_contain_text("北京朝阳直播电商基地")
    expect(row.get_by_test_id("remove-term")).to_be_visible()
    shot(page, "64-moderation-terms-own-base-zh")
    _fits_phone(page)
