"""Training pages: the public list of sessions with enrolment (/training), the
operator's courses and sessions (/ops/training) and a session's roster with attendance,
scores and certificates (/ops/training/sessions/{id}), and the public verification page
of a certificate (/certificates/{number}) with its PDF for the holder."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from livebase.accounts.service import Principal
from livebase.bases import service as bases
from livebase.db import utcnow
from livebase.errors import ValidationFailed
from livebase.http import DB, get_runtime
from livebase.training import certificates as certs
from livebase.training import service
from livebase.training.api import pdf_response
from livebase.web.formerrors import FormValues, form_page
from livebase.web.forms import parse_count, parse_local_datetime
from livebase.web.render import (
    PageRoute,
    PageUser,
    SignedIn,
    check_form_csrf,
    redirect,
    render,
    signed_in,
)

router = APIRouter(include_in_schema=False, route_class=PageRoute)
FormText = Annotated[str, Form(max_length=4000)]


def _number(text: str, field: str, low: int, high: int) -> int:
    value = parse_count(text, field)
    if not low <= value <= high:
        raise ValidationFailed(f"Enter a number from {low} to {high}.", loc=field)
    return value


# --- /training: everyone ----------------------------------------------------------------


@router.get("/training", response_class=HTMLResponse)
def training(request: Request, db: DB, user: PageUser) -> Response:
    rows = service.upcoming_sessions(db)
    waiting = service.waitlist_counts(db, [s.id for s, _ in rows])
    mine: list[Any] = []
    my_certs: list[Any] = []
    enrolled: dict[str, str] = {}
    if user is not None:
        for e, s, c in service.my_enrolments(db, user.id):
            mine.append((e, s, c, service.position_of(db, e)))
            if e.status != "cancelled":
                enrolled[s.id] = e.status
        my_certs = certs.my_certificates(db, user.id)
    return render(
        request,
        "training/public.html",
        user,
        rows=rows,
        waiting=waiting,
        mine=mine,
        enrolled=enrolled,
        certs=my_certs,
        done=request.query_params.get("done"),
        now=utcnow(),
    )


@router.post("/training/sessions/{session_id}/enrol")
def enrol(
    request: Request, session_id: str, db: DB, me: SignedIn, csrf_token: FormText = ""
) -> Response:
    check_form_csrf(request, me, csrf_token)
    sess = service.get_session(db, session_id)
    enr = service.do_enrol(db, me, sess, me.id)
    db.commit()
    return redirect(f"/training?done={enr.status}")


@router.post("/training/enrolments/{enrolment_id}/cancel")
def cancel(
    request: Request, enrolment_id: str, db: DB, me: SignedIn, csrf_token: FormText = ""
) -> Response:
    check_form_csrf(request, me, csrf_token)
    enr, sess = service.check_cancel_enrolment(db, me, enrolment_id)
    service.do_cancel(db, me, enr)
    db.commit()
    if enr.user_id != me.id:
        return redirect(f"/ops/training/sessions/{sess.id}?done=cancelled")
    return redirect("/training?done=cancelled")


# --- certificates: public verification, PDF for the holder -------------------------------


@router.get("/certificates/{number}/pdf")
def certificate_pdf(number: str, request: Request, db: DB, me: SignedIn) -> Response:
    return pdf_response(db, get_runtime(request), me, number[:40])


@router.get("/certificates/{number}", response_class=HTMLResponse)
def verify_page(number: str, request: Request, db: DB, user: PageUser) -> Response:
    sig = request.query_params.get("sig")
    if sig is not None and (len(sig) > 64 or not all(c in "0123456789abcdefABCDEF" for c in sig)):
        sig = "-"  # a malformed signature is simply one that does not match
    result = certs.verify(db, get_runtime(request).settings.secret_key, number[:40], sig)
    return render(request, "training/verify.html", user, v=result.public())


# --- /ops/training: operators ----------------------------------------------------------


def _ops(
    request: Request,
    db: Session,
    me: Principal,
    errors: dict[str, str] | None = None,
    values: FormValues | None = None,
) -> Response:
    groups = []
    for base in bases.operated_bases(db, me, "Only a base's operator runs its training."):
        sessions = service.base_sessions(db, base.id)
        waiting = service.waitlist_counts(db, [s.id for s, _ in sessions])
        groups.append((base, service.list_courses(db, base.id), sessions, waiting))
    return render(
        request,
        "training/ops.html",
        me,
        groups=groups,
        levels=service.LEVELS,
        done=request.query_params.get("done"),
        errors=errors or {},
        values=values,
        failed=request.path_params.get("base_id") or request.path_params.get("course_id"),
    )


def _ops_again(
    request: Request, db: Session, user: Any, values: FormValues, errors: dict[str, str]
) -> Response:
    return _ops(request, db, signed_in(user), errors, values)


@router.get("/ops/training", response_class=HTMLResponse)
def ops(request: Request, db: DB, me: SignedIn) -> Response:
    return _ops(request, db, me)


@router.post("/ops/training/bases/{base_id}/courses")
@form_page(_ops_again)
def create_course(
    request: Request,
    base_id: str,
    db: DB,
    me: SignedIn,
    title: FormText = "",
    description: FormText = "",
    hours: FormText = "",
    level: FormText = "5",
    pass_mark: FormText = "60",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    service.check_manage_base(db, me, base_id)
    if not title.strip() or len(title.strip()) > 120:
        raise ValidationFailed("A title of 1 to 120 characters.", loc="title")
    service.do_create_course(
        db,
        me,
        base_id,
        title=title,
        description=description.strip(),
        hours=_number(hours, "hours", 1, service.MAX_HOURS),
        level=_number(level, "level", 1, 5),
        pass_mark=_number(pass_mark, "pass_mark", 0, 100),
    )
    db.commit()
    return redirect("/ops/training?done=course")


@router.post("/ops/training/courses/{course_id}/sessions")
@form_page(_ops_again)
def create_session(
    request: Request,
    course_id: str,
    db: DB,
    me: SignedIn,
    teacher_name: FormText = "",
    room: FormText = "",
    studio_id: FormText = "",
    starts_at: FormText = "",
    ends_at: FormText = "",
    capacity: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    course = service.check_manage_course(db, me, course_id)
    fields = _session_form(teacher_name, room, studio_id, starts_at, ends_at, capacity)
    service.do_create_session(db, me, course, **fields)
    db.commit()
    return redirect("/ops/training?done=session")


def _session_form(
    teacher_name: str, room: str, studio_id: str, starts_at: str, ends_at: str, capacity: str
) -> dict[str, Any]:
    """A session form's fields, checked as the page names them (422 on the field)."""
    if not teacher_name.strip() or len(teacher_name.strip()) > 100:
        raise ValidationFailed("Name the teacher (up to 100 characters).", loc="teacher_name")
    if len(room) > 120 or len(studio_id) > 40:
        raise ValidationFailed("The room is up to 120 characters.", loc="room")
    start = parse_local_datetime(starts_at, "starts_at")
    end = parse_local_datetime(ends_at, "ends_at")
    if end <= start:
        raise ValidationFailed("A session ends after it starts.", loc="ends_at")
    if not room.strip() and not studio_id.strip():
        raise ValidationFailed("Say where: a room or a studio id.", loc="room")
    return {
        "teacher_name": teacher_name,
        "room": room,
        "studio_id": studio_id.strip() or None,
        "starts_at": start,
        "ends_at": end,
        "capacity": _number(capacity, "capacity", 1, service.MAX_CAPACITY),
    }


