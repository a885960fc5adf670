"""Media tables: publish sessions, recordings, chapters (讲解回放) and clips (切片)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from livebase.db import Base, TimestampMixin, UTCDateTime, id_column


class Publish(TimestampMixin, Base):
    """One RTMP publish of a show (an encoder connection). A reconnect within the grace
    period is a second row of the same show; the show ends when the last one has been
    closed for longer than the grace period."""

    __tablename__ = "media_publishes"

    id: Mapped[str] = id_column("pub")
    show_id: Mapped[str] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"), index=True)
    client_id: Mapped[str] = mapped_column(String(40))
    addr: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Recording(TimestampMixin, Base):
    """What nginx-rtmp recorded of one publish; the job turns it into an MP4 with a
    poster frame and its duration."""

    __tablename__ = "media_recordings"
    __table_args__ = (UniqueConstraint("flv_path", name="uq_media_recordings_flv"),)

    id: Mapped[str] = id_column("rec")
    show_id: Mapped[str] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"), index=True)
    publish_id: Mapped[str | None] = mapped_column(ForeignKey("media_publishes.id"))
    flv_path: Mapped[str] = mapped_column(String(500))
    # pending → ready | failed; paths relative to the media directory.
    status: Mapped[str] = mapped_column(String(10), default="pending")
    mp4_path: Mapped[str | None] = mapped_column(String(500))
    poster_path: Mapped[str | None] = mapped_column(String(500))
    duration_s: Mapped[float | None] = mapped_column(Float)
    # Wall-clock time of the recording's first frame (the publish's start).
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    error: Mapped[str | None] = mapped_column(Text)


class Chapter(Base):
    """One explaining period of a show within one recording: seconds into its MP4."""

    __tablename__ = "media_chapters"

    id: Mapped[str] = id_column("chp")
    show_id: Mapped[str] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"), index=True)
    recording_id: Mapped[str] = mapped_column(
        ForeignKey("media_recordings.id", ondelete="CASCADE"), index=True
    )
    start_s: Mapped[float] = mapped_column(Float)
    end_s: Mapped[float] = mapped_column(Float)
    no: Mapped[int] = mapped_column(Integer)
    sku_id: Mapped[str] = mapped_column(String(40))
    product_id: Mapped[str] = mapped_column(String(40), index=True)


class Clip(TimestampMixin, Base):
    """The short clip (切片) of one explained product, cut by stream copy at keyframes."""

    __tablename__ = "media_clips"
    __table_args__ = (UniqueConstraint("show_id", "sku_id", name="uq_media_clips_show_sku"),)

    id: Mapped[str] = id_column("clp")
    show_id: Mapped[str] = mapped_column(ForeignKey("shows.id", ondelete="CASCADE"), index=True)
    chapter_id: Mapped[str] = mapped_column(ForeignKey("media_chapters.id", ondelete="CASCADE"))
    sku_id: Mapped[str] = mapped_column(String(40))
    product_id: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(10), default="pending")
    path: Mapped[str | None] = mapped_column(String(500))
    duration_s: Mapped[float | None] = mapped_column(Float)
