"""Buy-and-pick-up (即买即提) in real Chromium at phone size on the demo server: a buyer
orders an imported cream with a pickup counter, pays on the sandbox page, the sandbox
customs releases it, the buyer's page shows the pickup code and its QR, and the demo clerk
hands it over on the counter page (a photo of the QR read by jsQR, keyboard entry, masked
ID, last four characters); the base's operator reads the bonded page."""

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


def _png(data: str) -> bytes:
    """A photo-like PNG of a QR code (segno, a full QR, on a white margin)."""
    import io

    import segno

    buf = io.BytesIO()
    segno.make_qr(data, error="m").save(buf, kind="png", scale=8, border=6)
    return buf.getvalue()


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
    # No camera in this browser: the scan button says so; a photo of the QR still works.
    expect(clerk.locator("form[data-qr=ready]")).to_have_count(1)
    assert clerk.evaluate("typeof window.jsQR") == "function"
    clerk.get_by_test_id("qr-scan").click()
    expect(clerk.get_by_test_id("qr-scan")).to_have_text(re.compile("摄像头"))
    expect(clerk.get_by_test_id("qr-scan")).to_be_disabled()
    clerk.get_by_test_id("qr-photo").set_input_files(
        files=[{"name": "noise.png", "mimeType": "image/png", "buffer": _png("hello")}]
    )
    expect(clerk.get_by_test_id("qr-note")).to_have_text(re.compile("不是提货码"))
    assert clerk.get_by_test_id("code").input_value() == ""
    clerk.get_by_test_id("qr-photo").set_input_files(
        files=[{"name": "qr.png", "mimeType": "image/png", "buffer": _png(code.replace(" ", ""))}]
    )
    expect(clerk.get_by_test_id("code")).to_have_value(code.replace(" ", ""))
    shot(clerk, "bonded-counter-qr-read")
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


def test_the_operator_reads_the_bases_bonded_page(phone: Phone, server: Server) -> None:
    for lang, title in (("zh", "申报单状态"), ("en", "Declarations by state")):
        page = phone.open(lang)
        sign_in(page, "operator")
        page.goto(f"/ops?lang={lang}")
        page.get_by_test_id("hub-bonded").click()
        view = page.get_by_test_id("ops-bonded")
        expect(view).to_contain_text(title)
        expect(page.get_by_test_id("broker-csv")).to_be_visible()
        expect(page.get_by_test_id("tax-collected")).to_be_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"the page scrolls sideways on a phone: {width}px"
        shot(page, f"bonded-ops-{lang}")
