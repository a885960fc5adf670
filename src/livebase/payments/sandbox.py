"""The sandbox provider: a payment provider that lives inside livebase and behaves like a
real one, so the whole path (create, pay page, signed asynchronous callback, retries,
refund) runs on a laptop without a merchant account.

The buyer opens ``pay_url`` (a page with a QR code of itself, so a phone can scan it from a
desktop screen) and presses confirm; that writes an outbox job in the same transaction,
and the job runner posts the callback to ``/api/v1/payments/callbacks/sandbox`` like a
provider would — signed, with a fresh timestamp and nonce on every attempt, retried with
backoff until the app answers 2xx. The app verifies it exactly as it verifies WeChat's.

Signature (DESIGN §5): ``Livebase-Signature`` = hex HMAC-SHA256(secret, timestamp + "\\n"
+ nonce + "\\n" + body), with ``Livebase-Timestamp`` (unix seconds) and ``Livebase-Nonce``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Mapping

from livebase.payments.provider import (
    TIMESTAMP_WINDOW_SECONDS,
    CallbackRefused,
    CallbackResult,
    CreatedPayment,
    PaymentRequest,
    RefundOrder,
    RefundResult,
)

NAME = "sandbox"
TIMESTAMP = "Livebase-Timestamp"
NONCE = "Livebase-Nonce"
SIGNATURE = "Livebase-Signature"
# A nonce is an opaque token; 8–64 characters keeps the nonce table's key bounded.
NONCE_LENGTH = (8, 64)


def signature(secret: bytes, timestamp: str, nonce: str, body: bytes) -> str:
    message = timestamp.encode() + b"\n" + nonce.encode() + b"\n" + body
    return hmac.new(secret, message, hashlib.sha256).hexdigest()


def signed_headers(secret: bytes, body: bytes, *, now: int | None = None) -> dict[str, str]:
    """Headers for one delivery attempt: a fresh timestamp and nonce each time, as a real
    provider's retries carry."""
    timestamp = str(int(time.time()) if now is None else now)
    nonce = secrets.token_hex(16)
    return {
        TIMESTAMP: timestamp,
        NONCE: nonce,
        SIGNATURE: signature(secret, timestamp, nonce, body),
        "Content-Type": "application/json",
    }


def callback_body(
    payment_id: str,
    amount_fen: int,
    provider_ref: str,
    payer: tuple[str, str | None] | None = None,
) -> bytes:
    data: dict[str, object] = {
        "payment_id": payment_id,
        "amount_fen": amount_fen,
        "outcome": "succeeded",
        "provider_ref": provider_ref,
    }
    if payer is not None:  # the wallet's real-name payer: name and keyed hash of the ID
        data["payer_name"], data["payer_id_hash"] = payer
    return json.dumps(data, separators=(",", ":")).encode()


def check_window(timestamp: str, now: float | None = None) -> None:
    """Refuse a timestamp that is not an integer or lies outside the 5-minute window."""
    try:
        ts = int(timestamp)
    except ValueError:
        raise CallbackRefused("bad_signature", "The timestamp is not unix seconds.") from None
    if abs((time.time() if now is None else now) - ts) > TIMESTAMP_WINDOW_SECONDS:
        raise CallbackRefused(
            "stale", f"The callback's timestamp is more than {TIMESTAMP_WINDOW_SECONDS} s away."
        )


class SandboxProvider:
    name = NAME

    def __init__(self, secret: bytes, public_url: str) -> None:
        self._secret = secret
        self._public_url = public_url.rstrip("/")

    def create_payment(self, request: PaymentRequest) -> CreatedPayment:
        return CreatedPayment(
            pay_url=f"{self._public_url}/pay/sandbox/{request.payment_id}",
            provider_ref=f"sbx_{request.payment_id}",
        )

    def signed_headers(self, body: bytes) -> dict[str, str]:
        return signed_headers(self._secret, body)

    def verify_callback(self, headers: Mapping[str, str], body: bytes) -> CallbackResult:
        timestamp = headers.get(TIMESTAMP.lower()) or headers.get(TIMESTAMP) or ""
        nonce = headers.get(NONCE.lower()) or headers.get(NONCE) or ""
        given = headers.get(SIGNATURE.lower()) or headers.get(SIGNATURE) or ""
        if not (timestamp and nonce and given):
            raise CallbackRefused(
                "bad_signature", f"Send {TIMESTAMP}, {NONCE} and {SIGNATURE} headers."
            )
        if not NONCE_LENGTH[0] <= len(nonce) <= NONCE_LENGTH[1] or not nonce.isascii():
            raise CallbackRefused("bad_signature", "The nonce is not 8–64 ASCII characters.")
        expected = signature(self._secret, timestamp, nonce, body)
        # Signature first, then the window: an unsigned request learns nothing about time.
        if not hmac.compare_digest(expected, given.strip().lower()):
            raise CallbackRefused("bad_signature", "The callback's signature does not match.")
        check_window(timestamp)
        try:
            data = json.loads(body)
            payment_id = str(data["payment_id"])
            amount = data["amount_fen"]
            outcome = data.get("outcome", "succeeded")
            ref = data.get("provider_ref")
            payer_name = data.get("payer_name")
            payer_id_hash = data.get("payer_id_hash")
        except (ValueError, KeyError, TypeError):
            raise CallbackRefused("bad_signature", "The signed body is not a callback.") from None
        if not isinstance(amount, int) or isinstance(amount, bool):
            raise CallbackRefused("bad_signature", "amount_fen is not an integer.")
        if outcome not in ("succeeded", "failed"):
            raise CallbackRefused("bad_signature", "outcome is not succeeded or failed.")
        return CallbackResult(
            payment_id=payment_id,
            provider_ref=str(ref) if ref is not None else None,
            amount_fen=amount,
            outcome=outcome,
            nonce=nonce,
            payer_name=str(payer_name) if payer_name is not None else None,
            payer_id_hash=str(payer_id_hash) if payer_id_hash is not None else None,
        )

    def refund(self, request: RefundOrder) -> RefundResult:
        # The sandbox holds no money: a refund within the paid amount is acknowledged at
        # once, under the refund's own id (a retry is the same refund).
        if not 0 < request.amount_fen <= request.total_fen:
            return RefundResult(accepted=False)
        return RefundResult(accepted=True, provider_ref=f"sbx_{request.refund_id}")
