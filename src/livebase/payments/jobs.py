"""The payments feature's outbox handlers (registered in ``livebase.features``).

Each runs inside the transaction that marks its job done; raising makes the runner retry
it with backoff (2, 4, 8 … s). The payload carries everything the remote call needs, so
the handler reads nothing before it: on SQLite a read snapshot held across the call could
not be turned into the write that marks the job done once the callback had written.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.orm import Session

from livebase.logs import get_logger
from livebase.payments import service
from livebase.payments.parts import payments_of
from livebase.payments.provider import RefundOrder

log = get_logger("livebase.payments")
# A provider gives the app a few seconds to answer a callback (WeChat: 5 s); ours too.
CALLBACK_TIMEOUT_SECONDS = 5.0


class NotAcknowledged(RuntimeError):
    """The other side did not accept the message; the runner tries again later."""


def deliver_sandbox_callback(db: Session, payload: dict[str, Any]) -> None:
    """Post the sandbox's signed callback to the app, like a provider: a fresh timestamp
    and nonce on every attempt; anything but a 2xx is retried."""
    payments = payments_of(db)
    body = str(payload["body"]).encode()
    headers = payments.sandbox.signed_headers(body)
    try:
        r = httpx.post(
            str(payload["url"]), content=body, headers=headers, timeout=CALLBACK_TIMEOUT_SECONDS
        )
    except httpx.HTTPError as exc:
        raise NotAcknowledged(
            f"callback for {payload['payment_id']} not delivered: {exc!r}"
        ) from exc
    if not 200 <= r.status_code < 300:
        raise NotAcknowledged(
            f"callback for {payload['payment_id']} answered {r.status_code}: {r.text[:200]}"
        )
    log.info("sandbox callback delivered", payment=payload["payment_id"], status=r.status_code)


def send_refund(db: Session, payload: dict[str, Any]) -> None:
    """Ask the provider for the refund (our refund id is its idempotency key, so a retry
    after a lost answer is still one refund); mark it once the provider accepts."""
    payments = payments_of(db)
    provider = payments.provider(str(payload["provider"]))
    if provider is None:
        raise NotAcknowledged(f"provider {payload['provider']!r} is not configured here")
    result = provider.refund(
        RefundOrder(
            refund_id=str(payload["refund_id"]),
            payment_id=str(payload["payment_id"]),
            amount_fen=int(payload["amount_fen"]),
            total_fen=int(payload["total_fen"]),
            reason=str(payload["reason"]),
        )
    )
    if not result.accepted:
        raise NotAcknowledged(f"refund {payload['refund_id']} not accepted by the provider")
    service.do_acknowledge_refund(db, str(payload["refund_id"]), result.provider_ref)


def purge_nonces(db: Session, _payload: dict[str, Any]) -> None:
    removed = service.do_purge_nonces(db)
    log.info("purged callback nonces", removed=removed)
