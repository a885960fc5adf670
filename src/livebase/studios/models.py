"""Studios (直播间) of a base and the slots brands and agencies book in them.

No two active bookings of one studio overlap, whatever runs at once. The database holds
the rule itself, not only the code that inserts: on PostgreSQL an exclusion constraint
over ``tstzrange(starts_at, ends_at)`` (btree_gist gives ``=`` on the studio id a GiST
operator class); on SQLite triggers refusing an overlapping row. The same DDL is attached
to the table for ``metadata.create_all`` and written in migration ``0008_studios``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    CheckConstraint,
    Connection,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from livebase.db import Base, TimestampMixin, UTCDateTime, id_column

BOOKING_STATUSES = ("active", "cancelled")
# The message a refusing trigger raises on SQLite; the service maps it to ``slot_taken``.
SQLITE_OVERLAP_MESSAGE = "slot_taken"
PG_EXCLUSION_NAME = "ex_studio_bookings_no_overlap"


class Studio(TimestampMixin, Base):
    """A room of a base where shows are made: its equipment, capacity and opening hours."""

    __tablename__ = "studios"

    id: Mapped[str] = id_column("std")
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    # What the room has: ["环形补光灯", "绿幕", "4K 摄像机"] — free text, one item a string.
    equipment: Mapped[list[str]] = mapped_column(JSON, default=list)
    capacity: Mapped[int] = mapped_column(Integer)  # people in the room at once
    # Beijing local time per weekday: {"mon": {"open": "09:00", "close": "22:00"}, ...};
    # a day left out is closed; "24:00" closes at midnight (no slot runs past it).
    opening_hours: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(default=True)  # a retired room takes no bookings


class Booking(TimestampMixin, Base):
    """A slot of a studio booked by an organisation, with the show made in it."""

    __tablename__ = "studio_bookings"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="slot_order"),
        Index("ix_studio_bookings_studio_start", "studio_id", "starts_at"),
        Index("ix_studio_bookings_base_start", "base_id", "starts_at"),
        Index("ix_studio_bookings_org_start", "org_id", "starts_at"),
    )

    id: Mapped[str] = id_column("bkg")
    studio_id: Mapped[str] = mapped_column(ForeignKey("studios.id"))
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"))  # the studio's, for usage
    org_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"))
    booked_by: Mapped[str] = mapped_column(String(64))  # actor_name(actor)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(10), default="active")
    note: Mapped[str] = mapped_column(Text, default="")
    show_id: Mapped[str | None] = mapped_column(ForeignKey("shows.id"))
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_by: Mapped[str | None] = mapped_column(String(64))


# -- the no-overlap rule in the database (for create_all; the migration has its copy) ---

PG_EXTENSION = "CREATE EXTENSION IF NOT EXISTS btree_gist"
PG_EXCLUSION = (
    f"ALTER TABLE studio_bookings ADD CONSTRAINT {PG_EXCLUSION_NAME} "
    "EXCLUDE USING gist (studio_id WITH =, tstzrange(starts_at, ends_at) WITH &&) "
    "WHERE (status = 'active')"
)
_SQLITE_OVERLAP = (
    "SELECT RAISE(ABORT, '" + SQLITE_OVERLAP_MESSAGE + "') WHERE EXISTS ("
    "SELECT 1 FROM studio_bookings b WHERE b.studio_id = NEW.studio_id "
    "AND b.status = 'active' AND b.id != NEW.id "
    "AND b.starts_at < NEW.ends_at AND b.ends_at > NEW.starts_at)"
)
SQLITE_TRIGGERS = (
    "CREATE TRIGGER trg_studio_bookings_no_overlap_insert BEFORE INSERT ON studio_bookings "
    f"WHEN NEW.status = 'active' BEGIN {_SQLITE_OVERLAP}; END",
    "CREATE TRIGGER trg_studio_bookings_no_overlap_update "
    "BEFORE UPDATE OF studio_id, starts_at, ends_at, status ON studio_bookings "
    f"WHEN NEW.status = 'active' BEGIN {_SQLITE_OVERLAP}; END",
)


@event.listens_for(Booking.__table__, "before_create")
def _before_create(_target: Any, connection: Connection, **_kw: Any) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(PG_EXTENSION)


@event.listens_for(Booking.__table__, "after_create")
def _after_create(_target: Any, connection: Connection, **_kw: Any) -> None:
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(PG_EXCLUSION)
    elif connection.dialect.name == "sqlite":
        for ddl in SQLITE_TRIGGERS:
            connection.exec_driver_sql(ddl)
