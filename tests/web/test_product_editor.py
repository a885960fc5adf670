"""The product editor as a merchant types into it (issue 18 item 17): a plain SKU value
is accepted, a wrong one is explained next to its field, the new-product form takes
pictures, and a held listing shows one clear state after saving."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from livebase.catalog.models import Product
from tests.conftest import World, png_bytes
from tests.web.conftest import Browser
from tests.web.test_form_errors import field_error


def _form(world: World, **over: object) -> dict[str, object]:
    form: dict[str, object] = {
        "org_id": world.brand_a1,
        "title": "天然矿泉水",
        "description": "长白山水源。",
        "sku_attrs": ["500ml×6瓶", "颜色：蓝，尺码：大", ""],
        "sku_price": ["29.9", "39.9", ""],
        "sku_stock": ["100", "20", ""],
        "sku_code": ["", "", ""],
    }
    form.update(over)
    return form


def _products(world: World) -> list[Product]:
    with world.rt.sessions() as db:
        rows = list(db.scalars(select(Product).order_by(Product.id)))
        for p in rows:
            _ = (p.skus, p.images)
        db.expunge_all()
        return rows


@pytest.mark.parametrize("lang,name", [("zh", "规格"), ("en", "Option")])
def test_a_plain_sku_value_is_accepted_as_the_default_attribute(
    browser: Browser, world: World, lang: str, name: str
) -> None:
    browser.sign_in("merchant_a1")
    r = browser.post(f"/merchant/products/new?lang={lang}", _form(world))
    assert r.status_code == 303, r.text
    [product] = _products(world)
    assert [s.attrs for s in product.skus] == [{name: "500ml×6瓶"}, {"颜色": "蓝", "尺码": "大"}]


@pytest.mark.parametrize(
    "attrs,lang,words",
    [
        ("颜色:", "zh", "“颜色:”缺少名称或值"),
        ("颜色:", "en", "“颜色:” needs a name and a value"),
        ("500ml; 1L", "zh", "只能有一个不写名称的值"),
    ],
)
def test_a_wrong_sku_value_is_explained_next_to_its_field(
    browser: Browser, world: World, attrs: str, lang: str, words: str
) -> None:
    browser.sign_in("merchant_a1")
    r = browser.post(
        f"/merchant/products/new?lang={lang}", _form(world, sku_attrs=["500ml×6瓶", attrs, ""])
    )
    assert r.status_code == 422
    assert words in field_error(r.text, "sku_attrs.1")
    assert 'value="500ml×6瓶"' in r.text  # the other rows keep what was typed
    assert _products(world) == []


def test_the_new_product_form_takes_pictures(browser: Browser, world: World) -> None:
    browser.sign_in("merchant_a1")
    page = browser.get("/merchant/products/new").text
    assert 'enctype="multipart/form-data"' in page and 'name="images"' in page
    data = dict(_form(world), csrf_token=browser.csrf)
    files = [
        ("images", ("front.png", png_bytes((40, 30)), "image/png")),
        ("images", ("back.png", png_bytes((30, 40)), "image/png")),
    ]
    r = browser.client.post("/merchant/products/new", data=data, files=files)
    assert r.status_code == 303, r.text
    [product] = _products(world)
    assert [(i.width, i.height) for i in product.images] == [(40, 30), (30, 40)]


def test_a_picture_that_is_not_an_image_keeps_the_form_and_creates_nothing(
    browser: Browser, world: World
) -> None:
    browser.sign_in("merchant_a1")
    data = dict(_form(world), csrf_token=browser.csrf)
    files = [("images", ("notes.png", b"not a picture at all", "image/png"))]
    r = browser.client.post("/merchant/products/new?lang=zh", data=data, files=files)
    assert r.status_code == 422
    assert "图片无法使用" in field_error(r.text, "images")
    assert 'value="天然矿泉水"' in r.text
    assert _products(world) == []


def test_a_held_listing_after_saving_shows_one_state_not_saved_beside_held(
    browser: Browser, world: World
) -> None:
    browser.sign_in("merchant_a1")
    r = browser.post("/merchant/products/new", _form(world, title="全网最低价 矿泉水"))
    assert r.status_code == 303
    page = browser.get(r.headers["location"]).text
    assert 'class="notice ok"' not in page  # no green "saved" beside the review warning
    held = re.search(r'<div class="held[^"]*" data-testid="held-reason".*?</div>', page, re.S)
    assert held is not None and "审核通过前不会上架" in held.group(0)
    [product] = _products(world)
    clean = browser.post(
        f"/merchant/products/{product.id}",
        {
            "title": "长白山 矿泉水",
            "description": product.description,
            "sku_id": [s.id for s in product.skus],
            "sku_price": ["29.9", "39.9"],
            "sku_stock": ["100", "20"],
        },
    )
    assert clean.status_code == 303
    page = browser.get(clean.headers["location"]).text
    assert 'class="notice ok"' in page and "已保存，商品在售" in page
    assert 'data-testid="held-reason"' not in page
