"""The merchant's product pages: list, editor, create, edit, delete, role checks."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from sqlalchemy import select

from livebase.catalog.models import Product, Sku
from tests.conftest import World
from tests.web.conftest import Browser, make_product


def _product(world: World, product_id: str) -> Product:
    with world.rt.sessions() as db:
        p = db.get(Product, product_id)
        assert p is not None
        _ = p.skus  # load before the session closes
        db.expunge_all()
        return p


def _count(world: World) -> int:
    with world.rt.sessions() as db:
        return len(db.query(Product.id).all())


@pytest.mark.parametrize(
    "lang,words",
    [("zh", ["我的商品", "在售", "库存 20"]), ("en", ["My products", "Active", "20 in stock"])],
)
def test_merchant_sees_their_products_with_status_price_and_stock(
    browser: Browser, world: World, lang: str, words: list[str]
) -> None:
    make_product(world, world.brand_a1, price_fen=9900, stock=10)
    make_product(world, world.brand_a2, title="别家的商品")
    browser.sign_in("merchant_a1")
    r = browser.get(f"/merchant/products?lang={lang}")
    assert r.status_code == 200
    for word in words:
        assert word in r.text
    assert "纯棉圆领T恤" in r.text and "¥99.00" in r.text and "¥109.00" in r.text
    assert "别家的商品" not in r.text


def test_held_listing_shows_why_with_the_matched_terms_highlighted(
    browser: Browser, world: World
) -> None:
    make_product(world, world.brand_a1, title="全网最低价 面霜", description="效果最好。")
    browser.sign_in("merchant_a1")
    r = browser.get("/merchant/products")
    assert 'data-status="held"' in r.text and "审核中" in r.text
    assert "<mark>最好</mark>" in r.text and "广告法违禁词" in r.text


@pytest.mark.parametrize("username", ["viewer", "host_a1", "op_a", "agency_a"])
def test_product_pages_are_forbidden_to_other_roles(
    browser: Browser, world: World, username: str
) -> None:
    pid = make_product(world, world.brand_a1)
    browser.sign_in(username)
    for url in ("/merchant/products", "/merchant/products/new", f"/merchant/products/{pid}"):
        r = browser.get(url)
        assert r.status_code == 403, url
        assert 'data-testid="error-page"' in r.text and "没有权限" in r.text


def test_another_brands_merchant_cannot_open_or_change_a_product(
    browser: Browser, world: World
) -> None:
    pid = make_product(world, world.brand_a1)
    browser.sign_in("merchant_a2")
    assert browser.get(f"/merchant/products/{pid}?lang=en").status_code == 403
    r = browser.post(
        f"/merchant/products/{pid}",
        {"title": "改掉", "sku_id": [], "sku_price": [], "sku_stock": []},
    )
    assert r.status_code == 403
    assert browser.post(f"/merchant/products/{pid}/delete").status_code == 403
    assert _product(world, pid).title == "纯棉圆领T恤" and _product(world, pid).status == "active"


def test_anonymous_visitors_are_sent_to_sign_in(browser: Browser, world: World) -> None:
    r = browser.get("/merchant/products")
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/merchant/products"
    r = browser.post("/merchant/products/new", {"title": "x"})
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")


def test_unknown_product_is_a_404_page(browser: Browser, world: World) -> None:
    browser.sign_in("merchant_a1")
    r = browser.get("/merchant/products/prd_nope?lang=en")
    assert (
        r.status_code == 404 and "Not found" in r.text and "text/html" in r.headers["content-type"]
    )


def _new_form(world: World, **over: object) -> dict[str, object]:
    form: dict[str, object] = {
        "org_id": world.brand_a1,
        "title": "真丝睡衣",
        "description": "19姆米真丝。",
        "sku_attrs": ["颜色:香槟; 尺码:M", "颜色：香槟，尺码：L", ""],
        "sku_price": ["699.9", "1,299.00", ""],
        "sku_stock": ["40", "0", ""],
        "sku_code": ["", "", ""],
    }
    form.update(over)
    return form


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_new_product_form_renders(browser: Browser, world: World, lang: str) -> None:
    browser.sign_in("merchant_a1")
    r = browser.get(f"/merchant/products/new?lang={lang}")
    assert r.status_code == 200
    assert ("价格（元）" if lang == "zh" else "Price (yuan)") in r.text
    assert "保税仓" in r.text  # the base's bonded warehouse is offered


def test_creating_a_product_converts_yuan_to_exact_fen(browser: Browser, world: World) -> None:
    browser.sign_in("merchant_a1")
    r = browser.post("/merchant/products/new", _new_form(world))
    assert r.status_code == 303
    pid = r.headers["location"].split("/")[-1].split("?")[0]
    p = _product(world, pid)
    assert p.title == "真丝睡衣" and p.status == "active" and p.org_id == world.brand_a1
    skus = sorted((s.price_fen, s.stock, tuple(sorted(s.attrs.items()))) for s in p.skus)
    assert skus == [
        (69990, 40, (("尺码", "M"), ("颜色", "香槟"))),
        (129900, 0, (("尺码", "L"), ("颜色", "香槟"))),
    ]
    page = browser.get(r.headers["location"])
    assert page.status_code == 200 and "699.90" in page.text and "已保存" in page.text


def test_creating_a_bonded_product_stores_rates_in_basis_points(
    browser: Browser, world: World
) -> None:
    browser.sign_in("merchant_a1")
    r = browser.post(
        "/merchant/products/new",
        _new_form(
            world,
            cb_enabled="1",
            hs_code="33049900",
            origin_country="jp",
            tariff_pct="0",
            vat_pct="13",
            ct_pct="15",
            warehouse_id=world.warehouse_a,
        ),
    )
    assert r.status_code == 303
    p = _product(world, r.headers["location"].split("/")[-1].split("?")[0])
    assert (
        p.hs_code,
        p.origin_country,
        p.vat_rate_bp,
        p.consumption_tax_rate_bp,
        p.warehouse_id,
    ) == ("33049900", "JP", 1300, 1500, world.warehouse_a)


@pytest.mark.parametrize(
    "over,field",
    [
        ({"sku_price": ["12.345", "", ""]}, "价格"),
        ({"sku_price": ["-1", "", ""]}, "价格"),
        ({"sku_stock": ["many", "", ""]}, "库存"),
        ({"sku_attrs": ["颜色:", "", ""]}, "规格属性"),  # a name without a value
        ({"title": ""}, "标题"),
        (
            {
                "cb_enabled": "1",
                "hs_code": "3304",
                "origin_country": "JP",
                "vat_pct": "13",
                "warehouse_id": "wh_x",
            },
            "HS",
        ),
    ],
)
def test_bad_product_forms_are_shown_again_and_create_nothing(
    browser: Browser, world: World, over: dict[str, object], field: str
) -> None:
    browser.sign_in("merchant_a1")
    r = browser.post("/merchant/products/new", _new_form(world, **over))
    assert r.status_code == 422 and field in r.text
    assert 'data-testid="form-error"' in r.text
    assert "真丝睡衣" in r.text or over.get("title") == ""  # what was typed is kept
    assert _count(world) == 0


def test_forms_without_the_csrf_token_are_refused_and_change_nothing(
    browser: Browser, world: World
) -> None:
    pid = make_product(world, world.brand_a1)
    browser.sign_in("merchant_a1")
    assert browser.post("/merchant/products/new", _new_form(world), csrf=False).status_code == 403
    r = browser.post(f"/merchant/products/{pid}", {"title": "新标题"}, csrf=False)
    assert r.status_code == 403 and "表单已过期" in r.text
    assert browser.post(f"/merchant/products/{pid}/delete", csrf=False).status_code == 403
    wrong = browser.post(f"/merchant/products/{pid}/delete", {"csrf_token": "0" * 40}, csrf=False)
    assert wrong.status_code == 403
    assert _count(world) == 1
    assert _product(world, pid).title == "纯棉圆领T恤" and _product(world, pid).status == "active"


def test_editing_changes_title_prices_and_stock(browser: Browser, world: World) -> None:
    pid = make_product(world, world.brand_a1)
    before = _product(world, pid)
    ids = [s.id for s in before.skus]
    browser.sign_in("merchant_a1")
    assert browser.get(f"/merchant/products/{pid}?lang=en").status_code == 200
    r = browser.post(
        f"/merchant/products/{pid}",
        {
            "title": "重磅纯棉T恤",
            "description": before.description,
            "sku_id": ids,
            "sku_price": ["88.8", "0.01"],
            "sku_stock": ["7", "0"],
        },
    )
    assert r.status_code == 303 and r.headers["location"] == f"/merchant/products/{pid}?saved=1"
    after = _product(world, pid)
    assert after.title == "重磅纯棉T恤"
    assert {s.id: (s.price_fen, s.stock) for s in after.skus} == {ids[0]: (8880, 7), ids[1]: (1, 0)}


def test_a_failed_edit_changes_nothing(browser: Browser, world: World) -> None:
    pid = make_product(world, world.brand_a1)
    ids = [s.id for s in _product(world, pid).skus]
    browser.sign_in("merchant_a1")
    r = browser.post(
        f"/merchant/products/{pid}",
        {"title": "新标题", "sku_id": ids, "sku_price": ["1.00", "abc"], "sku_stock": ["1", "1"]},
    )
    assert r.status_code == 422
    after = _product(world, pid)
    assert after.title == "纯棉圆领T恤" and sorted(s.price_fen for s in after.skus) == [9900, 10900]


def test_deleting_a_product_hides_it(browser: Browser, world: World) -> None:
    pid = make_product(world, world.brand_a1)
    browser.sign_in("merchant_a1")
    r = browser.post(f"/merchant/products/{pid}/delete")
    assert r.status_code == 303 and r.headers["location"] == "/merchant/products?deleted=1"
    assert _product(world, pid).status == "deleted"
    assert "纯棉圆领T恤" not in browser.get("/merchant/products").text
    assert browser.get(f"/merchant/products/{pid}").status_code == 404


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 40, 40)).save(out, format="PNG")
    return out.getvalue()


def test_the_editors_upload_call_works_with_the_page_csrf_token(
    browser: Browser, world: World
) -> None:
    """The editor's script posts to the JSON API with the session cookie and the token
    from <meta name="csrf-token">; without the header the API refuses."""
    pid = make_product(world, world.brand_a1)
    browser.sign_in("merchant_a1")
    page = browser.get(f"/merchant/products/{pid}")
    assert f'<meta name="csrf-token" content="{browser.csrf}">' in page.text
    assert f'data-url="/api/v1/products/{pid}/images"' in page.text
    files = {"file": ("a.png", _png(), "image/png")}
    refused = browser.client.post(f"/api/v1/products/{pid}/images", files=files)
    assert refused.status_code == 403
    ok = browser.client.post(
        f"/api/v1/products/{pid}/images", files=files, headers={"X-CSRF-Token": browser.csrf}
    )
    assert ok.status_code == 201
    assert ok.json()["thumb_url"] in browser.get(f"/merchant/products/{pid}").text


def test_the_editor_adds_a_variant_from_its_blank_row(browser: Browser, world: World) -> None:
    pid = make_product(world, world.brand_a1)
    browser.sign_in("merchant_a1")
    page = browser.get(f"/merchant/products/{pid}").text
    assert page.count('data-testid="sku-attrs"') == 1  # only the blank row is editable
    with world.rt.sessions() as db:
        old = db.scalars(select(Sku).where(Sku.product_id == pid).order_by(Sku.id)).all()
    r = browser.post(
        f"/merchant/products/{pid}",
        {
            "title": "纯棉圆领T恤",
            "description": "纯棉，白色。",
            "sku_id": [old[0].id, old[1].id, ""],
            # The form cannot rename an existing variant: its attrs come from the database.
            "sku_attrs": ["颜色:改名", "", "颜色:灰; 尺码:XL"],
            "sku_price": ["99.00", "109.00", "119.50"],
            "sku_stock": ["10", "10", "4"],
            "sku_code": ["", "", ""],
        },
    )
    assert r.status_code == 303
    with world.rt.sessions() as db:
        skus = db.scalars(select(Sku).where(Sku.product_id == pid).order_by(Sku.id)).all()
        assert [(s.attrs, s.price_fen, s.stock) for s in skus] == [
            (old[0].attrs, 9900, 10),
            (old[1].attrs, 10900, 10),
            ({"颜色": "灰", "尺码": "XL"}, 11950, 4),
        ]
