"""Demo data for training: a course with a session that ran last week (three learners,
attendance, scores, one certificate) and one coming up next week. Made through the
services as ``system:demo``; a second run finds the course and adds nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from livebase.accounts.actors import SYSTEM_DEMO
from livebase.accounts.service import user_by_username
from livebase.db import utcnow
from livebase.training import certificates as certs
from livebase.training import service
from livebase.training.models import Course
from livebase.web.forms import PAGE_TZ

COURSE_TITLE = "互联网营销师（直播销售员）五级 实训班"
# (username, attended, score); the holder's name on the one certificate issued.
LEARNERS = [("xiaoya", True, 86), ("ajie", True, 58), ("viewer", False, None)]
HOLDER = "林小雅"


def _at(days: int, hour: int) -> datetime:
    day = (utcnow().astimezone(PAGE_TZ) + timedelta(days=days)).date()
    return datetime(day.year, day.month, day.day, hour, tzinfo=PAGE_TZ)


def load(db: Session, base_id: str) -> str:
    course = db.scalar(
        select(Course).where(Course.base_id == base_id, Course.title == COURSE_TITLE)
    )
    if course is not None:
        return f"training course {course.id}"
    course = service.do_create_course(
        db,
        SYSTEM_DEMO,
        base_id,
        title=COURSE_TITLE,
        description="直播话术、选品与合规、流量运营、直播复盘；结业考核合格颁发培训证书。",
        hours=40,
    )
    past = service.do_create_session(
        db,
        SYSTEM_DEMO,
        course,
        teacher_name="周老师",
        room="基地培训中心 201",
        starts_at=_at(-7, 9),
        ends_at=_at(-7, 17),
        capacity=4,
    )
    issued = ""
    for username, attended, score in LEARNERS:
        user = user_by_username(db, username)
        if user is None:
            continue
        enr = service.do_enrol(
            db, SYSTEM_DEMO, past, user.id, now=past.starts_at - timedelta(days=3)
        )
        service.do_mark(db, SYSTEM_DEMO, enr, attended=attended, score=score)
        if service.passed(enr, course):
            issued = certs.do_issue(db, SYSTEM_DEMO, enr, past, holder_name=HOLDER).number
    upcoming = service.do_create_session(
        db,
        SYSTEM_DEMO,
        course,
        teacher_name="周老师",
        room="基地培训中心 201",
        starts_at=_at(7, 9),
        ends_at=_at(7, 17),
        capacity=3,
    )
    for username in ("xiaoya", "ajie"):
        user = user_by_username(db, username)
        if user is not None:
            service.do_enrol(db, SYSTEM_DEMO, upcoming, user.id)
    return f"training course {course.id}, certificate {issued} (/certificates/{issued})"
