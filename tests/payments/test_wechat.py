"""The WeChat Pay v3 adapter end to end against a local stand-in server (real HTTP, keys
and a self-signed platform certificate generated here): Native order creation signed with
the merchant key, answers verified against the platform certificate, notifications
decrypted and checked, refunds retried until WeChat acknowledges them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from livebase.app import create_app
from livebase.jobs.service import run_due
from livebase.payments import service
from livebase.payments.models import Payment, PaymentRefund
from livebase.runtime import Runtime
from tests.conftest import SYSTEM_TESTS, World
from tests.dbstate import changes, snapshot
from tests.payments.helpers import (
    jobs_of,
    make_due_now,
    make_order,
    order_status,
    reserve_port,
    runtime_with,
    serving,
    url_of,
)
from tests.payments.wechat_standin import Keys, StandIn, new_key, tamper_ciphertext

URL = "/api/v1/payments/callbacks/wechat"

# One set of keys for the module: RSA key generation is the slow part.
KEYS = Keys()


@dataclass
class Env:
    rt: Runtime
    standin: StandIn
    client: TestClient
    world: World


@pytest.fixture
def env(rt: Runtime, world: World, tmp_path: Path) -> Iterator[Env]:
    standin = StandIn(KEYS)
    sock = reserve_port()
    wrt = runtime_with(rt, **KEYS.write(tmp_path), wechatpay_base_url=url_of(sock))
    with serving(standin.app(), sock), TestClient(create_app(runtime=wrt)) as client:
        yield Env(wrt, standin, client, world)
    sock.close()


def pay_with_wechat(env: Env, order_id: str, key: str = "wx-1") -> dict[str, object]:
    r = env.client.post(
        f"/api/v1/orders/{order_id}/payments",
        json={"provider": "wechat"},
        headers={**env.world["viewer"].auth, "Idempotency-Key": key},
    )
    assert r.status_code == 201, r.text
    out: dict[str, object] = r.json()
    return out


def post(env: Env, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    r = env.client.post(URL, content=body, headers=headers)
    return r.status_code, (r.json()["error"] if r.content else "")


def test_native_order_is_signed_and_its_notification_pays_the_order(env: Env) -> None:
    order_id = make_order(env.rt, env.world, total_fen=2990)
    out = pay_with_wechat(env, order_id)
    assert str(out["pay_url"]).startswith("weixin://wxpay/bizpayurl?pr=")
    # The stand-in accepted the merchant's signature and got the order as v3 wants it.
    sent = env.standin.orders[str(out["id"])]
    assert sent["amount"] == {"total": 2990, "currency": "CNY"}
    assert sent["mchid"] == KEYS.mchid and sent["appid"] == KEYS.appid
    assert sent["notify_url"].endswith("/api/v1/payments/callbacks/wechat")
    assert env.standin.refused == []

    assert post(env, *env.standin.notification(str(out["id"]), 2990)) == (204, "")
    assert order_status(env.rt, order_id) == "paid"
    with env.rt.sessions() as db:
        payment = db.get(Payment, out["id"])
        assert payment is not None and (payment.provider_ref or "").startswith("42000")


@pytest.mark.parametrize(
    "forgery", ["tampered_resource", "other_key", "unknown_serial", "stale", "replay"]
)
def test_forged_stale_and_replayed_notifications_are_refused(env: Env, forgery: str) -> None:
    order_id = make_order(env.rt, env.world, total_fen=2990)
    payment_id = str(pay_with_wechat(env, order_id)["id"])
    expected = "stale" if forgery in ("stale", "replay") else "bad_signature"
    if forgery == "tampered_resource":
        body, _ = env.standin.notification(payment_id, 2990)
        body = tamper_ciphertext(body)  # signed afresh: only the AES-GCM tag catches it
        headers = env.standin.sign_headers(body)
    elif forgery == "other_key":
        env.standin.sign_with = new_key()
        body, headers = env.standin.notification(payment_id, 2990)
    elif forgery == "unknown_serial":
        body, headers = env.standin.notification(payment_id, 2990, serial="ABCDEF0123")
    elif forgery == "stale":
        body, headers = env.standin.notification(payment_id, 2990, at=int(time.time()) - 400)
    else:
        body, headers = env.standin.notification(payment_id, 2990)
        assert post(env, body, headers) == (204, "")
    before = snapshot(env.rt)
    assert post(env, body, headers) == (400, expected)
    assert changes(before, snapshot(env.rt)) == ""


def test_a_notification_for_another_amount_is_refused(env: Env) -> None:
    order_id = make_order(env.rt, env.world, total_fen=2990)
    payment_id = str(pay_with_wechat(env, order_id)["id"])
    before = snapshot(env.rt)
    assert post(env, *env.standin.notification(payment_id, 1)) == (409, "conflict")
    assert changes(before, snapshot(env.rt)) == ""


def test_an_answer_not_signed_by_the_platform_is_not_believed(env: Env) -> None:
    env.standin.sign_with = new_key()
    order_id = make_order(env.rt, env.world)
    before = snapshot(env.rt)
    r = env.client.post(
        f"/api/v1/orders/{order_id}/payments",
        json={"provider": "wechat"},
        headers={**env.world["viewer"].auth, "Idempotency-Key": "wx-forged"},
    )
    assert r.status_code == 502 and r.json()["error"] == "provider_unavailable"
    assert changes(before, snapshot(env.rt)) == ""


def test_a_refund_is_retried_until_wechat_acknowledges_it(env: Env) -> None:
    order_id = make_order(env.rt, env.world, total_fen=2990)
    payment_id = str(pay_with_wechat(env, order_id)["id"])
    assert post(env, *env.standin.notification(payment_id, 2990)) == (204, "")
    env.standin.fail_refunds = 1
    with env.rt.sessions() as db:
        service.do_request_refund(db, SYSTEM_TESTS, order_id, 2990, "买家取消")
        db.commit()
    assert run_due(env.rt.sessions, env.rt.jobs) == 1
    (job,) = jobs_of(env.rt, service.REFUND_JOB)
    assert job.attempts == 1 and "500" in (job.last_error or "")
    assert order_status(env.rt, order_id) == "paid"
    make_due_now(env.rt, service.REFUND_JOB)
    assert run_due(env.rt.sessions, env.rt.jobs) == 1
    assert order_status(env.rt, order_id) == "refunded"
    # Both attempts were the same refund for WeChat: one out_refund_no.
    first, second = env.standin.refunds
    assert first == second
    assert first["amount"] == {"refund": 2990, "total": 2990, "currency": "CNY"}
    with env.rt.sessions() as db:
        (refund,) = db.scalars(select(PaymentRefund))
        assert refund.id == first["out_refund_no"] and refund.status == "acknowledged"
