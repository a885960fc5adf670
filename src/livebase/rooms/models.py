"""The rooms' tables: the host's room settings (slow mode, the pinned notice), mutes and
bans, chat lines held for review, and the figures kept when a show ends (复盘)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from livebase.db import Base, TimestampMixin, UTCDateTime, id_column, utcnow


class RoomSettings(Base):
    """One row per show whose host changed something: slow mode and the pinned notice."""

    __tablename__ = "room_settings"

    show_id: Mapped[str] = mapped_column(
        ForeignKey("shows.id", ondelete="CASCADE"), primary_key=True
    )
    slow_mode_seconds: Mapped[int] = mapped_column(Integer, default=0)
    notice: Mapped[str | None] = mapped_column(Text)
    notice_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class RoomSanction(TimestampMixin, Base):
    """A mute (may not chat until ``until``) or a ban (may not enter the room) in one show."""

    __tablename__ = "room_sanctions"
    __table_args__ = (UniqueConstraint("show_id", "user_id", "kind", name="uq_room_sanction"),)

    id: Mapped[str] = id_column("rsn")
    show_id: Mapped[str] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(8))  # "mute" | "ban"
    until: Mapped[datetime | None] = mapped_column(UTCDateTime())  # None: for the whole show
    created_by: Mapped[str] = mapped_column(String(40))


class HeldLine(TimestampMixin, Base):
    """A chat line the compliance check held for review; published if someone approves."""

    __tablename__ = "room_held_lines"

    id: Mapped[str] = id_column("chl")
    show_id: Mapped[str] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"))
    name: Mapped[str] = mapped_column(String(100))
    text: Mapped[str] = mapped_column(Text)
    verdict: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    moderation_item_id: Mapped[str | None] = mapped_column(String(40))
    decided_by: Mapped[str | None] = mapped_column(String(40))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reason: Mapped[str | None] = mapped_column(Text)


class RoomFigures(Base):
    """A show's room in numbers, written when it ends (and refreshed if it is read live)."""

    __tablename__ = "room_figures"

    show_id: Mapped[str] = mapped_column(
        ForeignKey("shows.id", ondelete="CASCADE"), primary_key=True
    )
    peak_viewers: Mapped[int] = mapped_column(Integer, default=0)
    avg_viewers: Mapped[float] = mapped_column(Float, default=0.0)
    watch_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    likes: Mapped[int] = mapped_column(Integer, default=0)
    chat_lines: Mapped[int] = mapped_column(Integer, default=0)
    held_lines: Mapped[int] = mapped_column(Integer, default=0)
    blocked_lines: Mapped[int] = mapped_column(Integer, default=0)
    # Viewers sampled once a minute while live: [[unix_s, n], ...] for the review chart.
    timeline: Mapped[list[Any]] = mapped_column(JSON, default=list)
    final: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
