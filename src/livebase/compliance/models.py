from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from livebase.db import Base, TimestampMixin, UTCDateTime, id_column

ITEM_STATUSES = ("pending", "approved", "rejected", "superseded")


class ModerationItem(TimestampMixin, Base):
    """A text held for a moderator: a listing, a host script, a chat line under review."""

    __tablename__ = "moderation_items"

    id: Mapped[str] = id_column("mod")
    base_id: Mapped[str | None] = mapped_column(ForeignKey("bases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(8))
    subject_type: Mapped[str] = mapped_column(String(16))
    subject_id: Mapped[str] = mapped_column(String(40), index=True)
    show_id: Mapped[str | None] = mapped_column(String(40), index=True)
    author_id: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    # An image held for the text inside it: its URL, shown beside the recognised text.
    image_path: Mapped[str | None] = mapped_column(String(255))
    verdict: Mapped[dict[str, Any]] = mapped_column(JSON)
    labels: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class ModerationTerm(TimestampMixin, Base):
    """A term a moderator added (or switched off with the ``off`` option). The database is
    the source of truth; every app node writes these to its override word-list files.

    ``base_id`` is the base whose texts the term applies to; "" means every base (terms
    only admins edit, beside the shipped lists)."""

    __tablename__ = "moderation_terms"
    __table_args__ = (UniqueConstraint("term", "label", "base_id", name="uq_moderation_term"),)

    id: Mapped[str] = id_column("term")
    base_id: Mapped[str] = mapped_column(String(40), default="", server_default="", index=True)
    term: Mapped[str] = mapped_column(String(64))
    label: Mapped[str] = mapped_column(String(16))
    options: Mapped[str] = mapped_column(String(128), default="")
    created_by: Mapped[str | None] = mapped_column(String(40))


class ModerationStat(Base):
    """Counts of non-allow verdicts per day, base, show, kind, label and verdict."""

    __tablename__ = "moderation_stats"
    __table_args__ = (
        UniqueConstraint(
            "day", "base_id", "show_id", "kind", "label", "verdict", name="uq_moderation_stat"
        ),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    day: Mapped[str] = mapped_column(String(10))
    base_id: Mapped[str] = mapped_column(String(40), default="")
    show_id: Mapped[str] = mapped_column(String(40), default="")
    kind: Mapped[str] = mapped_column(String(8))
    label: Mapped[str] = mapped_column(String(16))
    verdict: Mapped[str] = mapped_column(String(8))
    n: Mapped[int] = mapped_column(Integer, default=0)
