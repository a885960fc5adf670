"""The bonded pages through the app with a cookie session: the buyer's pickup code page,
the in-show buy sheet of an imported item (identity once, tax and quota before paying,
pickup at a counter), the counter page for clerks only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from livebase.shows import service as shows
from tests.bonded.helpers import ID_BUYER, ID_OTHER, BondedShop
from tests.conftest import SYSTEM_TESTS, World
from tests.web.conftest import Browser


def test_the_buyers_page_shows_the_code_qr_and_masked_id_only(
    shop: BondedShop, browser: Browser
) -> None:
    order = shop.order()
    shop.pay(order["id"])
    shop.run_jobs()
    code = shop.detail(order["id"])["pickup_code"]
    browser.sign_in("viewer")
    r = browser.get(f"/bonded/orders/{order['id']}")
    assert r.status_code == 200
    assert f"{code[:4]} {code[4:8]} {code[8:]}" in r.text and "<svg" in r.text
    assert "110105********002X" in r.text and ID_BUYER not in r.text
    browser.sign_in("merchant_a2")
    assert browser.get(f"/bonded/orders/{order['id']}").status_code == 404


def test_the_counter_page_is_for_clerks(shop: BondedShop, browser: Browser) -> None:
    browser.sign_in("clerk_a")
    r = browser.get("/counter")
    assert r.status_code == 200 and "一号提货柜台" in r.text
    r = browser.post("/counter/lookup", {"code": "0000000000"})
    assert r.status_code == 404 and "No order to pick up" in r.text
    browser.sign_in("viewer")
    assert browser.get("/counter").status_code == 403


def test_the_in_show_sheet_asks_the_identity_once_shows_tax_and_quota_and_offers_pickup(
    shop: BondedShop, browser: Browser, world: World
) -> None:
    with shop.rt.sessions() as db, db.begin():
        show = shows.do_create_show(
            db,
            SYSTEM_TESTS,
            world.brand_a1,
            "保税仓直播",
            datetime.now(UTC) + timedelta(hours=1),
            world["host_a1"].id,
        )
        shows.do_set_shelf(db, SYSTEM_TESTS, show, [shows.ShelfSpec(shop.sku, None)])
        show_id = show.id
    world.add_user("newbuyer")
    browser.sign_in("newbuyer")
    r = browser.get(f"/shows/{show_id}/buy?sku={shop.sku}")
    assert r.status_code == 303 and r.headers["location"].startswith(f"/shows/{show_id}/buy-bonded")
    r = browser.get(r.headers["location"])
    assert r.status_code == 200 and 'data-testid="identity-form"' in r.text
    r = browser.post(
        f"/shows/{show_id}/buy-bonded/identity",
        {"sku_id": shop.sku, "name": "李四", "id_number": "110105199001011231"},
    )
    assert r.status_code == 200 and "checksum" in r.text  # refused, says why, stays
    r = browser.post(
        f"/shows/{show_id}/buy-bonded/identity",
        {"sku_id": shop.sku, "name": "李四", "id_number": ID_OTHER},
    )
    assert r.status_code == 303
    sheet = browser.get(r.headers["location"])
    assert 'data-testid="bonded-quote"' in sheet.text
    assert "¥18.20" in sheet.text  # 9.1% of 200.00, before paying
    assert "一号提货柜台" in sheet.text and "¥25,800.00" in sheet.text.replace(
        "¥25800.00", "¥25,800.00"
    )
    key = sheet.text.split('name="key" value="')[1].split('"')[0]
    identity = sheet.text.split('<option value="')[1].split('"')[0]
    r = browser.post(
        f"/shows/{show_id}/buy-bonded",
        {
            "sku_id": shop.sku,
            "identity_id": identity,
            "destination": f"counter:{shop.counter}",
            "key": key,
        },
    )
    assert r.status_code == 303 and r.headers["location"].startswith("/me/orders/")
    order_id = r.headers["location"].rsplit("/", 1)[1]
    with shop.rt.sessions() as db:
        from livebase.orders import service as orders

        order = orders.get_order(db, order_id)
        assert order.total_fen == 20_000 + 1_820 and order.pickup_counter_id == shop.counter
