"""Courses, sessions and enrolments with a waiting list, attendance and scores.

**Seats under concurrency.** Every change to a session's seats or waiting list (enrol,
cancel) begins with :func:`_lock_session`: one ``UPDATE training_sessions SET version =
version + 1 WHERE id = :id RETURNING seats_taken, capacity, version``. The same statement
on both databases takes the session's row lock on PostgreSQL and the database's write
lock on SQLite (pysqlite begins the transaction at the first write), held until commit, so
enrolments of one session run one after another and each sees the seats as the previous
one left them. The seat itself is then taken by a conditional update (``seats_taken =
seats_taken + 1 WHERE seats_taken < capacity``) and a CHECK constraint keeps
``seats_taken <= capacity`` whatever happens: N racing enrolments into k seats give
exactly k confirmed. ``version`` orders the waiting list (``queue_no``), in the order the
locks were granted. Lock order: the session row, then its enrolment rows.

Certificates live in :mod:`livebase.training.certificates`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from livebase.accounts.actors import Actor, actor_name
from livebase.accounts.service import Principal, get_user
from livebase.audit.service import do_record
from livebase.bases import service as bases
from livebase.db import utcnow
from livebase.errors import Conflict, Forbidden, NotFound, ValidationFailed
from livebase.paging import keyset
from livebase.training.models import (
    ACTIVE_STATUSES,
    Course,
    Enrolment,
    TrainingSession,
)

# 国家职业技能等级 of 互联网营销师: 五级 (初级工) is where a new 直播销售员 starts.
LEVELS: dict[int, tuple[str, str]] = {
    5: ("五级／初级工", "Level 5 (junior)"),
    4: ("四级／中级工", "Level 4 (intermediate)"),
    3: ("三级／高级工", "Level 3 (senior)"),
    2: ("二级／技师", "Level 2 (technician)"),
    1: ("一级／高级技师", "Level 1 (senior technician)"),
}
DEFAULT_PASS_MARK = 60
# A session is a classroom: a thousand seats is a lecture hall, more is a typo.
MAX_CAPACITY = 1000
MAX_HOURS = 1000


# --- look-ups and checks --------------------------------------------------------------


def get_course(db: Session, course_id: str) -> Course:
    course = db.get(Course, course_id)
    if course is None:
        raise NotFound(f"No course {course_id}.")
    return course


def get_session(db: Session, session_id: str) -> TrainingSession:
    sess = db.get(TrainingSession, session_id)
    if sess is None:
        raise NotFound(f"No training session {session_id}.")
    return sess


def check_manage_base(db: Session, principal: Principal, base_id: str) -> None:
    """Courses and sessions are run by the base's operators (and admins)."""
    bases.get_base(db, base_id)
    if not principal.has("operator", base_id=base_id):
        raise Forbidden("Only an operator of this base manages its training.")


def check_manage_course(db: Session, principal: Principal, course_id: str) -> Course:
    course = get_course(db, course_id)
    check_manage_base(db, principal, course.base_id)
    return course


def check_manage_session(db: Session, principal: Principal, session_id: str) -> TrainingSession:
    """Sessions are public (the list people enrol from); their roster is not: 403."""
    sess = get_session(db, session_id)
    if not principal.has("operator", base_id=sess.base_id):
        raise Forbidden("Only an operator of this session's base sees its roster.")
    return sess


def _enrolment(db: Session, enrolment_id: str) -> tuple[Enrolment, TrainingSession]:
    enr = db.get(Enrolment, enrolment_id)
    if enr is None:
        raise NotFound(f"No enrolment {enrolment_id}.")
    return enr, get_session(db, enr.session_id)


def check_manage_enrolment(
    db: Session, principal: Principal, enrolment_id: str
) -> tuple[Enrolment, TrainingSession]:
    """An enrolment an operator of its base may mark; anyone else gets 404 (an enrolment
    is private: another base's staff cannot learn that it exists)."""
    enr, sess = _enrolment(db, enrolment_id)
    if not principal.has("operator", base_id=sess.base_id):
        raise NotFound(f"No enrolment {enrolment_id}.")
    return enr, sess


