"""The ``payments.Provider`` seam (DESIGN §3): create a payment, verify a callback, refund.

Two real implementations stand behind it: ``sandbox`` (the default; it behaves like a real
provider, with a pay page and signed, retried callbacks) and a WeChat Pay v3 adapter. The
app never trusts a callback's word for the amount or the order: it checks the signature,
the timestamp window, the nonce, the amount and the order's state itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal, Protocol

# A callback older (or newer) than this is refused as ``stale`` (WeChat Pay v3 uses 5 min).
TIMESTAMP_WINDOW_SECONDS = 300


@dataclass(frozen=True)
class PaymentRequest:
    payment_id: str  # ours; the provider's out_trade_no
    order_id: str
    amount_fen: int
    description: str
    notify_url: str  # where the provider posts its callback
    payer_openid: str | None = None  # WeChat JSAPI only: the buyer's openid for our appid


@dataclass(frozen=True)
class CreatedPayment:
    pay_url: str  # where the buyer pays (a page, or a QR code's content)
    provider_ref: str | None = None  # the provider's id for it (prepay id, code_url, ...)


@dataclass(frozen=True)
class CallbackResult:
    """What a verified callback says happened."""

    payment_id: str
    provider_ref: str | None
    amount_fen: int
    outcome: Literal["succeeded", "failed"]
    nonce: str
    # The real-name payer, where the provider reports one (cross-border orders: customs
    # requires payer = buyer). The sandbox sends the name and the keyed hash of the ID.
    payer_name: str | None = None
    payer_id_hash: str | None = None


@dataclass(frozen=True)
class RefundOrder:
    refund_id: str  # ours; the provider's out_refund_no (its idempotency key)
    payment_id: str
    amount_fen: int
    total_fen: int
    reason: str


@dataclass(frozen=True)
class RefundResult:
    accepted: bool
    provider_ref: str | None = None


class ProviderError(RuntimeError):
    """The provider did not answer, answered an error, or its answer failed its signature
    check. A job that meets it fails and is retried with backoff."""


class CallbackRefused(Exception):
    """A callback that is forged (``bad_signature``) or outside the window (``stale``)."""

    def __init__(self, code: Literal["bad_signature", "stale"], detail: str) -> None:
        super().__init__(detail)
        self.code = code
        self.detail = detail


class Provider(Protocol):
    name: str

    def create_payment(self, request: PaymentRequest) -> CreatedPayment: ...

    def verify_callback(self, headers: Mapping[str, str], body: bytes) -> CallbackResult:
        """Check signature and timestamp window and decode the body; raise
        :class:`CallbackRefused`. Nonce replay and amount are checked by the caller,
        against the database."""
        ...

    def refund(self, request: RefundOrder) -> RefundResult: ...
