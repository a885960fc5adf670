"""Every active product has a public page (issue 18 item 18): pictures, variants with
prices, the shows that sell it; not for held, rejected or deleted listings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from livebase.catalog import service as catalog
from livebase.catalog.models import Product
from livebase.shows import service as shows
from tests.conftest import SYSTEM_TESTS, World
from tests.web.conftest import Browser, make_product


@pytest.mark.parametrize(
    "lang,words",
    [
        ("zh", ["规格与价格", "直播价", "1号链接"]),
        ("en", ["Options and prices", "Live price", "Link 1"]),
    ],
)
def test_a_viewer_opens_a_product_page_with_variants_prices_and_its_shows(
    browser: Browser, world: World, lang: str, words: list[str]
) -> None:
    pid = make_product(world, world.brand_a1, title="纯棉圆领T恤", price_fen=9900)
    with world.rt.sessions() as db, db.begin():
        product = db.get(Product, pid)
        assert product is not None
        show = shows.do_create_show(
            db, SYSTEM_TESTS, world.brand_a1, "冬季穿搭专场", datetime.now(UTC) + timedelta(days=1),
            world["host_a1"].id,
        )  # fmt: skip
        shows.do_set_shelf(db, SYSTEM_TESTS, show, [shows.ShelfSpec(product.skus[0].id, 8900)])
        show_id = show.id
    r = browser.get(f"/products/{pid}?lang={lang}")
    assert r.status_code == 200
    page = r.text
    assert "纯棉圆领T恤" in page and "¥99.00" in page and "¥109.00" in page
    assert "白 · M" in page and "黑 · L" in page
    assert f'href="/shows/{show_id}"' in page and "¥89.00" in page
    for word in words:
        assert word in page
    assert 'data-testid="buy-slot"' in page
    # the public show page links each shelf line to its product page
    assert f'href="/products/{pid}"' in browser.get(f"/shows/{show_id}").text


def test_held_and_deleted_products_have_no_public_page(browser: Browser, world: World) -> None:
    held = make_product(world, world.brand_a1, title="全网最低价 面霜")
    gone = make_product(world, world.brand_a1, title="帆布托特包")
    with world.rt.sessions() as db, db.begin():
        product = db.get(Product, gone)
        assert product is not None
        catalog.do_delete_product(db, SYSTEM_TESTS, product)
    assert browser.get(f"/products/{held}").status_code == 404
    assert browser.get(f"/products/{gone}").status_code == 404
    assert browser.get("/products/prd_nothing").status_code == 404
    browser.sign_in("merchant_a1")  # the brand's own merchant previews the held one
    r = browser.get(f"/products/{held}")
    assert r.status_code == 200 and "仅你和基地工作人员可见" in r.text
