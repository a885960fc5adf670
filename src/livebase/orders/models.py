"""Orders, their lines and transitions, addresses, flash sales, coupons, refund requests and
idempotency records (DESIGN §5 "Orders, flash sales, coupons, payments").

Money is integer fen; a line keeps the title, attributes and unit price the buyer paid, so
an order reads the same after the listing changes. Every state change of an order is a
row in ``order_transitions`` naming who (a user id or ``system:*``) and when.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from livebase.db import Base, FenColumn, TimestampMixin, UTCDateTime, id_column, utcnow

ORDER_STATUSES: tuple[str, ...] = (
    "pending_payment",
    "paid",
    "shipped",
    "completed",
    "cancelled",
    "expired",
    "refund_requested",
    "refunded",
)
# Bonded (cross-border) orders after payment (DESIGN §5; bonded/states.py moves them).
BONDED_STATUSES = (
    "declared",
    "under_review",
    "rejected",
    "detained",
    "released",
    "ready_for_pickup",
    "picked_up",
    "tax_settled",
    "closed",
    "returned",
)
ORDER_STATUSES = ORDER_STATUSES + BONDED_STATUSES
# Orders that still hold their units: sold or about to be (the stock identity of issue 12:
# units sold + units held by open orders + units left = units put in).
OPEN_STATUSES = ("pending_payment",)
SALE_STATUSES = ("scheduled", "open", "sold_out", "closed")
COUPON_KINDS = ("amount", "percent")


class Address(TimestampMixin, Base):
    """A buyer's delivery address (收货地址)."""

    __tablename__ = "addresses"

    id: Mapped[str] = id_column("adr")
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(20))
    province: Mapped[str] = mapped_column(String(20))
    city: Mapped[str] = mapped_column(String(20))
    district: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str] = mapped_column(String(120))


class FlashSale(TimestampMixin, Base):
    """A flash sale (秒杀) of one SKU in one show. ``quantity`` units were set aside from
    the SKU's stock when the sale was created; ``remaining`` is what is still for sale;
    what is unsold goes back to the SKU when the sale closes (``returned`` records that it
    did, exactly once)."""

    __tablename__ = "flash_sales"
    __table_args__ = (
        CheckConstraint("remaining >= 0 AND remaining <= quantity", name="remaining_bounds"),
        CheckConstraint("per_buyer_limit >= 1", name="per_buyer_limit_positive"),
    )

    id: Mapped[str] = id_column("fs")
    show_id: Mapped[str] = mapped_column(ForeignKey("shows.id"), index=True)
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id"), index=True)
    # The brand that owns the SKU (whose orders these are) and the show's base.
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), index=True)
    price_fen: Mapped[int] = mapped_column(FenColumn)
    quantity: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    per_buyer_limit: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10), default="scheduled", index=True)
    opened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Units given back to the SKU's stock when the sale closed (0 until then).
    returned: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(40))


class Coupon(TimestampMixin, Base):
    """A coupon a host drops during a show: ``quantity`` claims, one per buyer."""

    __tablename__ = "coupons"
    __table_args__ = (CheckConstraint("remaining >= 0", name="remaining_nonneg"),)

    id: Mapped[str] = id_column("cpn")
    show_id: Mapped[str] = mapped_column(ForeignKey("shows.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # "amount" | "percent"
    amount_fen: Mapped[int | None] = mapped_column(FenColumn)
    percent: Mapped[int | None] = mapped_column(Integer)
    # For percent coupons: the most they take off (None: no cap).
    cap_fen: Mapped[int | None] = mapped_column(FenColumn)
    min_spend_fen: Mapped[int] = mapped_column(FenColumn, default=0)
    quantity: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(40))


class CouponClaim(TimestampMixin, Base):
    __tablename__ = "coupon_claims"
    __table_args__ = (UniqueConstraint("coupon_id", "user_id", name="uq_coupon_claim_user"),)

    id: Mapped[str] = id_column("clm")
    coupon_id: Mapped[str] = mapped_column(ForeignKey("coupons.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    # Set once, by a conditional update, when an order uses the claim.
    used_order_id: Mapped[str | None] = mapped_column(String(40))


class Order(TimestampMixin, Base):
    """One order of one buyer from one brand (an order never mixes sellers: each brand
    ships, refunds and invoices its own)."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_org_status", "org_id", "status"),
        Index("ix_orders_status_pay_by", "status", "pay_by"),
        CheckConstraint(
            "(address_id IS NULL) <> (pickup_counter_id IS NULL)", name="one_destination"
        ),
    )

    id: Mapped[str] = id_column("ord")
    buyer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), index=True)
    show_id: Mapped[str | None] = mapped_column(ForeignKey("shows.id"), index=True)
    flash_sale_id: Mapped[str | None] = mapped_column(ForeignKey("flash_sales.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="pending_payment")
    goods_fen: Mapped[int] = mapped_column(FenColumn)
    discount_fen: Mapped[int] = mapped_column(FenColumn, default=0)
    freight_fen: Mapped[int] = mapped_column(FenColumn, default=0)
    total_fen: Mapped[int] = mapped_column(FenColumn)
    coupon_claim_id: Mapped[str | None] = mapped_column(ForeignKey("coupon_claims.id"))
    address_id: Mapped[str | None] = mapped_column(ForeignKey("addresses.id"))
    pickup_counter_id: Mapped[str | None] = mapped_column(ForeignKey("pickup_counters.id"))
    # The address as it was when the order was placed (an address edited later does not
    # move a parcel already on its way).
    ship_to: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    pay_by: Mapped[datetime] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    carrier: Mapped[str | None] = mapped_column(String(40))
    tracking_no: Mapped[str | None] = mapped_column(String(64))
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set by the one conditional update that gives the order's units back (cancel, expiry,
    # refund before shipment), so they return exactly once.
    units_returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    lines: Mapped[list[OrderLine]] = relationship(
        order_by="OrderLine.id", cascade="all, delete-orphan"
    )


class OrderLine(Base):
    __tablename__ = "order_lines"

    id: Mapped[str] = id_column("oln")
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    title: Mapped[str] = mapped_column(String(120))
    attrs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    unit_price_fen: Mapped[int] = mapped_column(FenColumn)
    quantity: Mapped[int] = mapped_column(Integer)
    line_total_fen: Mapped[int] = mapped_column(FenColumn)


class OrderTransition(Base):
    """Every state change of an order: from, to, who and when (the order's timeline)."""

    __tablename__ = "order_transitions"

    id: Mapped[str] = id_column("otr")
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    actor: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    note: Mapped[str | None] = mapped_column(Text)


class RefundRequest(TimestampMixin, Base):
    """A buyer's request for a refund after shipment; decided by the brand's merchant
    through ``decisions.do_decide_pending`` (status pending → approved | rejected)."""

    __tablename__ = "refund_requests"

    id: Mapped[str] = id_column("rfq")
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    buyer_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    request_reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    # The decider's reason (required to reject), who decided and when.
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class IdempotencyRecord(Base):
    """The first answer to an ``Idempotency-Key`` (DESIGN §4): per user and endpoint, the
    hash of the body it came with and the response, kept 24 h. Written in the same
    transaction as what the request created, so a key is taken exactly when its effect is."""

    __tablename__ = "idempotency_records"

    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)
    scope: Mapped[str] = mapped_column(String(80), primary_key=True)
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    body_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    status_code: Mapped[int] = mapped_column(Integer)
    response: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
