"""The merchant's order pages in real Chromium at phone size (zh and en): the brand's
orders with the sales chart (uPlot), the status filter and the CSV export; an order
shipped with the ship form; refund requests rejected and approved; and the pages refused
to another brand's merchant and to a viewer.

The orders are placed through the API by the demo viewer and paid through the orders
service on the server's own database (the sandbox pay page has its own test)."""

from __future__ import annotations

import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from livebase.accounts.actors import SYSTEM_PAYMENTS
from livebase.orders import service as orders
from livebase.runtime import Runtime, build_runtime
from livebase.settings import Settings
from tests.e2e.conftest import DEMO_PASSWORD, Phone, Server, shot, sign_in

pytestmark = pytest.mark.e2e


def _api(server: Server, method: str, path: str, token: str | None, body: Any = None, **hdr: str):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{server.url}{path}", data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    for k, v in hdr.items():
        req.add_header(k.replace("_", "-"), v)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"null")


def _token(server: Server, username: str) -> str:
    status, body = _api(
        server,
        "POST",
        "/api/v1/auth/tokens",
        None,
        {"username": username, "password": DEMO_PASSWORD},
    )
    assert status == 201, body
    token: str = body["access_token"]
    return token


@dataclass
class Shop:
    org_id: str
    show_id: str
    show_title: str
    paid: list[str]
    pending: str
    shipped_with_request: str
    request_id: str


@pytest.fixture(scope="module")
def server_rt(server: Server) -> Iterator[Runtime]:
    rt = build_runtime(
        Settings(
            demo=True,
            data_dir=server.data_dir,
            database_url=f"sqlite:///{server.data_dir / 'livebase.db'}",
            run_jobs_in_process=False,
            log_level="WARNING",
        )
    )
    yield rt
    rt.close()


@pytest.fixture(scope="module")
def shop(server: Server, server_rt: Runtime) -> Shop:
    viewer = _token(server, "viewer")
    yihe = _token(server, "yihe")
    status, me = _api(server, "GET", "/api/v1/me", yihe)
    org_id = next(r["org_id"] for r in me["roles"] if r["role"] == "merchant")
    status, page = _api(server, "GET", "/api/v1/shows?status=live&limit=100", None)
    show = next(s for s in page["items"] if s["org_id"] == org_id)
    status, full = _api(server, "GET", f"/api/v1/shows/{show['id']}", None)
    line = next(x for x in full["shelf"] if x["stock"] >= 6)
    status, adr = _api(
        server,
        "POST",
        "/api/v1/addresses",
        viewer,
        {
            "name": "林小姐",
            "phone": "13900000009",
            "province": "北京市",
            "city": "北京市",
            "district": "海淀区",
            "detail": "中关村大街 27 号",
        },
    )
    assert status == 201, adr
    made = []
    for i in range(5):
        status, order = _api(
            server,
            "POST",
            "/api/v1/orders",
            viewer,
            {
                "show_id": show["id"],
                "lines": [{"sku_id": line["sku_id"], "quantity": 1 + i % 2}],
                "address_id": adr["id"],
            },
            Idempotency_Key=f"e2e-merchant-{secrets.token_hex(4)}",
        )
        assert status == 201, order
        made.append(order)
    with server_rt.sessions() as db, db.begin():
        for o in made[:4]:
            assert (
                orders.do_mark_paid(db, SYSTEM_PAYMENTS, o["id"], o["total_fen"], "e2e") == "paid"
            )
    shipped = made[3]["id"]
    status, _ = _api(
        server,
        "POST",
        f"/api/v1/orders/{shipped}/ship",
        yihe,
        {"carrier": "顺丰速运", "tracking_no": "SF7000000001"},
    )
    assert status == 200
    status, rfq = _api(
        server, "POST", f"/api/v1/orders/{shipped}/refund-requests", viewer, {"reason": "包装破损"}
    )
    assert status == 201, rfq
    return Shop(
        org_id,
        show["id"],
        show["title"],
        [o["id"] for o in made[:3]],
        made[4]["id"],
        shipped,
        rfq["id"],
    )


