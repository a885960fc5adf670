"""Bonded goods (DESIGN §5 "Bonded goods"): buyers' identities, the positive list, the
customs districts' rules, yearly quota, the bonded side of an order, customs messages and
receipts, pickup attempts.

An identity number is never stored in the clear: ``id_sealed`` is AES-GCM under the key
``key_id`` and ``id_hash`` an HMAC for look-ups (``vault.py``); ``masked`` is what people
see. Money is integer fen.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from livebase.db import Base, FenColumn, TimestampMixin, UTCDateTime, id_column, utcnow


class Identity(TimestampMixin, Base):
    """A buyer's real-name identity (订购人): name and resident ID number."""

    __tablename__ = "bonded_identities"
    __table_args__ = (UniqueConstraint("user_id", "id_hash", name="uq_bonded_identity_user"),)

    id: Mapped[str] = id_column("idn")
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(40))
    key_id: Mapped[str] = mapped_column(String(16))
    id_sealed: Mapped[bytes] = mapped_column(LargeBinary(64))
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    masked: Mapped[str] = mapped_column(String(18))
    # buyerTelephone of the customs messages (a pickup order has no address to take it from).
    phone: Mapped[str | None] = mapped_column(String(20))


class PositiveLine(TimestampMixin, Base):
    """A base's own line of the positive list (正面清单), imported from CSV; the shipped
    common lines live in code (``positive_list.COMMON``) and apply unless replaced."""

    __tablename__ = "bonded_positive_lines"
    __table_args__ = (UniqueConstraint("base_id", "hs_code", name="uq_bonded_positive_line"),)

    id: Mapped[str] = id_column("hsl")
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), index=True)
    hs_code: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(100))
    notes: Mapped[str] = mapped_column(Text, default="")
    # False: the line is listed to say the goods are *not* allowed (a base's override).
    allowed: Mapped[bool] = mapped_column(Boolean, default=True)


class PositiveListMode(Base):
    """Whether a base's imported list replaces the shipped common lines or extends them."""

    __tablename__ = "bonded_positive_modes"

    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), primary_key=True)
    replaces_common: Mapped[bool] = mapped_column(Boolean, default=False)


class DistrictRules(Base):
    """The limits and the reduced-tax factor of one customs district (关区, 4 digits);
    a district without a row uses the national rules (``tax.NATIONAL``)."""

    __tablename__ = "bonded_district_rules"

    customs_code: Mapped[str] = mapped_column(String(4), primary_key=True)
    per_order_fen: Mapped[int] = mapped_column(FenColumn)
    per_year_fen: Mapped[int] = mapped_column(FenColumn)
    reduced_bp: Mapped[int] = mapped_column(Integer)  # 7000 = 70% of the normal tax
    return_days: Mapped[int] = mapped_column(Integer, default=30)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Quota(Base):
    """What one person (by the ID number's hash) has used of a calendar year's limit.
    Changed only by conditional updates (``quota.py``)."""

    __tablename__ = "bonded_quotas"
    __table_args__ = (CheckConstraint("used_fen >= 0", name="used_nonneg"),)

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    used_fen: Mapped[int] = mapped_column(FenColumn, default=0)


class BondedOrder(TimestampMixin, Base):
    """The cross-border side of an order: who buys (the identity), the tax it carries,
    the quota it holds, its customs number and its pickup code."""

    __tablename__ = "bonded_orders"

    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), primary_key=True)
    identity_id: Mapped[str] = mapped_column(ForeignKey("bonded_identities.id"), index=True)
    id_hash: Mapped[str] = mapped_column(String(64), index=True)
    buyer_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), index=True)
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"))
    customs_code: Mapped[str] = mapped_column(String(4))
    pickup_counter_id: Mapped[str | None] = mapped_column(ForeignKey("pickup_counters.id"))
    order_no: Mapped[str] = mapped_column(String(60), unique=True)
    goods_fen: Mapped[int] = mapped_column(FenColumn)
    freight_fen: Mapped[int] = mapped_column(FenColumn, default=0)
    insurance_fen: Mapped[int] = mapped_column(FenColumn, default=0)
    discount_fen: Mapped[int] = mapped_column(FenColumn, default=0)
    taxable_fen: Mapped[int] = mapped_column(FenColumn)
    tariff_fen: Mapped[int] = mapped_column(FenColumn, default=0)
    vat_fen: Mapped[int] = mapped_column(FenColumn, default=0)
    ct_fen: Mapped[int] = mapped_column(FenColumn, default=0)
    tax_fen: Mapped[int] = mapped_column(FenColumn, default=0)
    full_tax: Mapped[bool] = mapped_column(Boolean, default=False)
    quota_year: Mapped[int] = mapped_column(Integer)
    quota_fen: Mapped[int] = mapped_column(FenColumn)
    # none → reserved (paid) → released (cancel, return); each move a conditional update.
    quota_state: Mapped[str] = mapped_column(String(10), default="none")
    # Why the order waits (payer ≠ buyer, quota gone), shown to the buyer.
    hold_reason: Mapped[str | None] = mapped_column(Text)
    last_reason: Mapped[str | None] = mapped_column(Text)  # the last receipt's returnInfo
    lines: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    pickup_code_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    pickup_code_sealed: Mapped[bytes | None] = mapped_column(LargeBinary(64))
    pickup_key_id: Mapped[str | None] = mapped_column(String(16))
    code_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    code_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    picked_up_by: Mapped[str | None] = mapped_column(String(40))
    picked_up_counter_id: Mapped[str | None] = mapped_column(String(40))
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    declarations: Mapped[int] = mapped_column(Integer, default=0)  # times (re)sent
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class CustomsMessage(TimestampMixin, Base):
    """One CEB message sent (or to send) for an order: the XML as it was submitted."""

    __tablename__ = "bonded_messages"

    id: Mapped[str] = id_column("cem")
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))  # CEB311 | CEB411 | CEB511 | CEB621
    guid: Mapped[str] = mapped_column(String(36), unique=True)
    xml: Mapped[str] = mapped_column(Text)
    # queued → sent → accepted | rejected | error
    status: Mapped[str] = mapped_column(String(10), default="queued")
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class CustomsReceipt(Base):
    """A receipt (回执) customs sent: CEB312/412/512/622 with its ``returnStatus``."""

    __tablename__ = "bonded_receipts"

    id: Mapped[str] = id_column("cer")
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    return_status: Mapped[int] = mapped_column(Integer)
    return_info: Mapped[str] = mapped_column(Text, default="")
    # The receipt's own id at customs: a receipt delivered twice is taken once.
    receipt_key: Mapped[str] = mapped_column(String(80), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PickupAttempt(Base):
    """Every code a clerk tried at a counter (the code itself is never kept)."""

    __tablename__ = "bonded_pickup_attempts"

    id: Mapped[str] = id_column("pka")
    clerk_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    counter_id: Mapped[str | None] = mapped_column(String(40), index=True)
    action: Mapped[str] = mapped_column(String(10))  # lookup | handover
    outcome: Mapped[str] = mapped_column(String(20))  # ok | unknown | wrong_id | used | ...
    order_id: Mapped[str | None] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SandboxScript(Base):
    """The sandbox customs' plan for one order number: the receipts it will send, each
    ``{"kind", "status", "info", "after"}`` (seconds after the previous one). Tests and the
    demo set it; without one the sandbox accepts and releases."""

    __tablename__ = "bonded_sandbox_scripts"

    order_no: Mapped[str] = mapped_column(String(60), primary_key=True)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
