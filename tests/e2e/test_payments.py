"""The sandbox pay page in real Chromium at phone size: QR code, amount, confirm; the
embedded job runner then delivers the signed callback to the running server and the page
shows the order paid. The order is inserted as a row (the orders branch lands separately;
on merge this becomes the buy sheet)."""

from __future__ import annotations

import json
import urllib.request
from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from livebase.accounts.service import user_by_username
from livebase.bases.models import Organisation
from livebase.db import build_engine, build_sessionmaker, utcnow
from livebase.orders.models import Address, Order
from tests.e2e.conftest import DEMO_PASSWORD, Phone, Server, shot, sign_in

pytestmark = pytest.mark.e2e
# The runner polls every second and retries with backoff from 2 s: 20 s means it is stuck.
PAID_TIMEOUT_MS = 20_000


def _order_for(server: Server, username: str, total_fen: int) -> str:
    engine = build_engine(f"sqlite:///{server.data_dir / 'livebase.db'}")
    try:
        with build_sessionmaker(engine)() as db, db.begin():
            user = user_by_username(db, username)
            brand = db.scalars(select(Organisation).where(Organisation.kind == "brand")).first()
            assert user is not None and brand is not None
            address = Address(
                user_id=user.id,
                name="小林",
                phone="13800000000",
                province="北京市",
                city="北京市",
                district="朝阳区",
                detail="建国路 88 号",
            )
            db.add(address)
            db.flush()
            order = Order(
                buyer_id=user.id,
                org_id=brand.id,
                base_id=brand.base_id,
                goods_fen=total_fen,
                total_fen=total_fen,
                address_id=address.id,
                pay_by=utcnow() + timedelta(minutes=15),
            )
            db.add(order)
            db.flush()
            return order.id
    finally:
        engine.dispose()


def _api(server: Server, path: str, body: dict[str, object], headers: dict[str, str]) -> dict:  # type: ignore[type-arg]
    req = urllib.request.Request(
        server.url + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json", **headers},
        method="POST",
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        out: dict = json.loads(r.read())  # type: ignore[type-arg]
        return out


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_buyer_pays_on_the_sandbox_page_and_sees_the_order_paid(
    phone: Phone, server: Server, lang: str
) -> None:
    order_id = _order_for(server, "viewer", 12900)
    token = _api(
        server, "/api/v1/auth/tokens", {"username": "viewer", "password": DEMO_PASSWORD}, {}
    )["access_token"]
    payment = _api(
        server,
        f"/api/v1/orders/{order_id}/payments",
        {"provider": "sandbox"},
        {"Authorization": f"Bearer {token}", "Idempotency-Key": f"e2e-{order_id}"},
    )
    page = phone.open(lang)
    sign_in(page, "viewer")
    page.goto(payment["pay_url"])
    expect(page.get_by_test_id("pay-amount")).to_have_text("¥129.00")
    expect(page.get_by_test_id("pay-order")).to_have_text(order_id)
    qr = page.get_by_test_id("pay-qr").locator("svg")
    expect(qr).to_be_visible()
    box = qr.bounding_box()
    assert box is not None and 150 <= box["width"] <= 390  # scannable, fits the phone
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 0
    shot(page, f"payments-sandbox-pay-{lang}")

    confirm = page.get_by_test_id("pay-confirm")
    expect(confirm).to_contain_text("确认支付" if lang == "zh" else "Confirm payment")
    with page.expect_navigation():
        confirm.click()
    # The page reloads itself while the callback is on its way; the runner delivers it.
    expect(page.get_by_test_id("pay-status")).to_have_text(
        "支付成功，谢谢！" if lang == "zh" else "Paid. Thank you!", timeout=PAID_TIMEOUT_MS
    )
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0
    shot(page, f"payments-sandbox-paid-{lang}")