def _roster_page(
    request: Request,
    db: Session,
    me: Principal,
    session_id: str,
    errors: dict[str, str] | None = None,
    values: FormValues | None = None,
) -> Response:
    sess = service.check_manage_session(db, me, session_id)
    course = service.get_course(db, sess.course_id)
    lines = []
    for line in service.roster(db, sess):
        cert = certs.certificate_of(db, line.enrolment.id)
        lines.append((line, cert, service.passed(line.enrolment, course)))
    return render(
        request,
        "training/roster.html",
        me,
        sess=sess,
        course=course,
        lines=lines,
        waiting=sum(1 for line, _, _ in lines if line.position),
        done=request.query_params.get("done"),
        errors=errors or {},
        values=values,
        failed=request.path_params.get("enrolment_id"),
        now=utcnow(),
    )


def _roster_again(
    request: Request, db: Session, user: Any, values: FormValues, errors: dict[str, str]
) -> Response:
    me = signed_in(user)
    enr, _ = service.check_manage_enrolment(db, me, request.path_params["enrolment_id"])
    return _roster_page(request, db, me, enr.session_id, errors, values)


def _session_again(
    request: Request, db: Session, user: Any, values: FormValues, errors: dict[str, str]
) -> Response:
    me = signed_in(user)
    return _roster_page(request, db, me, request.path_params["session_id"], errors, values)


