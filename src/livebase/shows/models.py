from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from livebase.db import Base, FenColumn, TimestampMixin, UTCDateTime, id_column

SHOW_STATUSES = ("scheduled", "live", "ended")


class Show(TimestampMixin, Base):
    __tablename__ = "shows"

    id: Mapped[str] = id_column("show")
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), index=True)
    host_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    cover_path: Mapped[str | None] = mapped_column(String(255))
    # The text inside the cover (compliance.ocr): "unchecked", "ok", "held", "rejected".
    cover_ocr_status: Mapped[str] = mapped_column(
        String(10), default="unchecked", server_default="unchecked"
    )
    scheduled_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    status: Mapped[str] = mapped_column(String(10), default="scheduled", index=True)
    # The stream name viewers' URLs carry; the key is separate and never leaves the host.
    public_id: Mapped[str] = mapped_column(String(24), unique=True)
    stream_key: Mapped[str] = mapped_column(String(64))
    explaining_no: Mapped[int | None] = mapped_column(Integer)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    shelf: Mapped[list[ShelfItem]] = relationship(
        order_by="ShelfItem.no", cascade="all, delete-orphan"
    )

    @property
    def shown_cover_path(self) -> str | None:
        """The cover, unless it is held or rejected for the text inside it."""
        return self.cover_path if self.cover_ocr_status in ("unchecked", "ok") else None


class ShelfItem(Base):
    """A numbered link on a show's shelf (1号链接, 2号链接, ...)."""

    __tablename__ = "shelf_items"
    __table_args__ = (
        UniqueConstraint("show_id", "no", name="uq_shelf_no"),
        UniqueConstraint("show_id", "sku_id", name="uq_shelf_sku"),
    )

    id: Mapped[str] = id_column("shf")
    show_id: Mapped[str] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"), index=True)
    no: Mapped[int] = mapped_column(Integer)
    sku_id: Mapped[str] = mapped_column(ForeignKey("skus.id"))
    live_price_fen: Mapped[int | None] = mapped_column(FenColumn)


class ShowScript(TimestampMixin, Base):
    """A host's script line or caption for a show, checked before it can be used."""

    __tablename__ = "show_scripts"

    id: Mapped[str] = id_column("scr")
    show_id: Mapped[str] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"), index=True)
    author_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(8))  # "script" | "caption"
    text: Mapped[str] = mapped_column(Text)
    # approved: usable; held: waiting for a moderator; rejected: a moderator said no;
    # blocked: the check refused it outright (prohibited goods, abuse).
    status: Mapped[str] = mapped_column(String(10))
    moderation: Mapped[dict[str, Any] | None] = mapped_column(JSON)
