"""The dashboard's monthly rollups, and the indexes its counters read the records by.

``metric_months`` holds one figure per base, metric and calendar month (UTC), written only
by the rollup job (``rollup.do_rollup``) from the metric's counter. The dashboard reads
these rows instead of summing a year of orders on every request (docs/base-operations.md).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from livebase.db import Base, UTCDateTime, utcnow
from livebase.orders.models import Order
from livebase.shows.models import Show


class MetricMonth(Base):
    """A metric's figure for one month of one base: a flow's total inside the month, or a
    cumulative figure's standing at the month's end (or now, for the current month)."""

    __tablename__ = "metric_months"

    base_id: Mapped[str] = mapped_column(
        ForeignKey("bases.id", ondelete="CASCADE"), primary_key=True
    )
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # "YYYY-MM"
    value: Mapped[int] = mapped_column(BigInteger)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


# The counters' range scans: a month of one base's paid orders read from the index alone
# (paid_at bounds the range; status and total_fen are what the sum needs), and a month of
# its shows. Without them every month's figure is a scan of all the base's orders. They
# belong to the dashboard's reads, so they are declared here, on the owners' tables.
Index("ix_orders_base_paid", Order.base_id, Order.paid_at, Order.status, Order.total_fen)
Index("ix_shows_base_started", Show.base_id, Show.started_at)
