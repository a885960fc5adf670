"""Payments: create a payment for a buyer's pending order, take a provider's callback,
refund through the provider.

Nothing a callback says is believed before it is checked here, in this order: the
provider's signature and the 5-minute timestamp window (the provider module), the nonce
(each one is taken once, by the primary key of ``payment_callback_nonces``), the payment
it names, the amount (it must be the amount we asked for), and the order's state (one
conditional update in ``orders.do_mark_paid``). Refusals are logged with the reason.

Everything owed to the outside — the sandbox's callback, every refund — is an outbox job
written in the transaction that caused it (``jobs.service.do_enqueue``), delivered and
retried with backoff by the job runner until the other side acknowledges it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from livebase.accounts.actors import SYSTEM_PAYMENTS, Actor, actor_name
from livebase.accounts.service import Principal
from livebase.db import new_id, utcnow
from livebase.errors import ApiError, Code, Conflict, NotFound
from livebase.jobs.service import do_enqueue
from livebase.logs import get_logger
from livebase.orders import hooks as order_hooks
from livebase.orders import service as orders
from livebase.orders.models import Order
from livebase.payments.models import CallbackNonce, Payment, PaymentRefund
from livebase.payments.parts import Payments
from livebase.payments.provider import (
    TIMESTAMP_WINDOW_SECONDS,
    CallbackRefused,
    PaymentRequest,
    ProviderError,
)
from livebase.payments.sandbox import callback_body

log = get_logger("livebase.payments")

SANDBOX_CALLBACK_JOB = "payments.sandbox_callback"
REFUND_JOB = "payments.refund"
# The buyer is told on the order's timeline (to_status stays what it was).
LATE_NOTE = "付款晚于支付期限，已自动原路退款 / Paid after the deadline: refunded automatically"
DUPLICATE_NOTE = "重复付款，已自动原路退款 / Paid twice: the second payment is refunded"


def payment_view(payment: Payment) -> dict[str, Any]:
    return {
        "id": payment.id,
        "order_id": payment.order_id,
        "provider": payment.provider,
        "pay_url": payment.pay_url,
        "amount_fen": payment.amount_fen,
        "status": payment.status,
    }


# --- creating a payment --------------------------------------------------------------


def do_create_payment(
    db: Session, me: Principal, payments: Payments, order_id: str, provider_name: str
) -> Payment:
    """A payment of the buyer's own pending order (404 for anyone else's, 409 unless it
    is ``pending_payment``) through ``provider_name``."""
    provider = payments.provider(provider_name)
    if provider is None:
        raise ApiError(
            f"No payment provider {provider_name!r} here; use one of "
            f"{', '.join(sorted(payments.providers))}.",
            code=Code.VALIDATION_FAILED,
            fields=[{"loc": "body.provider", "msg": "unknown provider"}],
        )
    order = orders.check_payable(db, me, order_id)
    payment_id = new_id("pay")
    request = PaymentRequest(
        payment_id=payment_id,
        order_id=order.id,
        amount_fen=order.total_fen,
        description=f"livebase {order.id}",
        notify_url=payments.notify_url(provider_name),
    )
    try:
        created = provider.create_payment(request)
    except ProviderError as exc:
        log.warning("payment provider failed", provider=provider_name, error=str(exc))
        raise ApiError(
            "The payment provider did not answer as it should; try again in a moment.",
            code=Code.PROVIDER_UNAVAILABLE,
        ) from exc
    payment = Payment(
        id=payment_id,
        order_id=order.id,
        buyer_id=me.id,
        provider=provider_name,
        amount_fen=order.total_fen,
        pay_url=created.pay_url,
        provider_ref=created.provider_ref,
    )
    db.add(payment)
    db.flush()
    log.info("payment created", payment=payment.id, order=order.id, provider=provider_name)
    return payment


def check_own_payment(db: Session, me: Principal, payment_id: str) -> tuple[Payment, Order]:
    payment = db.get(Payment, payment_id)
    if payment is None or payment.buyer_id != me.id:
        raise NotFound("No such payment.")
    order = db.get(Order, payment.order_id)
    if order is None:
        raise NotFound("No such payment.")
    return payment, order


def _sandbox_payer(
    db: Session, order: Order, payer_identity_id: str | None
) -> tuple[str, str | None] | None:
    """The sandbox wallet's real-name payer for a cross-border order (orders/hooks.py):
    by default the order's buyer identity; ``payer_identity_id`` pays as another."""
    for hook in order_hooks.hooks_of(db):
        payer = hook.payer_of(db, order, payer_identity_id)
        if payer is not None:
            return payer.name, payer.id_hash
    return None


