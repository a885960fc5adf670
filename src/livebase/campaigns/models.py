"""Campaigns (活动), brand tags and the incubation rule, launches (首发) and demonstration
scenes (直播示范场景): the base's own operations records (docs/campaigns.md).

A show belongs to at most one campaign (``campaign_shows.show_id`` is unique): a show is
one evening of one brand, and a campaign's GMV must never count it twice. A row is either
``approved`` (the campaign shows it) or ``pending`` (a merchant asked to join).
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from livebase.db import Base, TimestampMixin, UTCDateTime, id_column

CAMPAIGN_STATUSES = ("draft", "published")
LINK_STATUSES = ("pending", "approved")
# The fixed vocabulary of brand tags: stored code → (中文, English).
TAGS: dict[str, tuple[str, str]] = {
    "guochao": ("国货国潮", "Guochao (national trend)"),
    "laozihao": ("老字号", "Time-honoured brand"),
    "new_consumer": ("新消费品牌", "New consumer brand"),
    "first_store": ("首店", "First store"),
    "factory_live": ("工厂直播", "Factory live"),
    "rural": ("乡村振兴", "Rural revitalisation"),
}
SCENE_KINDS = ("mall", "farm", "factory", "street", "other")
OVERRIDES = ("yes", "no")


class Campaign(TimestampMixin, Base):
    """A base-wide event grouping shows of its brands over dates (a 618, a 老字号 week)."""

    __tablename__ = "campaigns"

    id: Mapped[str] = id_column("cmp")
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    banner_color: Mapped[str] = mapped_column(String(7), default="#c62828")
    status: Mapped[str] = mapped_column(String(10), default="draft")
    created_by: Mapped[str] = mapped_column(String(64))


class CampaignShow(TimestampMixin, Base):
    __tablename__ = "campaign_shows"
    __table_args__ = (UniqueConstraint("show_id", name="uq_campaign_shows_show"),)

    id: Mapped[str] = id_column("cms")
    campaign_id: Mapped[str] = mapped_column(
        ForeignKey("campaigns.id", ondelete="CASCADE"), index=True
    )
    show_id: Mapped[str] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="approved")
    requested_by: Mapped[str] = mapped_column(String(64))


class OrgTag(Base):
    """A tag of the fixed vocabulary on a brand."""

    __tablename__ = "org_tags"

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)


class IncubationRule(Base):
    """A base's rule for "incubated here": joined through an approved application, then
    at least ``min_shows`` shows on air and ``min_gmv_fen`` paid GMV within ``window_days``
    of joining. A base without a row uses the defaults of ``service.DEFAULT_RULE``."""

    __tablename__ = "incubation_rules"

    base_id: Mapped[str] = mapped_column(
        ForeignKey("bases.id", ondelete="CASCADE"), primary_key=True
    )
    min_shows: Mapped[int] = mapped_column(Integer)
    min_gmv_fen: Mapped[int] = mapped_column(BigInteger)
    window_days: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(64))


class IncubationOverride(Base):
    """An operator's word on one brand: "yes" counts it as incubated whatever the rule
    says, "no" never (a brand that came incubated from elsewhere)."""

    __tablename__ = "incubation_overrides"

    org_id: Mapped[str] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True
    )
    override: Mapped[str] = mapped_column(String(3))
    note: Mapped[str] = mapped_column(Text, default="")
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Launch(TimestampMixin, Base):
    """A brand's first launch (首发) of a product or line on a day (Beijing calendar)."""

    __tablename__ = "launches"

    id: Mapped[str] = id_column("lch")
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), index=True)
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    launch_date: Mapped[date] = mapped_column(Date, index=True)
    show_id: Mapped[str | None] = mapped_column(ForeignKey("shows.id", ondelete="SET NULL"))
    created_by: Mapped[str] = mapped_column(String(64))


class Scene(TimestampMixin, Base):
    """An offline venue that goes live (a mall, a farm, a factory floor): a demonstration
    scene of the plan, counted toward its 30."""

    __tablename__ = "scenes"

    id: Mapped[str] = id_column("scn")
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))
    address: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    photo_path: Mapped[str | None] = mapped_column(String(255))
    # Its live channel: the brand or agency that streams from it (optional).
    org_id: Mapped[str | None] = mapped_column(ForeignKey("organisations.id"))
    created_by: Mapped[str] = mapped_column(String(64))


class SceneShow(Base):
    """A show held at a scene; a show is held at one place."""

    __tablename__ = "scene_shows"
    __table_args__ = (UniqueConstraint("show_id", name="uq_scene_shows_show"),)

    scene_id: Mapped[str] = mapped_column(
        ForeignKey("scenes.id", ondelete="CASCADE"), primary_key=True
    )
    show_id: Mapped[str] = mapped_column(
        ForeignKey("shows.id", ondelete="CASCADE"), primary_key=True
    )
