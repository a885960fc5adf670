from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from livebase.db import Base, FenColumn, TimestampMixin, UTCDateTime, id_column, utcnow

PRODUCT_STATUSES = ("active", "held", "rejected", "deleted")


class Product(TimestampMixin, Base):
    __tablename__ = "products"

    id: Mapped[str] = id_column("prd")
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(8), default="active", index=True)
    # The compliance verdict that held the listing, so the merchant sees why.
    moderation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    # Imported goods (跨境电商 / 保税): 8-digit HS code, ISO origin, rates in basis points.
    hs_code: Mapped[str | None] = mapped_column(String(8))
    origin_country: Mapped[str | None] = mapped_column(String(2))
    tariff_rate_bp: Mapped[int | None] = mapped_column(Integer)
    vat_rate_bp: Mapped[int | None] = mapped_column(Integer)
    consumption_tax_rate_bp: Mapped[int | None] = mapped_column(Integer)
    warehouse_id: Mapped[str | None] = mapped_column(ForeignKey("warehouses.id"))

    skus: Mapped[list[Sku]] = relationship(
        back_populates="product", order_by="Sku.id", cascade="all, delete-orphan"
    )
    images: Mapped[list[ProductImage]] = relationship(
        order_by="ProductImage.position", cascade="all, delete-orphan"
    )

    @property
    def shown_images(self) -> list[ProductImage]:
        """The pictures shown with the product: not those held or rejected for the text
        inside them (compliance.ocr)."""
        return [i for i in self.images if i.ocr_status in ("unchecked", "ok")]


class Sku(TimestampMixin, Base):
    __tablename__ = "skus"
    __table_args__ = (UniqueConstraint("product_id", "code", name="uq_sku_code"),)

    id: Mapped[str] = id_column("sku")
    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str | None] = mapped_column(String(64))
    attrs: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    price_fen: Mapped[int] = mapped_column(FenColumn)
    stock: Mapped[int] = mapped_column(Integer, default=0)

    product: Mapped[Product] = relationship(back_populates="skus")


class ProductImage(TimestampMixin, Base):
    __tablename__ = "product_images"

    id: Mapped[str] = id_column("img")
    product_id: Mapped[str] = mapped_column(
        ForeignKey("products.id", ondelete="CASCADE"), index=True
    )
    path: Mapped[str] = mapped_column(String(255))
    thumb_path: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(32))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The text inside the picture (compliance.ocr): "unchecked" until the job ran, then
    # "ok" or "held" (waiting for a moderator), "rejected" by one. Only unchecked and ok
    # pictures are shown with the product.
    ocr_status: Mapped[str] = mapped_column(
        String(10), default="unchecked", server_default="unchecked"
    )
    ocr_text: Mapped[str | None] = mapped_column(Text)