def do_confirm_sandbox(
    db: Session,
    me: Principal,
    payments: Payments,
    payment_id: str,
    payer_identity_id: str | None = None,
) -> bool:
    """The buyer pressed "confirm" on the sandbox pay page: the sandbox "takes the money"
    and owes the app its callback, queued in this transaction. A second press queues
    nothing (returns False). Like a real provider the sandbox does not know the order's
    deadline: a confirm after it leads to a late callback and an automatic refund."""
    payment, order = check_own_payment(db, me, payment_id)
    if payment.provider != payments.sandbox.name:
        raise NotFound("No such sandbox payment.")
    if payment.status != "pending":
        return False
    result = db.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.confirmed_at.is_(None))
        .values(confirmed_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    body = callback_body(
        payment.id,
        payment.amount_fen,
        payment.provider_ref or payment.id,
        _sandbox_payer(db, order, payer_identity_id),
    )
    do_enqueue(
        db,
        SANDBOX_CALLBACK_JOB,
        {"payment_id": payment.id, "url": payments.notify_url("sandbox"), "body": body.decode()},
    )
    db.refresh(payment)
    return True


# --- callbacks -----------------------------------------------------------------------


def _refuse(provider: str, code: Code, detail: str, **context: Any) -> ApiError:
    # A logger looked up at each refusal (they are rare), so the line goes wherever
    # logging is configured now rather than where it was when this module first logged.
    get_logger("livebase.payments").warning(
        "payment callback refused", provider=provider, error=str(code), detail=detail, **context
    )
    return ApiError(detail, code=code)


def do_take_callback(
    db: Session, payments: Payments, provider_name: str, headers: Mapping[str, str], body: bytes
) -> str:
    """Take a provider's callback; return what happened (for the log and the tests):
    ``paid``, ``already_paid``, ``late``, ``repeat`` or ``failed``. Raise 400
    ``bad_signature`` / ``stale`` for a forged, stale or replayed one, 404 for an unknown
    payment, 409 for a wrong amount; each refusal changes nothing and is logged."""
    provider = payments.provider(provider_name)
    if provider is None:
        raise NotFound(f"No payment provider {provider_name!r}.")
    lowered = {k.lower(): v for k, v in headers.items()}
    try:
        result = provider.verify_callback(lowered, body)
    except CallbackRefused as exc:
        raise _refuse(provider_name, Code(exc.code), exc.detail) from None
    if not _insert_new(db, CallbackNonce, {"provider": provider_name, "nonce": result.nonce}):
        raise _refuse(
            provider_name,
            Code.STALE,
            "This callback's nonce was taken before (a replay).",
            nonce=result.nonce,
        ) from None
    payment = db.get(Payment, result.payment_id)
    if payment is None or payment.provider != provider_name:
        raise _refuse(provider_name, Code.NOT_FOUND, "No such payment.", payment=result.payment_id)
    if result.amount_fen != payment.amount_fen:
        # Money moved that we did not ask for: refuse, change nothing, and say so loudly
        # (the provider retries; a person reconciles it).
        raise _refuse(
            provider_name,
            Code.CONFLICT,
            f"The callback says {result.amount_fen} fen; the payment is {payment.amount_fen} fen.",
            payment=payment.id,
        )
    if result.outcome == "failed":
        db.execute(
            update(Payment)
            .where(Payment.id == payment.id, Payment.status == "pending")
            .values(status="failed")
            .execution_options(synchronize_session=False)
        )
        return "failed"
    took = db.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.status.in_(("pending", "failed")))
        .values(status="succeeded", succeeded_at=utcnow(), provider_ref=result.provider_ref)
        .execution_options(synchronize_session=False)
    )
    if getattr(took, "rowcount", 0) != 1:
        log.info("payment callback repeated", provider=provider_name, payment=payment.id)
        return "repeat"
    payer = (
        order_hooks.Payer(result.payer_name, result.payer_id_hash)
        if result.payer_name is not None
        else None
    )
    outcome = orders.do_mark_paid(
        db, SYSTEM_PAYMENTS, payment.order_id, result.amount_fen, payment.id, payer
    )
    db.execute(
        update(Payment)
        .where(Payment.id == payment.id)
        .values(outcome=outcome)
        .execution_options(synchronize_session=False)
    )
    db.refresh(payment)
    if outcome == "late":
        _queue_refund(db, SYSTEM_PAYMENTS, payment, payment.amount_fen, "late", LATE_NOTE)
    elif outcome == "already_paid" and _paid_by_another(db, payment):
        _queue_refund(db, SYSTEM_PAYMENTS, payment, payment.amount_fen, "duplicate", DUPLICATE_NOTE)
    log.info("payment callback taken", provider=provider_name, payment=payment.id, outcome=outcome)
    return outcome


