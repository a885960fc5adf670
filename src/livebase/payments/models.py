"""Payments, the nonces of taken callbacks, and provider refunds.

A payment is one attempt to pay one order through one provider; its ``id`` is the
provider's ``out_trade_no``. A refund is one instruction to a provider to give money back
(``id`` = the provider's ``out_refund_no``, so a retried instruction is the same refund on
the provider's side); it is written together with the outbox job that sends it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from livebase.db import Base, FenColumn, TimestampMixin, UTCDateTime, id_column, utcnow

PAYMENT_STATUSES = ("pending", "succeeded", "failed")
REFUND_STATUSES = ("queued", "acknowledged")


class Payment(TimestampMixin, Base):
    __tablename__ = "payments"
    __table_args__ = (Index("ix_payments_order_status", "order_id", "status"),)

    id: Mapped[str] = id_column("pay")
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    buyer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(FenColumn)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    pay_url: Mapped[str] = mapped_column(String(500))
    # The provider's id for it (a WeChat prepay_id / code_url, later its transaction_id).
    provider_ref: Mapped[str | None] = mapped_column(String(200))
    # Sandbox: when the buyer pressed "confirm" on the pay page (the callback is on its way).
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # What the order said when the callback was taken: "paid", "already_paid" or "late".
    outcome: Mapped[str | None] = mapped_column(String(20))


class CallbackNonce(Base):
    """Every nonce of a callback that passed its signature check, per provider, so a
    replayed callback (same nonce) is refused. Kept beyond the timestamp window; older
    rows are purged because a stale timestamp is refused anyway."""

    __tablename__ = "payment_callback_nonces"

    provider: Mapped[str] = mapped_column(String(20), primary_key=True)
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)


class PaymentRefund(TimestampMixin, Base):
    __tablename__ = "payment_refunds"
    __table_args__ = (UniqueConstraint("payment_id", "purpose", name="uq_refund_purpose"),)

    id: Mapped[str] = id_column("rfd")
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    provider: Mapped[str] = mapped_column(String(20))
    amount_fen: Mapped[int] = mapped_column(FenColumn)
    reason: Mapped[str] = mapped_column(Text)
    # "late" (a payment taken after the order expired), "order" (a refund of the order):
    # one of each per payment, so a repeated request queues nothing twice.
    purpose: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(14), default="queued")
    requested_by: Mapped[str] = mapped_column(String(40))
    provider_ref: Mapped[str | None] = mapped_column(String(200))
    acknowledged_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