def _chart_ready(page: Page) -> None:
    chart = page.get_by_test_id("sales-chart")
    expect(chart).to_have_attribute("data-ready", "1")
    # uPlot drew into a canvas the width of the phone's card.
    box = chart.locator("canvas").first.bounding_box()
    assert box is not None and 250 < box["width"] <= 390


def test_the_merchant_sees_the_brands_orders_chart_filter_and_csv(
    phone: Phone, server: Server, shop: Shop
) -> None:
    page = phone.open("zh")
    sign_in(page, "yihe")
    page.get_by_role("link", name="订单", exact=True).click()
    page.wait_for_url(f"**/merchant/orgs/{shop.org_id}/orders")
    _chart_ready(page)
    # Four paid orders (one shipped with a refund request: still counted until refunded).
    assert int(page.get_by_test_id("sum-orders").inner_text()) >= 4
    expect(page.get_by_test_id("show-sales")).to_contain_text(shop.show_title)
    rows = page.get_by_test_id("merchant-order-row")
    assert rows.count() >= 5
    shot(page, "60-merchant-orders-zh")

    # The status filter: only paid orders.
    page.get_by_test_id("status-filter").locator('[data-status="paid"]').click()
    page.wait_for_url("**status=paid**")
    statuses = rows.evaluate_all("els => els.map(e => e.dataset.status)")
    assert statuses and set(statuses) == {"paid"}
    ids = set(rows.evaluate_all("els => els.map(e => e.dataset.id)"))
    assert set(shop.paid) <= ids and shop.pending not in ids

    # The CSV export link, with the page's own cookie session.
    href = page.get_by_test_id("csv-export").get_attribute("href")
    assert href == f"/api/v1/orgs/{shop.org_id}/orders.csv?status=paid"
    r = page.request.get(href)
    assert r.status == 200 and r.headers["content-type"].startswith("text/csv")
    text = r.text()
    assert text.startswith("\ufefforder_id,")
    assert all(order_id in text for order_id in shop.paid) and shop.pending not in text

    # Per show and per day.
    page.get_by_test_id("show-select").select_option(shop.show_id)
    page.wait_for_url(f"**show={shop.show_id}**")
    page.get_by_test_id("bucket-day").click()
    page.wait_for_url("**bucket=day**")
    _chart_ready(page)
    expect(page.get_by_test_id("sales-chart-card")).to_have_attribute("data-bucket", "day")
    expect(page.get_by_test_id("sales-chart-card")).to_have_attribute("data-show", shop.show_id)
    assert int(page.get_by_test_id("sum-orders").inner_text()) >= 4
    shot(page, "61-merchant-sales-by-day-zh")


