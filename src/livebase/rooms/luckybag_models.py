"""Lucky bags (福袋): the bag, who entered it, who won.

``lucky_bags.seed`` is secret until the draw (the API shows only ``seed_hash`` before);
one open bag per show is a partial unique index, so two hosts pressing "start" at once
cannot both open one.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from livebase.db import Base, TimestampMixin, UTCDateTime, id_column


class LuckyBag(TimestampMixin, Base):
    __tablename__ = "lucky_bags"
    __table_args__ = (
        Index(
            "uq_lucky_bags_one_open",
            "show_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )

    id: Mapped[str] = id_column("bag")
    show_id: Mapped[str] = mapped_column(ForeignKey("shows.id"), index=True)
    org_id: Mapped[str] = mapped_column(String(40))
    base_id: Mapped[str] = mapped_column(String(40))
    host_id: Mapped[str] = mapped_column(String(40))
    prize: Mapped[str] = mapped_column(String(100))
    winners_count: Mapped[int] = mapped_column(Integer)
    condition: Mapped[str] = mapped_column(String(10))  # "chat" | "follow"
    phrase: Mapped[str | None] = mapped_column(String(40))
    duration_s: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10), default="open")  # "open" | "drawn"
    # 32 random bytes, hex; revealed with the draw.
    seed: Mapped[str] = mapped_column(String(64))
    seed_hash: Mapped[str] = mapped_column(String(64))
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The entries counted: chat lines accepted up to this time (ends_at, or an early draw).
    cutoff_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    entrants_count: Mapped[int | None] = mapped_column(Integer)
    entrants_digest: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))


class LuckyBagEntry(Base):
    """A viewer who met the condition: chatted the phrase (recorded as the lines arrive)
    or followed the host (copied from the follows at the draw). ``eligible`` is decided at
    the draw: True for the entrants drawn over, False for the host and the organisation's
    staff, None for a line that came too late."""

    __tablename__ = "lucky_bag_entries"

    bag_id: Mapped[str] = mapped_column(ForeignKey("lucky_bags.id"), primary_key=True)
    user_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    eligible: Mapped[bool | None] = mapped_column(Boolean)


class LuckyBagWinner(Base):
    __tablename__ = "lucky_bag_winners"
    __table_args__ = (Index("ix_lucky_bag_winners_user", "user_id"),)

    bag_id: Mapped[str] = mapped_column(ForeignKey("lucky_bags.id"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)  # 1 = drawn first
    user_id: Mapped[str] = mapped_column(String(40))
    # The masked name as published with the draw ("张**"): the record stays as announced
    # even if the winner renames, and listing bags needs no user look-ups.
    name: Mapped[str] = mapped_column(String(40))
