"""Host incubation (主播孵化): host profiles, cohorts with mentors and members, the levels
a base configures, the promotions its rule recorded, and a per-show rollup of the figures
the leaderboard ranks by.

The rollup is derived data: every figure in it can be recomputed from shows, orders and
room figures (``figures.do_refresh_rollups``); the leaderboard reads it so that a base's
month is one indexed, grouped query over shows instead of a join over every order.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from livebase.db import Base, FenColumn, TimestampMixin, UTCDateTime, id_column, utcnow


class HostProfile(TimestampMixin, Base):
    """A host of one brand or agency of a base, as the base's incubation sees them."""

    __tablename__ = "incubation_host_profiles"
    __table_args__ = (UniqueConstraint("org_id", "user_id", name="uq_host_profile_org_user"),)

    id: Mapped[str] = id_column("hp")
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    # Specialities as short tags (美妆, 食品, 服饰); at most MAX_TAGS of them.
    specialities: Mapped[list[str]] = mapped_column(JSON, default=list)
    bio: Mapped[str] = mapped_column(Text, default="")
    # The level's rank in the base's list (0 = the first level); only promotions raise it.
    level_rank: Mapped[int] = mapped_column(Integer, default=0)
    level_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The photo under uploads/, and what compliance.ocr made of the text inside it:
    # "unchecked", "ok", "held", "rejected" (as a show's cover).
    photo_path: Mapped[str | None] = mapped_column(String(255))
    photo_ocr_status: Mapped[str] = mapped_column(
        String(10), default="unchecked", server_default="unchecked"
    )
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    @property
    def shown_photo_path(self) -> str | None:
        """The photo, unless it is held or rejected for the text inside it."""
        return self.photo_path if self.photo_ocr_status in ("unchecked", "ok") else None


class Cohort(TimestampMixin, Base):
    """A group of hosts the base incubates together over dates, with goals."""

    __tablename__ = "incubation_cohorts"

    id: Mapped[str] = id_column("coh")
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    goals: Mapped[str] = mapped_column(Text, default="")
    # The numeric goals of the whole cohort over its dates (None: no such goal).
    goal_gmv_fen: Mapped[int | None] = mapped_column(FenColumn)
    goal_hours: Mapped[int | None] = mapped_column(Integer)
    # Beijing calendar days, both inclusive.
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date, index=True)
    created_by: Mapped[str] = mapped_column(String(40))


class CohortMentor(Base):
    __tablename__ = "incubation_cohort_mentors"

    cohort_id: Mapped[str] = mapped_column(
        ForeignKey("incubation_cohorts.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), primary_key=True)


class CohortMember(Base):
    __tablename__ = "incubation_cohort_members"

    cohort_id: Mapped[str] = mapped_column(
        ForeignKey("incubation_cohorts.id", ondelete="CASCADE"), primary_key=True
    )
    profile_id: Mapped[str] = mapped_column(
        # Named here: the convention's name is longer than PostgreSQL's 63 characters.
        ForeignKey(
            "incubation_host_profiles.id",
            ondelete="CASCADE",
            name="fk_incubation_cohort_members_profile",
        ),
        primary_key=True,
        index=True,
    )
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class HostLevel(Base):
    """One level of a base's ladder (新秀 → 成长 → 优秀 → 金牌) and what reaching it takes:
    all three thresholds, over the host's whole record at this base."""

    __tablename__ = "incubation_levels"
    __table_args__ = (UniqueConstraint("base_id", "rank", name="uq_incubation_level_rank"),)

    id: Mapped[str] = id_column("lvl")
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), index=True)
    rank: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(40), default="")
    min_hours: Mapped[int] = mapped_column(Integer, default=0)
    min_gmv_fen: Mapped[int] = mapped_column(FenColumn, default=0)
    min_shows: Mapped[int] = mapped_column(Integer, default=0)


class Promotion(Base):
    """A recorded promotion: when, from which level to which, and why (the figures against
    the thresholds at that moment). Levels only ever go up."""

    __tablename__ = "incubation_promotions"

    id: Mapped[str] = id_column("prm")
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), index=True)
    profile_id: Mapped[str] = mapped_column(
        ForeignKey("incubation_host_profiles.id", ondelete="CASCADE"), index=True
    )
    from_rank: Mapped[int] = mapped_column(Integer)
    to_rank: Mapped[int] = mapped_column(Integer)
    from_name: Mapped[str] = mapped_column(String(40))
    to_name: Mapped[str] = mapped_column(String(40))
    reason: Mapped[str] = mapped_column(Text)
    actor: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ShowRollup(Base):
    """One show's figures for the leaderboard, refreshed while its orders can still move."""

    __tablename__ = "incubation_show_rollups"
    __table_args__ = (
        # The leaderboard: one base over a period, grouped by host.
        Index("ix_incubation_rollups_base_started", "base_id", "started_at"),
        Index("ix_incubation_rollups_host_started", "host_id", "started_at"),
    )

    show_id: Mapped[str] = mapped_column(
        ForeignKey("shows.id", ondelete="CASCADE"), primary_key=True
    )
    base_id: Mapped[str] = mapped_column(String(40))
    org_id: Mapped[str] = mapped_column(String(40))
    host_id: Mapped[str] = mapped_column(String(40))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    live_seconds: Mapped[int] = mapped_column(Integer, default=0)
    orders: Mapped[int] = mapped_column(Integer, default=0)
    gmv_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    buyers: Mapped[int] = mapped_column(Integer, default=0)
    peak_viewers: Mapped[int] = mapped_column(Integer, default=0)
    watch_seconds: Mapped[float] = mapped_column(Float, default=0.0)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
