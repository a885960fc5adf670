"""Talent training (人才培养): courses, sessions, enrolments with a waiting list, and the
certificates of the national occupation 互联网营销师 (直播销售员)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from livebase.db import Base, TimestampMixin, UTCDateTime, id_column

ENROLMENT_STATUSES = ("confirmed", "waitlisted", "cancelled")
# The statuses that hold a place (a seat or a place in the queue): one per user and session.
ACTIVE_STATUSES = ("confirmed", "waitlisted")


class Course(TimestampMixin, Base):
    """A course a base teaches; its certificates are of ``level`` (国家职业技能等级 1–5)."""

    __tablename__ = "training_courses"

    id: Mapped[str] = id_column("crs")
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    description: Mapped[str] = mapped_column(Text, default="")
    hours: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer, default=5)
    pass_mark: Mapped[int] = mapped_column(Integer, default=60)
    created_by: Mapped[str] = mapped_column(String(40))


class TrainingSession(TimestampMixin, Base):
    """One run of a course: a teacher, a room (or a studio of the base), dates, seats.

    ``seats_taken`` counts confirmed enrolments and ``version`` is bumped by every change
    to the session's seats or queue (see ``service._lock_session``): the UPDATE that bumps
    it is the lock that serialises enrolments, and its value orders the waiting list.
    """

    __tablename__ = "training_sessions"
    __table_args__ = (
        CheckConstraint("seats_taken >= 0 AND seats_taken <= capacity", name="seats"),
        CheckConstraint("starts_at < ends_at", name="times"),
    )

    id: Mapped[str] = id_column("tss")
    course_id: Mapped[str] = mapped_column(ForeignKey("training_courses.id"), index=True)
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"), index=True)
    teacher_name: Mapped[str] = mapped_column(String(100))
    teacher_user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    room: Mapped[str] = mapped_column(String(120), default="")
    # A studio of the base (the studios feature); kept as its id, without a foreign key,
    # so training does not depend on that feature's tables.
    studio_id: Mapped[str | None] = mapped_column(String(40))
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime())
    capacity: Mapped[int] = mapped_column(Integer)
    seats_taken: Mapped[int] = mapped_column(Integer, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(40))


class Enrolment(TimestampMixin, Base):
    __tablename__ = "training_enrolments"
    __table_args__ = (
        # One seat or queue place per person and session; a cancelled one may enrol again.
        Index(
            "uq_training_enrolments_active",
            "session_id",
            "user_id",
            unique=True,
            sqlite_where=text("status IN ('confirmed', 'waitlisted')"),
            postgresql_where=text("status IN ('confirmed', 'waitlisted')"),
        ),
        Index("ix_training_enrolments_queue", "session_id", "status", "queue_no"),
        CheckConstraint("score IS NULL OR (score >= 0 AND score <= 100)", name="score"),
    )

    id: Mapped[str] = id_column("enr")
    session_id: Mapped[str] = mapped_column(ForeignKey("training_sessions.id"))
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    # The session's version when this enrolment joined the queue: waiting-list order.
    queue_no: Mapped[int] = mapped_column(Integer)
    attended: Mapped[bool] = mapped_column(Boolean, default=False)
    score: Mapped[int | None] = mapped_column(Integer)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class Certificate(TimestampMixin, Base):
    """A certificate of 互联网营销师 (直播销售员) for an enrolment that attended and passed.

    The holder's name, the course and the level are copied at issue: a certificate says
    what was true when it was signed, whatever is renamed later. Its signature is not
    stored; it is an HMAC of these fields under the app's secret (service.signature)."""

    __tablename__ = "training_certificates"
    # The dashboard counts a base's certificates over an interval of issue times.
    __table_args__ = (Index("ix_training_certificates_base_issued", "base_id", "issued_at"),)

    id: Mapped[str] = id_column("cert")
    number: Mapped[str] = mapped_column(String(20), unique=True)
    enrolment_id: Mapped[str] = mapped_column(ForeignKey("training_enrolments.id"), unique=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.id"), index=True)
    base_id: Mapped[str] = mapped_column(ForeignKey("bases.id"))
    course_id: Mapped[str] = mapped_column(ForeignKey("training_courses.id"))
    holder_name: Mapped[str] = mapped_column(String(100))
    course_title: Mapped[str] = mapped_column(String(120))
    level: Mapped[int] = mapped_column(Integer)
    score: Mapped[int] = mapped_column(Integer)
    issued_on: Mapped[date] = mapped_column(Date)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_by: Mapped[str] = mapped_column(String(40))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    revoked_by: Mapped[str | None] = mapped_column(String(40))


class CertificateCounter(Base):
    """The last certificate number of a year (LB-2026-000123): one conditional UPDATE per
    issue, so two operators issuing at once never get the same number."""

    __tablename__ = "training_certificate_counters"
    year: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    last: Mapped[int] = mapped_column(Integer, default=0)
