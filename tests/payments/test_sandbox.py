"""The sandbox provider end to end: create a payment, confirm it, and the signed callback
goes out through the outbox to a real HTTP server running the app — refused while the
server is down, retried with backoff, delivered once it answers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from starlette.responses import Response

from livebase.app import create_app
from livebase.jobs.service import run_due
from livebase.payments import service
from livebase.payments.models import Payment
from livebase.payments.parts import PAYMENTS
from livebase.runtime import Runtime
from tests.conftest import World
from tests.payments.helpers import (
    jobs_of,
    make_due_now,
    make_order,
    order_status,
    principal,
    reserve_port,
    runtime_with,
    serving,
    url_of,
)

CALLBACK = "payments.sandbox_callback"


@pytest.fixture
def live(rt: Runtime) -> Iterator[tuple[Runtime, object]]:
    """A runtime whose public URL is a port nothing listens on yet."""
    sock = reserve_port()
    prt = runtime_with(rt, public_url=url_of(sock))
    yield prt, sock
    sock.close()


def create(client: TestClient, world: World, order_id: str, key: str = "k-1") -> dict[str, object]:
    r = client.post(
        f"/api/v1/orders/{order_id}/payments",
        json={"provider": "sandbox"},
        headers={**world["viewer"].auth, "Idempotency-Key": key},
    )
    assert r.status_code == 201, r.text
    out: dict[str, object] = r.json()
    return out


def test_create_payment_answers_id_pay_url_and_the_order_amount(rt: Runtime, world: World) -> None:
    order_id = make_order(rt, world, total_fen=12345)
    with TestClient(create_app(runtime=rt)) as client:
        body = create(client, world, order_id)
        assert body["amount_fen"] == 12345
        assert str(body["pay_url"]).endswith(f"/pay/sandbox/{body['id']}")
        # Same key, same body: the first answer again, and no second payment.
        assert create(client, world, order_id) == body
        r = client.post(
            f"/api/v1/orders/{order_id}/payments",
            json={"provider": "wechat"},
            headers={**world["viewer"].auth, "Idempotency-Key": "k-1"},
        )
        assert r.status_code == 409 and r.json()["error"] == "idempotency_conflict"
        r = client.post(
            f"/api/v1/orders/{order_id}/payments",
            json={"provider": "sandbox"},
            headers=world["viewer"].auth,
        )
        assert r.status_code == 400 and r.json()["error"] == "idempotency_key_required"
    with rt.sessions() as db:
        assert len(db.scalars(select(Payment)).all()) == 1


def test_only_the_buyers_own_pending_order_can_be_paid(rt: Runtime, world: World) -> None:
    mine = make_order(rt, world)
    paid = make_order(rt, world, status="paid")
    with TestClient(create_app(runtime=rt)) as client:
        r = client.post(
            f"/api/v1/orders/{mine}/payments",
            json={"provider": "sandbox"},
            headers={**world["merchant_a1"].auth, "Idempotency-Key": "x"},
        )
        assert r.status_code == 404 and r.json()["error"] == "not_found"
        r = client.post(
            f"/api/v1/orders/{paid}/payments",
            json={"provider": "sandbox"},
            headers={**world["viewer"].auth, "Idempotency-Key": "y"},
        )
        assert r.status_code == 409 and r.json()["error"] == "conflict"
        r = client.post(
            f"/api/v1/orders/{mine}/payments",
            json={"provider": "alipay"},
            headers={**world["viewer"].auth, "Idempotency-Key": "z"},
        )
        assert r.status_code == 422 and r.json()["fields"][0]["loc"] == "body.provider"


def test_callback_is_retried_while_the_app_is_down_and_delivered_once_it_answers(
    live: tuple[Runtime, object], world: World
) -> None:
    prt, sock = live
    order_id = make_order(prt, world)
    app = create_app(runtime=prt)
    with TestClient(app) as client:
        payment_id = str(create(client, world, order_id)["id"])
    # Given the buyer confirmed on the pay page: the callback is an outbox row.
    with prt.sessions() as db:
        assert service.do_confirm_sandbox(
            db, principal(prt, world, "viewer"), prt.part(PAYMENTS), payment_id
        )
        db.commit()
    with prt.sessions() as db:  # a second press queues nothing
        assert not service.do_confirm_sandbox(
            db, principal(prt, world, "viewer"), prt.part(PAYMENTS), payment_id
        )
        db.commit()
    (job,) = jobs_of(prt, CALLBACK)
    assert json.loads(job.payload["body"])["amount_fen"] == 9900

    # When nothing listens at the callback URL, the delivery fails and backs off.
    assert run_due(prt.sessions, prt.jobs) == 1
    (job,) = jobs_of(prt, CALLBACK)
    assert job.done_at is None and job.attempts == 1 and "ConnectError" in (job.last_error or "")
    assert order_status(prt, order_id) == "pending_payment"
    assert run_due(prt.sessions, prt.jobs) == 0  # not due again before its backoff

    # Then the app answers: the next attempt (fresh timestamp and nonce) is taken.
    with serving(app, sock):  # type: ignore[arg-type]
        make_due_now(prt, CALLBACK)
        assert run_due(prt.sessions, prt.jobs) == 1
    (job,) = jobs_of(prt, CALLBACK)
    assert job.done_at is not None and job.attempts == 1
    assert order_status(prt, order_id) == "paid"
    with prt.sessions() as db:
        payment = db.get(Payment, payment_id)
        assert payment is not None
        assert (payment.status, payment.outcome) == ("succeeded", "paid")


class Refusing:
    """The app behind a front that answers the first ``times`` requests with 503 (an app
    node restarting behind its load balancer), then passes everything through."""

    def __init__(self, app: object, times: int) -> None:
        self.app = app
        self.times = times
        self.refused = 0

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.refused < self.times:
            self.refused += 1
            await Response("busy", status_code=503)(scope, receive, send)
            return
        await self.app(scope, receive, send)  # type: ignore[operator]


def test_callback_refused_by_the_app_is_retried_until_it_is_taken(
    live: tuple[Runtime, object], world: World
) -> None:
    prt, sock = live
    order_id = make_order(prt, world)
    app = create_app(runtime=prt)
    with TestClient(app) as client:
        payment_id = str(create(client, world, order_id)["id"])
    with prt.sessions() as db:
        service.do_confirm_sandbox(
            db, principal(prt, world, "viewer"), prt.part(PAYMENTS), payment_id
        )
        db.commit()
    front = Refusing(app, times=2)
    with serving(front, sock):  # type: ignore[arg-type]
        for attempt in (1, 2):
            make_due_now(prt, CALLBACK)
            assert run_due(prt.sessions, prt.jobs) == 1
            (job,) = jobs_of(prt, CALLBACK)
            assert job.done_at is None and job.attempts == attempt
            assert "503" in (job.last_error or "")
            assert order_status(prt, order_id) == "pending_payment"
        make_due_now(prt, CALLBACK)
        assert run_due(prt.sessions, prt.jobs) == 1
    (job,) = jobs_of(prt, CALLBACK)
    assert job.done_at is not None and front.refused == 2
    assert order_status(prt, order_id) == "paid"
