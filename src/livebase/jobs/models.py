from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from livebase.db import Base, TimestampMixin, UTCDateTime, id_column


class Job(TimestampMixin, Base):
    """A timed job is a row with a due time, so nothing is lost on restart."""

    __tablename__ = "jobs"

    id: Mapped[str] = id_column("job")
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    # A unique key keeps one pending row per recurring job however many nodes schedule it.
    dedupe_key: Mapped[str | None] = mapped_column(String(128), unique=True)
    last_error: Mapped[str | None] = mapped_column(Text)
