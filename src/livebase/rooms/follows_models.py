"""Follows: a viewer follows a host (关注主播). One row per (follower, host)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from livebase.db import Base, UTCDateTime, id_column, utcnow


class Follow(Base):
    __tablename__ = "follows"
    __table_args__ = (
        UniqueConstraint("follower_id", "host_id", name="uq_follow"),
        # The follower count and the lucky bag's "followers at draw time" read by host.
        Index("ix_follows_host", "host_id", "follower_id"),
    )

    # Time-ordered: "my follows" pages by id, newest first.
    id: Mapped[str] = id_column("fol")
    follower_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    host_id: Mapped[str] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