@router.post("/ops/training/sessions/{session_id}/edit")
@form_page(_session_again)
def edit_session(
    request: Request,
    session_id: str,
    db: DB,
    me: SignedIn,
    teacher_name: FormText = "",
    room: FormText = "",
    studio_id: FormText = "",
    starts_at: FormText = "",
    ends_at: FormText = "",
    capacity: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    """The operator changes teacher, place, times or capacity before the session starts;
    new seats go to the waiting list in line order."""
    check_form_csrf(request, me, csrf_token)
    sess = service.check_manage_session(db, me, session_id)
    changes = _session_form(teacher_name, room, studio_id, starts_at, ends_at, capacity)
    if changes["starts_at"] == sess.starts_at:
        del changes["starts_at"]  # unchanged: not "moved into the past" when it nears
    promoted = service.do_update_session(db, me, sess, changes)
    db.commit()
    return redirect(f"/ops/training/sessions/{sess.id}?done=updated&promoted={len(promoted)}")


@router.get("/ops/training/sessions/{session_id}", response_class=HTMLResponse)
def roster(request: Request, session_id: str, db: DB, me: SignedIn) -> Response:
    return _roster_page(request, db, me, session_id)


@router.post("/ops/training/enrolments/{enrolment_id}/mark")
@form_page(_roster_again)
def mark(
    request: Request,
    enrolment_id: str,
    db: DB,
    me: SignedIn,
    attended: FormText = "",
    score: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    enr, sess = service.check_manage_enrolment(db, me, enrolment_id)
    value = _number(score, "score", 0, 100) if score.strip() else None
    service.do_mark(db, me, enr, attended=attended == "on", score=value)
    db.commit()
    return redirect(f"/ops/training/sessions/{sess.id}?done=marked#e-{enr.id}")


@router.post("/ops/training/enrolments/{enrolment_id}/certificate")
def issue(
    request: Request, enrolment_id: str, db: DB, me: SignedIn, csrf_token: FormText = ""
) -> Response:
    check_form_csrf(request, me, csrf_token)
    enr, sess = service.check_manage_enrolment(db, me, enrolment_id)
    certs.do_issue(db, me, enr, sess)
    db.commit()
    return redirect(f"/ops/training/sessions/{sess.id}?done=issued#e-{enr.id}")


@router.post("/ops/training/certificates/{number}/revoke")
def revoke(
    request: Request,
    number: str,
    db: DB,
    me: SignedIn,
    reason: FormText = "",
    csrf_token: FormText = "",
) -> Response:
    check_form_csrf(request, me, csrf_token)
    cert = certs.check_revoke(db, me, number[:40])
    if not reason.strip():
        raise ValidationFailed("Say why the certificate is revoked.", loc="reason")
    certs.do_revoke(db, me, cert, reason)
    enr, sess = service.check_manage_enrolment(db, me, cert.enrolment_id)
    db.commit()
    return redirect(f"/ops/training/sessions/{sess.id}?done=revoked#e-{enr.id}")
