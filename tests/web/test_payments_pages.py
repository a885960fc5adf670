"""The sandbox pay page: only the buyer sees it, confirm needs the form's CSRF token and
queues one callback, and an order that can no longer be paid offers no button."""

from __future__ import annotations

from livebase.payments.service import SANDBOX_CALLBACK_JOB
from tests.conftest import World
from tests.payments.helpers import expire, jobs_of, make_order
from tests.web.conftest import Browser


def _payment(browser: Browser, world: World) -> tuple[str, str]:
    order_id = make_order(world.rt, world)
    r = browser.client.post(
        f"/api/v1/orders/{order_id}/payments",
        json={"provider": "sandbox"},
        headers={**world["viewer"].auth, "Idempotency-Key": f"page-{order_id}"},
    )
    assert r.status_code == 201, r.text
    return order_id, str(r.json()["id"])


def test_the_buyer_sees_amount_qr_and_confirm_and_confirming_queues_one_callback(
    browser: Browser, world: World
) -> None:
    _, payment_id = _payment(browser, world)
    browser.sign_in("viewer")
    page = browser.get(f"/pay/sandbox/{payment_id}?lang=en")
    assert page.status_code == 200
    assert (
        "¥99.00" in page.text and "<svg" in page.text and 'data-testid="pay-confirm"' in page.text
    )
    r = browser.post(f"/pay/sandbox/{payment_id}/confirm")
    assert r.status_code == 303 and r.headers["location"] == f"/pay/sandbox/{payment_id}"
    assert browser.post(f"/pay/sandbox/{payment_id}/confirm").status_code == 303
    assert len(jobs_of(world.rt, SANDBOX_CALLBACK_JOB)) == 1  # pressed twice, sent once
    page = browser.get(f"/pay/sandbox/{payment_id}?lang=en")
    assert 'data-testid="pay-confirm"' not in page.text and "waiting" in page.text


def test_confirm_without_the_forms_csrf_token_is_refused(browser: Browser, world: World) -> None:
    _, payment_id = _payment(browser, world)
    browser.sign_in("viewer")
    r = browser.post(f"/pay/sandbox/{payment_id}/confirm", csrf=False)
    assert r.status_code == 403
    assert jobs_of(world.rt, SANDBOX_CALLBACK_JOB) == []


def test_another_user_gets_a_404_page_and_cannot_confirm(browser: Browser, world: World) -> None:
    _, payment_id = _payment(browser, world)
    browser.sign_in("merchant_a1")
    assert browser.get(f"/pay/sandbox/{payment_id}").status_code == 404
    assert browser.post(f"/pay/sandbox/{payment_id}/confirm").status_code == 404
    assert jobs_of(world.rt, SANDBOX_CALLBACK_JOB) == []
    browser.sign_out()
    r = browser.get(f"/pay/sandbox/{payment_id}")
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_an_expired_order_offers_no_button(browser: Browser, world: World) -> None:
    order_id, payment_id = _payment(browser, world)
    expire(world.rt, order_id)
    browser.sign_in("viewer")
    page = browser.get(f"/pay/sandbox/{payment_id}?lang=zh")
    assert page.status_code == 200
    assert 'data-testid="pay-confirm"' not in page.text and "已过期" in page.text
