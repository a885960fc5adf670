"""The merchant's editor applies a changed stock as the difference to the figure it
showed, so units sold while the form was open stay sold."""

from __future__ import annotations

import re

from livebase.catalog import service as catalog
from livebase.catalog import stock
from tests.conftest import World
from tests.web.conftest import Browser, make_product


def _sell(world: World, sku_id: str, k: int) -> None:
    with world.rt.sessions() as db, db.begin():
        assert stock.reserve(db, sku_id, k)


def _editor_post(browser: Browser, world: World, product_id: str, new_stock: str) -> int:
    page = browser.get(f"/merchant/products/{product_id}").text
    ids = re.findall(r'name="sku_id" value="(sku_[^"]+)"', page)
    shown = re.findall(r'name="sku_stock_read" value="(\d+)"', page)
    assert len(ids) == 2 and shown == ["10", "10"]
    # Between the merchant opening the form and saving it, three units of SKU 1 sell.
    _sell(world, ids[0], 3)
    r = browser.post(
        f"/merchant/products/{product_id}",
        {
            "title": "纯棉圆领T恤",
            "description": "纯棉，白色。",
            "sku_id": ids,
            "sku_attrs": ["", ""],
            "sku_price": ["99.00", "109.00"],
            "sku_stock": [new_stock, "10"],
            "sku_code": ["", ""],
            "sku_stock_read": shown,
        },
    )
    return r.status_code


def test_editor_restock_adds_to_what_sold_meanwhile(browser: Browser, world: World) -> None:
    pid = make_product(world, world.brand_a1, stock=10)
    browser.sign_in("merchant_a1")
    assert _editor_post(browser, world, pid, "15") == 303
    with world.rt.sessions() as db:
        first, second = catalog.get_product(db, None, pid).skus
    # 10 read + 5 added − 3 sold = 12; the untouched SKU keeps its 10.
    assert (first.stock, second.stock) == (12, 10)


def test_editor_save_without_stock_change_keeps_the_sales(browser: Browser, world: World) -> None:
    pid = make_product(world, world.brand_a1, stock=10)
    browser.sign_in("merchant_a1")
    assert _editor_post(browser, world, pid, "10") == 303
    with world.rt.sessions() as db:
        assert catalog.get_product(db, None, pid).skus[0].stock == 7