def check_cancel_enrolment(
    db: Session, principal: Principal, enrolment_id: str
) -> tuple[Enrolment, TrainingSession]:
    """The enrolled person cancels their own; an operator of the base anyone's."""
    enr, sess = _enrolment(db, enrolment_id)
    if enr.user_id != principal.id and not principal.has("operator", base_id=sess.base_id):
        raise NotFound(f"No enrolment {enrolment_id}.")
    return enr, sess


def check_view_enrolment(
    db: Session, principal: Principal, enrolment_id: str
) -> tuple[Enrolment, TrainingSession]:
    return check_cancel_enrolment(db, principal, enrolment_id)


# --- courses and sessions -------------------------------------------------------------


def _check_level(level: int) -> None:
    if level not in LEVELS:
        raise ValidationFailed("level is 1 to 5 (国家职业技能等级).", loc="body.level")


def do_create_course(
    db: Session,
    actor: Actor,
    base_id: str,
    *,
    title: str,
    description: str = "",
    hours: int,
    level: int = 5,
    pass_mark: int = DEFAULT_PASS_MARK,
) -> Course:
    bases.get_base(db, base_id)
    if not title.strip():
        raise ValidationFailed("A course needs a title.", loc="body.title")
    if not 1 <= hours <= MAX_HOURS:
        raise ValidationFailed(f"hours is 1 to {MAX_HOURS}.", loc="body.hours")
    _check_level(level)
    if not 0 <= pass_mark <= 100:
        raise ValidationFailed("pass_mark is 0 to 100.", loc="body.pass_mark")
    course = Course(
        base_id=base_id,
        title=title.strip(),
        description=description,
        hours=hours,
        level=level,
        pass_mark=pass_mark,
        created_by=actor_name(actor),
    )
    db.add(course)
    db.flush()
    do_record(db, actor, "create", "training_course", course.id, base_id=base_id)
    return course


def list_courses(
    db: Session, base_id: str, *, limit: int | None = None, cursor: str | None = None
) -> list[Course]:
    q = select(Course).where(Course.base_id == base_id)
    return list(db.scalars(keyset(q, Course.id, limit=limit, cursor=cursor, newest_first=True)))


def do_create_session(
    db: Session,
    actor: Actor,
    course: Course,
    *,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
    teacher_name: str = "",
    teacher_user_id: str | None = None,
    room: str = "",
    studio_id: str | None = None,
) -> TrainingSession:
    teacher_name = _check_fields(
        db, teacher_name, teacher_user_id, room, studio_id, starts_at, ends_at, capacity
    )
    sess = TrainingSession(
        course_id=course.id,
        base_id=course.base_id,
        teacher_name=teacher_name.strip(),
        teacher_user_id=teacher_user_id,
        room=room.strip(),
        studio_id=studio_id or None,
        starts_at=starts_at,
        ends_at=ends_at,
        capacity=capacity,
        seats_taken=0,
        version=0,
        created_by=actor_name(actor),
    )
    db.add(sess)
    db.flush()
    do_record(db, actor, "create", "training_session", sess.id, course_id=course.id)
    return sess


def _check_fields(
    db: Session,
    teacher_name: str,
    teacher_user_id: str | None,
    room: str,
    studio_id: str | None,
    starts_at: datetime,
    ends_at: datetime,
    capacity: int,
) -> str:
    """422 for a session that names no teacher or place, ends before it starts or has a
    capacity out of range; the teacher's name (a teacher user's own when none is given)."""
    if teacher_user_id is not None:
        teacher = get_user(db, teacher_user_id)
        if teacher is None:
            raise ValidationFailed("No such user to teach.", loc="body.teacher_user_id")
        teacher_name = teacher_name.strip() or teacher.display_name
    if not teacher_name.strip():
        raise ValidationFailed(
            "Name the teacher (or a teacher's user id).", loc="body.teacher_name"
        )
    if not room.strip() and not studio_id:
        raise ValidationFailed("Say where: a room or a studio id.", loc="body.room")
    if ends_at <= starts_at:
        raise ValidationFailed("A session ends after it starts.", loc="body.ends_at")
    if not 1 <= capacity <= MAX_CAPACITY:
        raise ValidationFailed(f"capacity is 1 to {MAX_CAPACITY}.", loc="body.capacity")
    return teacher_name.strip()


