"""What the app checks in a callback before it believes it: signature, the 5-minute
window, the nonce, the payment, the amount and the order's state. Refusals change nothing
and are logged; a repeat of a taken callback answers 204 and changes nothing; a payment
after expiry is taken, refunded through the provider and the buyer is told."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import structlog
import structlog.testing
from fastapi.testclient import TestClient
from sqlalchemy import select

from livebase.app import create_app
from livebase.jobs.service import run_due
from livebase.orders.models import OrderTransition
from livebase.payments import sandbox, service
from livebase.payments.models import Payment, PaymentRefund
from livebase.runtime import Runtime
from tests.conftest import SYSTEM_TESTS, World
from tests.dbstate import changes, snapshot
from tests.payments.helpers import expire, jobs_of, make_order, order_status
from tests.race import interleave

URL = "/api/v1/payments/callbacks/sandbox"


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=rt)) as c:
        yield c


def new_payment(client: TestClient, world: World, order_id: str) -> Payment:
    r = client.post(
        f"/api/v1/orders/{order_id}/payments",
        json={"provider": "sandbox"},
        headers={**world["viewer"].auth, "Idempotency-Key": f"pay-{order_id}"},
    )
    assert r.status_code == 201, r.text
    with world.rt.sessions() as db:
        payment = db.get(Payment, r.json()["id"])
        assert payment is not None
        db.expunge(payment)
        return payment


def signed(
    rt: Runtime, payment: Payment, *, amount: int | None = None, at: int | None = None
) -> tuple[bytes, dict[str, str]]:
    body = sandbox.callback_body(
        payment.id, payment.amount_fen if amount is None else amount, f"sbx_{payment.id}"
    )
    return body, sandbox.signed_headers(rt.settings.sandbox_secret, body, now=at)


def post(client: TestClient, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    r = client.post(URL, content=body, headers=headers)
    return r.status_code, (r.json()["error"] if r.content else "")


@pytest.fixture
def logged() -> Iterator[list[dict[str, Any]]]:
    """The structured log events of the test (structlog's own capture)."""
    with structlog.testing.capture_logs() as events:
        yield events


def refusals(events: list[dict[str, Any]]) -> list[str]:
    return [str(e) for e in events if e.get("event") == "payment callback refused"]


def test_a_signed_callback_pays_the_order_and_its_repeat_changes_nothing(
    rt: Runtime, world: World, client: TestClient
) -> None:
    order_id = make_order(rt, world)
    payment = new_payment(client, world, order_id)
    assert post(client, *signed(rt, payment)) == (204, "")
    assert order_status(rt, order_id) == "paid"
    before = snapshot(rt)
    # The provider sends it again (a fresh nonce and timestamp, as its retries carry).
    assert post(client, *signed(rt, payment)) == (204, "")
    diff = changes(before, snapshot(rt))
    assert (
        "payment_callback_nonces" in diff
    )  # the repeat's nonce is taken, so it cannot be replayed
    assert [line for line in diff.splitlines() if line and not line.startswith(" ")] == [
        line for line in diff.splitlines() if "payment_callback_nonces" in line
    ], diff
    with rt.sessions() as db:
        steps = db.scalars(
            select(OrderTransition)
            .where(OrderTransition.order_id == order_id)
            .order_by(OrderTransition.at, OrderTransition.id)
        )
        assert [(t.to_status, t.actor) for t in steps] == [
            ("pending_payment", world["viewer"].id),
            ("paid", "system:payments"),
        ]


@pytest.mark.parametrize(
    "tamper",
    ["signature", "body", "no_headers", "other_secret"],
)
def test_a_forged_callback_is_refused_logged_and_changes_nothing(
    rt: Runtime,
    world: World,
    client: TestClient,
    logged: list[dict[str, Any]],
    tamper: str,
) -> None:
    order_id = make_order(rt, world)
    payment = new_payment(client, world, order_id)
    body, headers = signed(rt, payment)
    if tamper == "signature":
        headers[sandbox.SIGNATURE] = "0" * 64
    elif tamper == "body":
        body = body.replace(b'"succeeded"', b'"succeeded" ')
    elif tamper == "no_headers":
        headers = {"Content-Type": "application/json"}
    else:
        headers = sandbox.signed_headers(b"y" * 40, body)
    before = snapshot(rt)
    assert post(client, body, headers) == (400, "bad_signature")
    assert changes(before, snapshot(rt)) == ""
    assert refusals(logged)


def test_a_stale_callback_is_refused_on_both_sides_of_the_window(
    rt: Runtime, world: World, client: TestClient, logged: list[dict[str, Any]]
) -> None:
    order_id = make_order(rt, world)
    payment = new_payment(client, world, order_id)
    before = snapshot(rt)
    for at in (int(time.time()) - 301, int(time.time()) + 301):
        assert post(client, *signed(rt, payment, at=at)) == (400, "stale")
    assert changes(before, snapshot(rt)) == ""
    assert len(refusals(logged)) == 2
    # Just inside the window is fine.
    assert post(client, *signed(rt, payment, at=int(time.time()) - 240)) == (204, "")


def test_a_replayed_callback_is_refused_as_stale(
    rt: Runtime, world: World, client: TestClient, logged: list[dict[str, Any]]
) -> None:
    order_id = make_order(rt, world)
    payment = new_payment(client, world, order_id)
    body, headers = signed(rt, payment)
    assert post(client, body, headers) == (204, "")
    before = snapshot(rt)
    assert post(client, body, headers) == (400, "stale")
    assert changes(before, snapshot(rt)) == ""
    assert any("replay" in m for m in refusals(logged))


def test_a_callback_for_the_wrong_amount_is_refused_and_changes_nothing(
    rt: Runtime, world: World, client: TestClient, logged: list[dict[str, Any]]
) -> None:
    order_id = make_order(rt, world, total_fen=9900)
    payment = new_payment(client, world, order_id)
    before = snapshot(rt)
    assert post(client, *signed(rt, payment, amount=1)) == (409, "conflict")
    assert changes(before, snapshot(rt)) == ""
    assert order_status(rt, order_id) == "pending_payment"
    assert refusals(logged)


def test_a_callback_for_an_unknown_payment_is_404_and_changes_nothing(
    rt: Runtime, world: World, client: TestClient
) -> None:
    order_id = make_order(rt, world)
    payment = new_payment(client, world, order_id)
    payment.id = "pay_unknown"
    before = snapshot(rt)
    assert post(client, *signed(rt, payment)) == (404, "not_found")
    assert changes(before, snapshot(rt)) == ""


def test_a_payment_after_expiry_is_refunded_through_the_provider_and_the_buyer_is_told(
    rt: Runtime, world: World, client: TestClient
) -> None:
    order_id = make_order(rt, world)
    payment = new_payment(client, world, order_id)
    expire(rt, order_id)  # the expiry job won the race
    assert post(client, *signed(rt, payment)) == (204, "")
    assert order_status(rt, order_id) == "expired"
    (job,) = jobs_of(rt, service.REFUND_JOB)
    assert job.payload["amount_fen"] == payment.amount_fen
    # The outbox delivers the refund; the provider acknowledges it.
    assert run_due(rt.sessions, rt.jobs) == 1
    with rt.sessions() as db:
        (refund,) = db.scalars(select(PaymentRefund))
        assert (refund.purpose, refund.status) == ("late", "acknowledged")
        notes = [
            t.note
            for t in db.scalars(
                select(OrderTransition)
                .where(OrderTransition.order_id == order_id)
                .order_by(OrderTransition.at, OrderTransition.id)
            )
        ]
        # Placed, expired by the sweep, then the late payment's note for the buyer.
        assert notes == [None, "not paid in time", service.LATE_NOTE]
        p = db.get(Payment, payment.id)
        assert p is not None and p.outcome == "late"
    # A repeat of that late callback queues no second refund.
    assert post(client, *signed(rt, payment)) == (204, "")
    assert len(jobs_of(rt, service.REFUND_JOB)) == 1


def test_a_second_payment_of_a_paid_order_is_refunded(
    rt: Runtime, world: World, client: TestClient
) -> None:
    order_id = make_order(rt, world)
    first = new_payment(client, world, order_id)
    r = client.post(
        f"/api/v1/orders/{order_id}/payments",
        json={"provider": "sandbox"},
        headers={**world["viewer"].auth, "Idempotency-Key": "second"},
    )
    with rt.sessions() as db:
        second = db.get(Payment, r.json()["id"])
        assert second is not None
        db.expunge(second)
    assert post(client, *signed(rt, first)) == (204, "")
    assert post(client, *signed(rt, second)) == (204, "")
    assert order_status(rt, order_id) == "paid"
    (job,) = jobs_of(rt, service.REFUND_JOB)
    assert job.payload["payment_id"] == second.id


def test_request_refund_goes_through_the_outbox_then_marks_the_order_refunded(
    rt: Runtime, world: World, client: TestClient
) -> None:
    order_id = make_order(rt, world)
    payment = new_payment(client, world, order_id)
    assert post(client, *signed(rt, payment)) == (204, "")
    with rt.sessions() as db:
        service.do_request_refund(db, SYSTEM_TESTS, order_id, payment.amount_fen, "买家取消")
        service.do_request_refund(db, SYSTEM_TESTS, order_id, payment.amount_fen, "again")
        db.commit()
    assert len(jobs_of(rt, service.REFUND_JOB)) == 1  # one refund per order, asked twice
    assert order_status(rt, order_id) == "paid"  # not before the provider acknowledges
    assert run_due(rt.sessions, rt.jobs) == 1
    assert order_status(rt, order_id) == "refunded"


def test_request_refund_of_an_unpaid_order_is_a_conflict(rt: Runtime, world: World) -> None:
    order_id = make_order(rt, world)
    with rt.sessions() as db, pytest.raises(Exception, match="no payment"):
        service.do_request_refund(db, SYSTEM_TESTS, order_id, 100, "x")


@pytest.mark.parametrize(
    ("label", "make", "status", "error"),
    [
        ("malformed_unsigned", lambda s: (b'{"payment_id": ', {}), 400, "bad_signature"),
        (
            "signed_not_a_callback",
            lambda s: (b"[1, 2]", sandbox.signed_headers(s, b"[1, 2]")),
            400,
            "bad_signature",
        ),
        (
            "signed_malformed",
            lambda s: (b'{"payment_id": ', sandbox.signed_headers(s, b'{"payment_id": ')),
            400,
            "bad_signature",
        ),
        (
            "signed_float_amount",
            lambda s: (
                b'{"payment_id":"pay_x","amount_fen":99.5}',
                sandbox.signed_headers(s, b'{"payment_id":"pay_x","amount_fen":99.5}'),
            ),
            400,
            "bad_signature",
        ),
        (
            "short_nonce",
            lambda s: (b"{}", {**sandbox.signed_headers(s, b"{}"), sandbox.NONCE: "n"}),
            400,
            "bad_signature",
        ),
        ("oversized", lambda s: (b" " * (1024 * 1024 + 16), {}), 413, "payload_too_large"),
    ],
)
def test_bad_input_to_the_callback_endpoint_is_refused_and_changes_nothing(
    rt: Runtime,
    world: World,
    client: TestClient,
    label: str,
    make: object,
    status: int,
    error: str,
) -> None:
    body, headers = make(rt.settings.sandbox_secret)  # type: ignore[operator]
    before = snapshot(rt)
    r = client.post(URL, content=body, headers={"Content-Type": "application/json", **headers})
    assert (r.status_code, r.json()["error"]) == (status, error), label
    assert r.json()["detail"]
    assert changes(before, snapshot(rt)) == ""


def test_a_callback_for_an_unknown_provider_is_404(client: TestClient) -> None:
    r = client.post("/api/v1/payments/callbacks/paypal", content=b"{}")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_a_payment_racing_the_expiry_cannot_both_win(
    rt: Runtime, world: World, client: TestClient
) -> None:
    """The expiry commits at the last moment before the callback's update: the order
    stays expired (its units went back once), the payment is taken as late and refunded.
    On PostgreSQL the expiry lands just before the order's conditional UPDATE; SQLite has
    one writer, so the only interleaving is before the callback's first write."""
    order_id = make_order(rt, world)
    payment = new_payment(client, world, order_id)
    at = (
        "UPDATE orders"
        if rt.engine.dialect.name == "postgresql"
        else "INSERT INTO payment_callback_nonces"
    )
    with interleave(rt.engine, at, lambda: expire(rt, order_id)):
        assert post(client, *signed(rt, payment)) == (204, "")
    assert order_status(rt, order_id) == "expired"
    with rt.sessions() as db:
        p = db.get(Payment, payment.id)
        assert p is not None and (p.status, p.outcome) == ("succeeded", "late")
    (job,) = jobs_of(rt, service.REFUND_JOB)
    assert job.payload["payment_id"] == payment.id
