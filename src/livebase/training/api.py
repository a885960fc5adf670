"""Training's JSON routes: courses, sessions, enrolments, certificates and their public
verification."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query
from fastapi.responses import Response

from livebase.accounts.service import Principal
from livebase.bases import service as bases
from livebase.errors import ValidationFailed
from livebase.http import DB, NO_BODY, Me, Page, RuntimeDep, page_of, paged, require_json
from livebase.schemas import rfc3339
from livebase.training import certificates as certs
from livebase.training import service
from livebase.training.models import Certificate, Course, Enrolment, TrainingSession
from livebase.training.schemas import (
    CourseIn,
    EnrolmentPatch,
    IssueIn,
    RevokeIn,
    SessionIn,
    SessionPatch,
)

CoursePage = Annotated[Page, Depends(page_of("crs"))]
SessionPage = Annotated[Page, Depends(page_of("tss"))]
# Certificate numbers as we make them (LB-2026-000123); anything longer is not one.
Number = Annotated[str, Path(min_length=1, max_length=40)]
Sig = Annotated[str | None, Query(max_length=64, pattern="^[0-9a-fA-F]+$")]

router = APIRouter(prefix="/api/v1", tags=["training"], dependencies=[Depends(require_json)])


def course_out(c: Course) -> dict[str, Any]:
    return {
        "id": c.id,
        "base_id": c.base_id,
        "title": c.title,
        "description": c.description,
        "hours": c.hours,
        "level": c.level,
        "level_label": certs.level_label(c.level),
        "pass_mark": c.pass_mark,
        "created_at": rfc3339(c.created_at),
    }


def session_out(s: TrainingSession, waitlisted: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": s.id,
        "course_id": s.course_id,
        "base_id": s.base_id,
        "teacher_name": s.teacher_name,
        "teacher_user_id": s.teacher_user_id,
        "room": s.room,
        "studio_id": s.studio_id,
        "starts_at": rfc3339(s.starts_at),
        "ends_at": rfc3339(s.ends_at),
        "capacity": s.capacity,
        "seats_taken": s.seats_taken,
        "seats_left": s.capacity - s.seats_taken,
    }
    if waitlisted is not None:
        out["waitlisted"] = waitlisted
    return out


def enrolment_out(db: DB, e: Enrolment) -> dict[str, Any]:
    cert = certs.certificate_of(db, e.id)
    return {
        "id": e.id,
        "session_id": e.session_id,
        "user_id": e.user_id,
        "status": e.status,
        "position": service.position_of(db, e),
        "attended": e.attended,
        "score": e.score,
        "certificate_number": cert.number if cert else None,
        "created_at": rfc3339(e.created_at),
        "confirmed_at": rfc3339(e.confirmed_at),
        "cancelled_at": rfc3339(e.cancelled_at),
    }


def certificate_out(c: Certificate, url: str) -> dict[str, Any]:
    return {
        "id": c.id,
        "number": c.number,
        "enrolment_id": c.enrolment_id,
        "holder_name": c.holder_name,
        "occupation": certs.OCCUPATION,
        "work_type": certs.WORK_TYPE,
        "course_id": c.course_id,
        "course": c.course_title,
        "level": c.level,
        "level_label": certs.level_label(c.level),
        "score": c.score,
        "issued_on": c.issued_on.isoformat(),
        "revoked_at": rfc3339(c.revoked_at),
        "revoked_reason": c.revoked_reason,
        "verification_url": url,
    }


def _url(rt: RuntimeDep, c: Certificate) -> str:
    return certs.verification_url(rt.settings.public_url, rt.settings.secret_key, c)


# --- courses and sessions -------------------------------------------------------------


@router.post("/bases/{base_id}/courses", status_code=201)
def create_course(base_id: str, body: CourseIn, me: Me, db: DB) -> dict[str, Any]:
    service.check_manage_base(db, me, base_id)
    course = service.do_create_course(db, me, base_id, **body.model_dump())
    db.commit()
    return course_out(course)


@router.get("/bases/{base_id}/courses")
def list_courses(base_id: str, db: DB, page: CoursePage) -> dict[str, Any]:
    bases.get_base(db, base_id)
    rows = service.list_courses(db, base_id, limit=page.limit, cursor=page.cursor)
    return paged([course_out(c) for c in rows], page)


@router.get("/courses/{course_id}")
def get_course(course_id: str, db: DB) -> dict[str, Any]:
    return course_out(service.get_course(db, course_id))


@router.post("/courses/{course_id}/sessions", status_code=201)
def create_session(course_id: str, body: SessionIn, me: Me, db: DB) -> dict[str, Any]:
    course = service.check_manage_course(db, me, course_id)
    sess = service.do_create_session(db, me, course, **body.model_dump())
    db.commit()
    return session_out(sess, 0)


@router.get("/courses/{course_id}/sessions")
def list_sessions(course_id: str, db: DB, page: SessionPage) -> dict[str, Any]:
    service.get_course(db, course_id)
    rows = service.list_sessions(db, course_id, limit=page.limit, cursor=page.cursor)
    waiting = service.waitlist_counts(db, [s.id for s in rows])
    return paged([session_out(s, waiting.get(s.id, 0)) for s in rows], page)


@router.get("/sessions/{session_id}")
def get_session(session_id: str, db: DB) -> dict[str, Any]:
    sess = service.get_session(db, session_id)
    return session_out(sess, service.waitlist_counts(db, [sess.id]).get(sess.id, 0))


@router.patch("/sessions/{session_id}")
def update_session(session_id: str, body: SessionPatch, me: Me, db: DB) -> dict[str, Any]:
    """An operator changes a session not yet started; a larger capacity seats the waiting
    list in line order (``promoted`` names who got a seat)."""
    if not body.model_fields_set:
        raise ValidationFailed("Send at least one field to change.", loc="body")
    sess = service.check_manage_session(db, me, session_id)
    changes = {k: getattr(body, k) for k in body.model_fields_set}
    promoted = service.do_update_session(db, me, sess, changes)
    db.commit()
    out = session_out(sess, service.waitlist_counts(db, [sess.id]).get(sess.id, 0))
    return {**out, "promoted": [e.id for e in promoted]}


# --- enrolments -----------------------------------------------------------------------


@router.post("/sessions/{session_id}/enrolments", status_code=201, dependencies=[NO_BODY])
def enrol(session_id: str, me: Me, db: DB) -> dict[str, Any]:
    sess = service.get_session(db, session_id)
    enr = service.do_enrol(db, me, sess, me.id)
    db.commit()
    return enrolment_out(db, enr)


@router.get("/sessions/{session_id}/enrolments")
def roster(session_id: str, me: Me, db: DB) -> dict[str, Any]:
    """The whole roster (seats, waiting list, cancellations): bounded by the session."""
    sess = service.check_manage_session(db, me, session_id)
    items = [
        enrolment_out(db, line.enrolment) | {"name": line.name, "username": line.username}
        for line in service.roster(db, sess)
    ]
    return {"items": items, "next_cursor": None}


@router.get("/enrolments/{enrolment_id}")
def get_enrolment(enrolment_id: str, me: Me, db: DB) -> dict[str, Any]:
    enr, _ = service.check_view_enrolment(db, me, enrolment_id)
    return enrolment_out(db, enr)


@router.delete("/enrolments/{enrolment_id}", dependencies=[NO_BODY])
def cancel(enrolment_id: str, me: Me, db: DB) -> dict[str, Any]:
    enr, _ = service.check_cancel_enrolment(db, me, enrolment_id)
    done = service.do_cancel(db, me, enr)
    db.commit()
    promoted = enrolment_out(db, done.promoted) if done.promoted else None
    return enrolment_out(db, done.enrolment) | {"promoted": promoted}


@router.patch("/enrolments/{enrolment_id}")
def mark(enrolment_id: str, body: EnrolmentPatch, me: Me, db: DB) -> dict[str, Any]:
    given = body.model_fields_set
    if not given:
        raise ValidationFailed("Send attended or score.", loc="body")
    enr, _ = service.check_manage_enrolment(db, me, enrolment_id)
    kwargs: dict[str, Any] = {}
    if "attended" in given:
        kwargs["attended"] = body.attended
    if "score" in given:
        kwargs["score"] = body.score
    service.do_mark(db, me, enr, **kwargs)
    db.commit()
    return enrolment_out(db, enr)


@router.get("/me/enrolments")
def my_enrolments(me: Me, db: DB) -> dict[str, Any]:
    items = [
        enrolment_out(db, e) | {"course": c.title, "starts_at": rfc3339(s.starts_at)}
        for e, s, c in service.my_enrolments(db, me.id)
    ]
    return {"items": items, "next_cursor": None}


# --- certificates ---------------------------------------------------------------------


@router.post("/enrolments/{enrolment_id}/certificate", status_code=201)
def issue(
    enrolment_id: str, me: Me, db: DB, rt: RuntimeDep, body: IssueIn | None = None
) -> dict[str, Any]:
    enr, sess = service.check_manage_enrolment(db, me, enrolment_id)
    cert = certs.do_issue(db, me, enr, sess, holder_name=body.holder_name if body else None)
    db.commit()
    return certificate_out(cert, _url(rt, cert))


@router.get("/me/certificates")
def my_certificates(me: Me, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    items = [certificate_out(c, _url(rt, c)) for c in certs.my_certificates(db, me.id)]
    return {"items": items, "next_cursor": None}


def pdf_response(db: DB, rt: RuntimeDep, me: Principal, number: str) -> Response:
    # Imported here: reportlab costs a second or two of start-up for a rare download.
    from livebase.training.pdf import certificate_pdf

    cert = certs.check_download(db, me, number)
    base = bases.get_base(db, cert.base_id)
    data = certificate_pdf(cert, _url(rt, cert), base.name)
    return Response(
        data,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{cert.number}.pdf"'},
    )


# Declared before /certificates/{number}, which would otherwise take "LB-...pdf" whole.
@router.get(
    "/certificates/{number}.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
def download(number: Number, me: Me, db: DB, rt: RuntimeDep) -> Response:
    return pdf_response(db, rt, me, number)


@router.get("/certificates/{number}")
def verify(number: Number, db: DB, rt: RuntimeDep, sig: Sig = None) -> dict[str, Any]:
    """Public: valid, revoked, or not_valid (an unknown number, or a signature that does
    not match the record). A look-up that creates nothing: always 200."""
    return certs.verify(db, rt.settings.secret_key, number, sig).public()


@router.post("/certificates/{number}/revoke")
def revoke(number: Number, body: RevokeIn, me: Me, db: DB, rt: RuntimeDep) -> dict[str, Any]:
    cert = certs.check_revoke(db, me, number)
    certs.do_revoke(db, me, cert, body.reason)
    db.commit()
    return certificate_out(cert, _url(rt, cert))