def _paid_by_another(db: Session, payment: Payment) -> bool:
    other = db.scalar(
        select(Payment.id).where(
            Payment.order_id == payment.order_id,
            Payment.id != payment.id,
            Payment.outcome == "paid",
        )
    )
    return other is not None


def _insert_new(db: Session, model: type[Any], values: dict[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING; whether the row is new. (Not a savepoint: on
    SQLite's driver a savepoint opened before any write is the outermost transaction, and
    releasing it would commit on its own.)"""
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    # RETURNING tells, on both databases (psycopg reports no rowcount for an ORM
    # session's INSERT ... ON CONFLICT).
    key = next(iter(model.__table__.primary_key.columns))
    stmt = insert(model).values(**values).on_conflict_do_nothing().returning(key)
    return db.execute(stmt).first() is not None


# --- refunds -------------------------------------------------------------------------


def _queue_refund(
    db: Session, actor: Actor, payment: Payment, amount_fen: int, purpose: str, reason: str
) -> PaymentRefund | None:
    """One refund per payment and purpose (the unique key), with its outbox job, in the
    caller's transaction. A second request for the same purpose queues nothing."""
    values = {
        "id": new_id("rfd"),
        "payment_id": payment.id,
        "order_id": payment.order_id,
        "provider": payment.provider,
        "amount_fen": amount_fen,
        "reason": reason,
        "purpose": purpose,
        "status": "queued",
        "requested_by": actor_name(actor),
        "created_at": utcnow(),
    }
    if not _insert_new(db, PaymentRefund, values):
        return None
    refund = db.get(PaymentRefund, values["id"])
    if refund is None:
        return None
    do_enqueue(
        db,
        REFUND_JOB,
        {
            "refund_id": refund.id,
            "payment_id": payment.id,
            "provider": payment.provider,
            "amount_fen": amount_fen,
            "total_fen": payment.amount_fen,
            "reason": reason,
        },
    )
    log.info("refund queued", refund=refund.id, payment=payment.id, purpose=purpose)
    return refund


def do_request_refund(
    db: Session, actor: Actor, order_id: str, amount_fen: int, reason: str
) -> None:
    """Queue a refund of the order's payment through its provider (outbox; retried until
    the provider acknowledges it, then ``orders.do_mark_refunded``). Called by orders
    (a buyer's cancel before shipment, a merchant's approval) after its own checks."""
    payment = db.scalar(
        select(Payment).where(Payment.order_id == order_id, Payment.outcome == "paid")
    )
    if payment is None:
        raise Conflict("This order has no payment to refund.")
    if not 0 < amount_fen <= payment.amount_fen:
        raise Conflict(f"A refund is 1–{payment.amount_fen} fen for this payment.")
    _queue_refund(db, actor, payment, amount_fen, "order", reason)


def do_acknowledge_refund(db: Session, refund_id: str, provider_ref: str | None) -> bool:
    """The provider accepted the refund: mark it (once) and move the order on."""
    result = db.execute(
        update(PaymentRefund)
        .where(PaymentRefund.id == refund_id, PaymentRefund.status == "queued")
        .values(status="acknowledged", acknowledged_at=utcnow(), provider_ref=provider_ref)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        return False
    refund = db.get(PaymentRefund, refund_id)
    if refund is None:
        return False
    db.refresh(refund)
    order = db.get(Order, refund.order_id)
    if refund.purpose == "order":
        orders.do_mark_refunded(db, SYSTEM_PAYMENTS, refund.order_id)
    elif order is not None:
        # The order keeps its state (expired, or paid by the other payment); the buyer
        # reads on its timeline that this money went back.
        orders.do_record_transition(
            db, SYSTEM_PAYMENTS, order, order.status, order.status, refund.reason
        )
    log.info("refund acknowledged", refund=refund.id, purpose=refund.purpose)
    return True


def paid_payment(db: Session, order_id: str) -> Payment | None:
    """The payment that paid the order (the bonded declaration's CEB411 describes it)."""
    return db.scalar(select(Payment).where(Payment.order_id == order_id, Payment.outcome == "paid"))


def do_purge_nonces(db: Session) -> int:
    """Nonces older than twice the window can go: their timestamps are refused anyway."""
    cutoff = utcnow() - timedelta(seconds=2 * TIMESTAMP_WINDOW_SECONDS)
    result = db.execute(delete(CallbackNonce).where(CallbackNonce.seen_at < cutoff))
    return int(getattr(result, "rowcount", 0) or 0)