SESSION_FIELDS = (
    "teacher_name",
    "teacher_user_id",
    "room",
    "studio_id",
    "starts_at",
    "ends_at",
    "capacity",
)


def do_update_session(
    db: Session,
    actor: Actor,
    sess: TrainingSession,
    changes: dict[str, Any],
    *,
    now: datetime | None = None,
) -> list[Enrolment]:
    """Change a session not yet started: teacher, place, times, capacity. Under the
    session's lock (as enrolments take it): a larger capacity gives the new seats to the
    waiting list in line order, in this transaction; a capacity below the seats taken is
    a 409 (cancel enrolments first); moving a session into the past is a 422. Returns
    the enrolments promoted to a seat."""
    now = now or utcnow()
    if sess.starts_at <= now:
        raise Conflict("This session has started; it no longer changes.")
    seats_taken, _capacity, _version = _lock_session(db, sess.id)
    db.refresh(sess)
    merged = {k: changes.get(k, getattr(sess, k)) for k in SESSION_FIELDS}
    if changes.get("teacher_user_id") is not None and "teacher_name" not in changes:
        merged["teacher_name"] = ""  # a new teacher user names the teacher
    merged["teacher_name"] = _check_fields(db, **merged)
    if "starts_at" in changes and merged["starts_at"] <= now:
        raise ValidationFailed("A session is moved to a time still ahead.", loc="body.starts_at")
    if merged["capacity"] < seats_taken:
        raise Conflict(
            f"{seats_taken} seats are taken; the capacity cannot go below that "
            "(cancel enrolments first)."
        )
    for k in SESSION_FIELDS:
        setattr(sess, k, merged[k])
    sess.room = merged["room"].strip()
    sess.studio_id = merged["studio_id"] or None
    free = merged["capacity"] - seats_taken
    promoted: list[Enrolment] = []
    if free > 0:
        promoted = list(
            db.scalars(
                select(Enrolment)
                .where(Enrolment.session_id == sess.id, Enrolment.status == "waitlisted")
                .order_by(Enrolment.queue_no, Enrolment.id)
                .limit(free)
            )
        )
        for enr in promoted:
            enr.status, enr.confirmed_at = "confirmed", now
        sess.seats_taken = seats_taken + len(promoted)
    db.flush()
    do_record(
        db,
        actor,
        "update",
        "training_session",
        sess.id,
        fields=sorted(changes),
        promoted=len(promoted),
    )
    for enr in promoted:
        do_record(db, actor, "promote", "training_enrolment", enr.id, after="capacity")
    db.refresh(sess)
    return promoted


def list_sessions(
    db: Session, course_id: str, *, limit: int | None = None, cursor: str | None = None
) -> list[TrainingSession]:
    q = select(TrainingSession).where(TrainingSession.course_id == course_id)
    return list(
        db.scalars(keyset(q, TrainingSession.id, limit=limit, cursor=cursor, newest_first=True))
    )


def upcoming_sessions(
    db: Session, *, now: datetime | None = None, limit: int = 50
) -> list[tuple[TrainingSession, Course]]:
    """Sessions not yet ended, soonest first, with their course (the /training list)."""
    rows = db.execute(
        select(TrainingSession, Course)
        .join(Course, Course.id == TrainingSession.course_id)
        .where(TrainingSession.ends_at > (now or utcnow()))
        .order_by(TrainingSession.starts_at, TrainingSession.id)
        .limit(limit)
    ).all()
    return [(s, c) for s, c in rows]


def base_sessions(db: Session, base_id: str) -> list[tuple[TrainingSession, Course]]:
    """Every session of a base, latest first (the operator's page)."""
    rows = db.execute(
        select(TrainingSession, Course)
        .join(Course, Course.id == TrainingSession.course_id)
        .where(TrainingSession.base_id == base_id)
        .order_by(TrainingSession.starts_at.desc(), TrainingSession.id)
    ).all()
    return [(s, c) for s, c in rows]


