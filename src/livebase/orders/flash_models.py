"""What the flash-sale hot path keeps beside the shared order tables.

``flash_sale_buyers`` counts the units each buyer has ordered from a sale. The per-buyer
limit is enforced in memory by the sale's owner, and again by the batch's conditional
upsert (``units + k <= per_buyer_limit``), so two app nodes selling the same sale cannot
let one buyer past the limit either.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from livebase.db import Base


class FlashSaleBuyer(Base):
    __tablename__ = "flash_sale_buyers"

    sale_id: Mapped[str] = mapped_column(ForeignKey("flash_sales.id"), primary_key=True)
    buyer_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    units: Mapped[int] = mapped_column(Integer)
