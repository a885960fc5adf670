"""Buy-and-pick-up (即买即提) in real Chromium at phone size on the demo server: a buyer
orders an imported cream with a pickup counter, pays on the sandbox page, the sandbox
customs releases it, the buyer's page shows the pickup code and its QR, and the demo clerk
hands it over on the counter page (keyboard entry, masked ID, last four characters)."""

from __future__ import annotations

import json
import re
import urllib.request
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import Phone, Server, shot, sign_in

pytestmark = pytest.mark.e2e
# Receipts arrive 2 s apart from the sandbox customs, the runner polls every second.
RELEASED_TIMEOUT_MS = 40_000
BUYER = ("e2e_bonded", "e2e-password-1")
ID_NUMBER = "11010519491231002X"


def _api(
    server: Server, method: str, path: str, body: Any = None, token: str = "", key: str = ""
) -> Any:
    req = urllib.request.Request(server.url + path, method=method)
    if body is not None:
        req.data = json.dumps(body).encode()
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    if key:
        req.add_header("Idempotency-Key", key)
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def _bonded_order(server: Server) -> tuple[str, str]:
    _api(
        server,
        "POST",
        "/api/v1/accounts",
        {"username": BUYER[0], "password": BUYER[1], "display_name": "小周"},
    )
    token = _api(
        server, "POST", "/api/v1/auth/tokens", {"username": BUYER[0], "password": BUYER[1]}
    )["access_token"]
    ident = _api(
        server,
        "POST",
        "/api/v1/identities",
        {"name": "小周", "id_number": ID_NUMBER, "phone": "13800000009"},
        token,
    )
    products = _api(server, "GET", "/api/v1/products?limit=100")["items"]
    product = next(p for p in products if p.get("cross_border"))
    base = _api(server, "GET", "/api/v1/bases")["items"][0]["id"]
    counter = _api(server, "GET", f"/api/v1/bases/{base}/pickup-counters")["items"][0]["id"]
    order = _api(
        server,
        "POST",
        "/api/v1/orders",
        {
            "lines": [{"sku_id": product["skus"][0]["id"], "quantity": 1}],
            "pickup_counter_id": counter,
            "identity_id": ident["id"],
        },
        token,
        key="e2e-bonded-1",
    )
    pay = _api(
        server,
        "POST",
        f"/api/v1/orders/{order['id']}/payments",
        {"provider": "sandbox"},
        token,
        key="e2e-bonded-pay",
    )
    return order["id"], pay["pay_url"]


def test_a_viewer_buys_customs_releases_and_the_clerk_hands_it_over(
    phone: Phone, server: Server
) -> None:
    order_id, pay_url = _bonded_order(server)
    buyer = phone.open("zh")
    sign_in(buyer, *BUYER)
    buyer.goto(pay_url.replace(server.url, ""))
    buyer.get_by_test_id("pay-confirm").click()
    buyer.goto(f"/bonded/orders/{order_id}")
    page = buyer.get_by_test_id("bonded-order")
    deadline_page = f"/bonded/orders/{order_id}"
    for _ in range(RELEASED_TIMEOUT_MS // 1000):
        if page.get_attribute("data-status") == "ready_for_pickup":
            break
        buyer.wait_for_timeout(1000)  # the sandbox customs answers on its own schedule
        buyer.goto(deadline_page)
    expect(page).to_have_attribute("data-status", "ready_for_pickup")
    code = buyer.get_by_test_id("pickup-code").inner_text()
    assert re.fullmatch(r"\d{4} \d{4} \d{2}", code)
    assert "110105********002X" in page.inner_text()
    shot(buyer, "bonded-buyer-pickup-code")

    clerk = phone.open("zh")
    sign_in(clerk, "clerk")
    clerk.goto("/counter")
    clerk.get_by_test_id("code").fill(code.replace(" ", ""))
    clerk.get_by_test_id("lookup").click()
    expect(clerk.get_by_test_id("masked-id")).to_have_text("110105********002X")
    assert ID_NUMBER not in clerk.content()
    shot(clerk, "bonded-counter-lookup")
    clerk.get_by_test_id("last4").fill("1234")
    clerk.get_by_test_id("handover").click()
    expect(clerk.get_by_test_id("counter-error")).to_be_visible()
    clerk.get_by_test_id("last4").fill("002x")
    clerk.get_by_test_id("handover").click()
    expect(clerk.get_by_test_id("handover-done")).to_be_visible()
    shot(clerk, "bonded-counter-done")

    en = phone.open("en")
    sign_in(en, "clerk")
    en.goto("/counter?lang=en")
    en.get_by_test_id("code").fill(code.replace(" ", ""))
    en.get_by_test_id("lookup").click()
    expect(en.get_by_test_id("counter-error")).to_be_visible()  # used once already
    shot(en, "bonded-counter-en-used")
