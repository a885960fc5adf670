from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from livebase.db import Base, TimestampMixin, UTCDateTime, id_column

METRICS = ("gmv_fen", "brands_incubated", "shows_held", "new_brands_launched")
ORG_KINDS = ("brand", "agency")


class LiveBase(TimestampMixin, Base):
    """A live-commerce base (直播电商基地) run by a district."""

    __tablename__ = "bases"

    id: Mapped[str] = id_column("base")
    name: Mapped[str] = mapped_column(String(100))
    district: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")


class BaseTarget(Base):
    """A target for one metric over a period (a year like "2025", or "2022-2025")."""

    __tablename__ = "base_targets"
    __table_args__ = (UniqueConstraint("base_id", "metric", "period", name="uq_base_target"),)

    id: Mapped[str] = id_column("tgt")
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id", ondelete="CASCADE"), index=True)
    metric: Mapped[str] = mapped_column(String(32))
    period: Mapped[str] = mapped_column(String(16))
    target: Mapped[int] = mapped_column(BigInteger)
    # Reported figure for metrics the platform cannot count itself yet (GMV made off
    # platform, brands incubated before the base used livebase); counted ones add to it.
    reported: Mapped[int] = mapped_column(BigInteger, default=0)


class Organisation(TimestampMixin, Base):
    """A brand or an agency (MCN) settled in a base."""

    __tablename__ = "organisations"

    id: Mapped[str] = id_column("org")
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    # A brand the base incubates (孵化) and the day it launched its first product line.
    incubated: Mapped[bool] = mapped_column(default=False)
    launched_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Application(TimestampMixin, Base):
    __tablename__ = "applications"

    id: Mapped[str] = id_column("app")
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), index=True)
    applicant_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    org_kind: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(10), default="pending")
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    org_id: Mapped[str | None] = mapped_column(String(40))


class Warehouse(TimestampMixin, Base):
    """A bonded warehouse (保税仓) of a base."""

    __tablename__ = "warehouses"

    id: Mapped[str] = id_column("wh")
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    customs_code: Mapped[str] = mapped_column(String(4))
    ems_no: Mapped[str] = mapped_column(String(32))


class PickupCounter(TimestampMixin, Base):
    """A counter where bonded goods are handed over (即买即提), served by clerks."""

    __tablename__ = "pickup_counters"

    id: Mapped[str] = id_column("pc")
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), index=True)
    warehouse_id: Mapped[str] = mapped_column(ForeignKey("warehouses.id"))
    name: Mapped[str] = mapped_column(String(100))
    customs_code: Mapped[str] = mapped_column(String(4))