def test_the_merchant_ships_an_order_and_decides_refund_requests(
    phone: Phone, server: Server, shop: Shop
) -> None:
    page = phone.open("zh")
    sign_in(page, "yihe")
    page.goto(f"/merchant/orders/{shop.paid[0]}")
    expect(page.get_by_test_id("merchant-order")).to_have_attribute("data-status", "paid")
    expect(page.get_by_test_id("ship-to")).to_contain_text("林小姐")
    form = page.get_by_test_id("ship-form")
    form.locator('input[name="carrier"]').fill("京东物流")
    form.locator('input[name="tracking_no"]').fill("JD0012345678")
    shot(page, "62-merchant-ship-form-zh")
    with page.expect_navigation():
        page.get_by_test_id("ship").click()
    expect(page.get_by_test_id("merchant-order")).to_have_attribute("data-status", "shipped")
    expect(page.get_by_test_id("tracking")).to_contain_text("京东物流 JD0012345678")
    expect(page.get_by_test_id("ship-form")).to_have_count(0)

    # The buyer confirms receipt on their order page: completed, in the timeline.
    buyer = phone.open("zh")
    sign_in(buyer, "viewer")
    buyer.goto(f"/me/orders/{shop.paid[0]}")
    with buyer.expect_navigation():
        buyer.get_by_test_id("confirm-receipt").click()
    expect(buyer.get_by_test_id("order-detail")).to_have_attribute("data-status", "completed")
    expect(buyer.locator('[data-testid=timeline] li[data-to="completed"]')).to_have_count(1)
    shot(buyer, "66-buyer-confirmed-receipt-zh")

    # The refund request of the shipped order: rejected with a reason ...
    page.goto(f"/merchant/orders/{shop.shipped_with_request}")
    request = page.get_by_test_id("refund-request")
    expect(request).to_have_attribute("data-status", "pending")
    expect(request).to_contain_text("包装破损")
    shot(page, "63-merchant-refund-request-zh")
    request.get_by_test_id("reject-reason").fill("外箱轻微压痕，商品完好")
    with page.expect_navigation():
        request.get_by_test_id("reject").click()
    expect(page.get_by_test_id("merchant-order")).to_have_attribute("data-status", "shipped")
    expect(page.get_by_test_id("refund-request")).to_have_attribute("data-status", "rejected")
    expect(page.get_by_test_id("timeline")).to_contain_text("外箱轻微压痕，商品完好")

    # ... then a second request approved: the refund goes to the provider.
    viewer = _token(server, "viewer")
    status, rfq = _api(
        server,
        "POST",
        f"/api/v1/orders/{shop.shipped_with_request}/refund-requests",
        viewer,
        {"reason": "商品有划痕"},
    )
    assert status == 201, rfq
    page.reload()
    pending = page.locator('[data-testid=refund-request][data-status="pending"]')
    with page.expect_navigation():
        pending.get_by_test_id("approve").click()
    expect(page.locator('[data-testid=refund-request][data-status="approved"]')).to_have_count(1)
    expect(page.get_by_test_id("merchant-order")).to_have_attribute(
        "data-status", "refund_requested"
    )
    shot(page, "64-merchant-refund-approved-zh")


def test_the_pages_in_english(phone: Phone, server: Server, shop: Shop) -> None:
    page = phone.open("en")
    sign_in(page, "yihe")
    page.goto(f"/merchant/orgs/{shop.org_id}/orders?lang=en")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Orders")
    expect(page.get_by_test_id("csv-export")).to_have_text("Export CSV")
    _chart_ready(page)
    shot(page, "65-merchant-orders-en")
    page.goto(f"/merchant/orders/{shop.pending}")
    expect(page.get_by_test_id("order-status")).to_have_text("Awaiting payment")
    expect(page.get_by_test_id("ship-form")).to_have_count(0)  # unpaid: nothing to ship


def test_another_brands_merchant_and_a_viewer_are_refused(
    phone: Phone, server: Server, shop: Shop
) -> None:
    page = phone.open("zh")
    sign_in(page, "jingwei")
    r = page.goto(f"/merchant/orgs/{shop.org_id}/orders")
    assert r is not None and r.status == 403
    r = page.goto(f"/merchant/orders/{shop.paid[1]}")
    assert r is not None and r.status == 404
    r = page.request.get(f"/api/v1/orgs/{shop.org_id}/orders.csv")
    assert r.status == 403
    # Their own page works (an empty brand's list).
    r = page.goto("/merchant/orders")
    assert r is not None and r.status == 200
    assert shop.org_id not in page.url
    # A form post to another brand's order is refused too, and changes nothing.
    csrf = page.locator('meta[name="csrf-token"]').get_attribute("content") or ""
    r = page.request.post(
        f"/merchant/orders/{shop.paid[1]}/ship",
        form={"carrier": "顺丰速运", "tracking_no": "SF0000000000", "csrf_token": csrf},
    )
    assert r.status == 404
    status, order = _api(server, "GET", f"/api/v1/orders/{shop.paid[1]}", _token(server, "yihe"))
    assert status == 200 and order["status"] == "paid"

    viewer = phone.open("zh")
    sign_in(viewer, "viewer")
    r = viewer.goto("/merchant/orders")
    assert r is not None and r.status == 403
    r = viewer.goto(f"/merchant/orgs/{shop.org_id}/orders")
    assert r is not None and r.status == 403