def waitlist_counts(db: Session, session_ids: list[str]) -> dict[str, int]:
    if not session_ids:
        return {}
    rows = db.execute(
        select(Enrolment.session_id, func.count(Enrolment.id))
        .where(Enrolment.session_id.in_(session_ids), Enrolment.status == "waitlisted")
        .group_by(Enrolment.session_id)
    ).all()
    return {sid: n for sid, n in rows}


# --- enrolment ------------------------------------------------------------------------


def _lock_session(db: Session, session_id: str) -> tuple[int, int, int]:
    """Lock the session (row lock on PostgreSQL, write lock on SQLite) until commit and
    return ``(seats_taken, capacity, version)`` as they stand under the lock."""
    row = db.execute(
        update(TrainingSession)
        .where(TrainingSession.id == session_id)
        .values(version=TrainingSession.version + 1)
        .returning(TrainingSession.seats_taken, TrainingSession.capacity, TrainingSession.version)
        .execution_options(synchronize_session=False)
    ).one_or_none()
    if row is None:
        raise NotFound(f"No training session {session_id}.")
    return int(row[0]), int(row[1]), int(row[2])


def _take_seat(db: Session, session_id: str) -> bool:
    result = db.execute(
        update(TrainingSession)
        .where(
            TrainingSession.id == session_id, TrainingSession.seats_taken < TrainingSession.capacity
        )
        .values(seats_taken=TrainingSession.seats_taken + 1)
        .execution_options(synchronize_session=False)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _active_enrolment(db: Session, session_id: str, user_id: str) -> Enrolment | None:
    return db.scalar(
        select(Enrolment).where(
            Enrolment.session_id == session_id,
            Enrolment.user_id == user_id,
            Enrolment.status.in_(ACTIVE_STATUSES),
        )
    )


def do_enrol(
    db: Session, actor: Actor, sess: TrainingSession, user_id: str, *, now: datetime | None = None
) -> Enrolment:
    """A seat if one is free, else a place at the end of the waiting list."""
    now = now or utcnow()
    if sess.starts_at <= now:
        raise Conflict("Enrolment is closed: this session has started.")
    seats_taken, capacity, version = _lock_session(db, sess.id)
    # Checked under the lock: two requests of one person cannot both pass it.
    if _active_enrolment(db, sess.id, user_id) is not None:
        raise Conflict("You are already enrolled in this session (or on its waiting list).")
    confirmed = seats_taken < capacity and _take_seat(db, sess.id)
    enr = Enrolment(
        session_id=sess.id,
        user_id=user_id,
        status="confirmed" if confirmed else "waitlisted",
        queue_no=version,
        attended=False,
        confirmed_at=now if confirmed else None,
    )
    db.add(enr)
    db.flush()
    do_record(db, actor, "enrol", "training_enrolment", enr.id, status=enr.status)
    db.refresh(sess)
    return enr


@dataclass(frozen=True)
class Cancelled:
    enrolment: Enrolment
    promoted: Enrolment | None  # the first of the waiting list, given the freed seat


def do_cancel(
    db: Session, actor: Actor, enr: Enrolment, *, now: datetime | None = None
) -> Cancelled:
    """Cancel a seat or a queue place; a freed seat goes to the first waitlisted person
    in the same transaction."""
    now = now or utcnow()
    sess = get_session(db, enr.session_id)
    if sess.starts_at <= now:
        raise Conflict("This session has started; enrolments no longer change.")
    _lock_session(db, sess.id)
    db.refresh(enr)  # as it stands under the lock
    if enr.status == "cancelled":
        raise Conflict("This enrolment is already cancelled.")
    was_confirmed = enr.status == "confirmed"
    enr.status, enr.cancelled_at = "cancelled", now
    promoted = None
    if was_confirmed:
        promoted = db.scalar(
            select(Enrolment)
            .where(Enrolment.session_id == sess.id, Enrolment.status == "waitlisted")
            .order_by(Enrolment.queue_no, Enrolment.id)
            .limit(1)
        )
        if promoted is not None:
            promoted.status, promoted.confirmed_at = "confirmed", now
        else:
            db.execute(
                update(TrainingSession)
                .where(TrainingSession.id == sess.id)
                .values(seats_taken=TrainingSession.seats_taken - 1)
                .execution_options(synchronize_session=False)
            )
    db.flush()
    do_record(
        db,
        actor,
        "cancel",
        "training_enrolment",
        enr.id,
        was="confirmed" if was_confirmed else "waitlisted",
    )
    if promoted is not None:
        do_record(db, actor, "promote", "training_enrolment", promoted.id, after=enr.id)
    db.refresh(sess)
    return Cancelled(enr, promoted)


def position_of(db: Session, enr: Enrolment) -> int | None:
    """1 for the first of the waiting list; None for a seat or a cancelled enrolment."""
    if enr.status != "waitlisted":
        return None
    ahead = db.scalar(
        select(func.count(Enrolment.id)).where(
            Enrolment.session_id == enr.session_id,
            Enrolment.status == "waitlisted",
            Enrolment.queue_no < enr.queue_no,
        )
    )
    return (ahead or 0) + 1


class Keep(Enum):
    """``score=KEEP`` leaves the score as it is (``None`` clears it)."""

    KEEP = "keep"


KEEP = Keep.KEEP


def do_mark(
    db: Session,
    actor: Actor,
    enr: Enrolment,
    *,
    attended: bool | None = None,
    score: int | Keep | None = KEEP,
    now: datetime | None = None,
) -> Enrolment:
    """Attendance and the assessment score (0–100; None clears it) of a seat holder."""
    sess = get_session(db, enr.session_id)
    if enr.status != "confirmed":
        raise Conflict(f"Only a confirmed seat is marked; this enrolment is {enr.status}.")
    if sess.starts_at > (now or utcnow()):
        raise Conflict("This session has not started yet.")
    changes: dict[str, object] = {}
    if attended is not None:
        enr.attended = attended
        changes["attended"] = attended
    if not isinstance(score, Keep):
        if score is not None and not 0 <= score <= 100:
            raise ValidationFailed("score is 0 to 100.", loc="body.score")
        enr.score = score
        changes["score"] = score
    db.flush()
    do_record(db, actor, "mark", "training_enrolment", enr.id, **changes)
    return enr


def passed(enr: Enrolment, course: Course) -> bool:
    return (
        enr.status == "confirmed"
        and enr.attended
        and enr.score is not None
        and enr.score >= course.pass_mark
    )


@dataclass(frozen=True)
class RosterLine:
    enrolment: Enrolment
    name: str
    username: str
    position: int | None


def roster(db: Session, sess: TrainingSession) -> list[RosterLine]:
    """Seats first (in the order they were taken), then the waiting list in order, then
    cancellations."""
    rows = list(
        db.scalars(
            select(Enrolment)
            .where(Enrolment.session_id == sess.id)
            .order_by(Enrolment.queue_no, Enrolment.id)
        )
    )
    rank = {"confirmed": 0, "waitlisted": 1, "cancelled": 2}
    rows.sort(key=lambda e: rank.get(e.status, 3))
    out = []
    place = 0
    for e in rows:
        user = get_user(db, e.user_id)
        position = None
        if e.status == "waitlisted":
            place += 1
            position = place
        out.append(
            RosterLine(
                e,
                user.display_name if user else "",
                user.username if user else "",
                position,
            )
        )
    return out


def my_enrolments(db: Session, user_id: str) -> list[tuple[Enrolment, TrainingSession, Course]]:
    rows = db.execute(
        select(Enrolment, TrainingSession, Course)
        .join(TrainingSession, TrainingSession.id == Enrolment.session_id)
        .join(Course, Course.id == TrainingSession.course_id)
        .where(Enrolment.user_id == user_id)
        .order_by(Enrolment.id.desc())
    ).all()
    return [(e, s, c) for e, s, c in rows]
