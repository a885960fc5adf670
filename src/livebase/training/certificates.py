"""Certificates of 互联网营销师 (直播销售员): numbers, signatures, issue, revocation and
the public verification.

A certificate's QR code opens ``{LIVEBASE_PUBLIC_URL}/certificates/{number}?sig=...``.
``sig`` is an HMAC-SHA256, under a key derived from the app's secret, of the fields the
paper shows (number, holder, course, level, date). Nothing secret is stored: verifying
recomputes the signature from the record. A number we never issued, or a signature that
does not match the record (a QR re-made for another number, a record edited behind the
service's back), reads *not valid*; a revoked certificate reads *revoked* with the date
and reason; anything else *valid*, with the holder's name partly masked so that the page
confirms a name one already has rather than publishing it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from livebase.accounts.actors import Actor, actor_name
from livebase.accounts.service import Principal, get_user
from livebase.audit.service import do_record
from livebase.dashboard import months
from livebase.db import utcnow
from livebase.errors import Conflict, NotFound, ValidationFailed
from livebase.training.models import (
    Certificate,
    CertificateCounter,
    Course,
    Enrolment,
    TrainingSession,
)
from livebase.training.service import LEVELS, get_course, passed

OCCUPATION = "互联网营销师"
WORK_TYPE = "直播销售员"
NUMBER_PREFIX = "LB"
# 32 hex digits = 128 bits of HMAC: unguessable, and short enough for a small QR code.
SIG_HEX = 32
_KEY_LABEL = b"livebase:training:certificates"


def format_number(year: int, n: int) -> str:
    """LB-2026-000123: the year of issue and a serial within it."""
    return f"{NUMBER_PREFIX}-{year:04d}-{n:06d}"


def _next_serial(db: Session, year: int) -> int:
    """The next serial of ``year``: insert the year's counter if missing (a concurrent
    insert is ignored), then one ``UPDATE ... SET last = last + 1 RETURNING last``, which
    also serialises two issues of the same year."""
    dialect = db.get_bind().dialect.name
    ins = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(CertificateCounter)
    db.execute(ins.values(year=year, last=0).on_conflict_do_nothing(index_elements=["year"]))
    last = db.execute(
        update(CertificateCounter)
        .where(CertificateCounter.year == year)
        .values(last=CertificateCounter.last + 1)
        .returning(CertificateCounter.last)
        .execution_options(synchronize_session=False)
    ).scalar_one()
    return int(last)


def _key(secret: str) -> bytes:
    return hmac.new(secret.encode(), _KEY_LABEL, hashlib.sha256).digest()


def signed_fields(cert: Certificate) -> list[str | int]:
    return [
        cert.number,
        cert.holder_name,
        cert.course_title,
        cert.level,
        cert.issued_on.isoformat(),
    ]


def signature(secret: str, cert: Certificate) -> str:
    # JSON of a list: unambiguous whatever the names contain (no separator to forge).
    message = json.dumps(signed_fields(cert), ensure_ascii=False, separators=(",", ":"))
    return hmac.new(_key(secret), message.encode(), hashlib.sha256).hexdigest()[:SIG_HEX]


def verification_url(public_url: str, secret: str, cert: Certificate) -> str:
    return f"{public_url.rstrip('/')}/certificates/{cert.number}?sig={signature(secret, cert)}"


def mask_name(name: str) -> str:
    """张三丰 → 张*丰, 张三 → 张*, Alice Smith → A*********h: enough to confirm a name
    one holds, not enough to learn it."""
    name = name.strip()
    if len(name) <= 1:
        return "*"
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def level_label(level: int, lang: str = "zh") -> str:
    zh, en = LEVELS.get(level, (str(level), str(level)))
    return zh if lang == "zh" else en


# --- issue and revoke -----------------------------------------------------------------


def get_certificate(db: Session, number: str) -> Certificate:
    cert = db.scalar(select(Certificate).where(Certificate.number == number))
    if cert is None:
        raise NotFound(f"No certificate {number}.")
    return cert


def certificate_of(db: Session, enrolment_id: str) -> Certificate | None:
    return db.scalar(select(Certificate).where(Certificate.enrolment_id == enrolment_id))


def check_revoke(db: Session, principal: Principal, number: str) -> Certificate:
    """Only an operator of the issuing base revokes; to anyone else it is not there."""
    cert = get_certificate(db, number)
    if not principal.has("operator", base_id=cert.base_id):
        raise NotFound(f"No certificate {number}.")
    return cert


def check_download(db: Session, principal: Principal, number: str) -> Certificate:
    """The holder or an operator of the issuing base downloads the PDF."""
    cert = get_certificate(db, number)
    if cert.user_id != principal.id and not principal.has("operator", base_id=cert.base_id):
        raise NotFound(f"No certificate {number}.")
    return cert


def do_issue(
    db: Session,
    actor: Actor,
    enr: Enrolment,
    sess: TrainingSession,
    *,
    holder_name: str | None = None,
    now: datetime | None = None,
) -> Certificate:
    """A certificate for an enrolment that attended and scored at least the pass mark;
    one per enrolment (a revoked one stays revoked)."""
    course: Course = get_course(db, sess.course_id)
    if not passed(enr, course):
        raise Conflict(
            f"A certificate needs attendance and a score of at least {course.pass_mark}."
        )
    if certificate_of(db, enr.id) is not None:
        raise Conflict("This enrolment already has a certificate.")
    user = get_user(db, enr.user_id)
    name = (holder_name or (user.display_name if user else "")).strip()
    if not name:
        raise ValidationFailed("The certificate needs the holder's name.", loc="body.holder_name")
    now = now or utcnow()
    serial = _next_serial(db, now.year)
    cert = Certificate(
        number=format_number(now.year, serial),
        enrolment_id=enr.id,
        user_id=enr.user_id,
        base_id=sess.base_id,
        course_id=course.id,
        holder_name=name,
        course_title=course.title,
        level=course.level,
        score=enr.score or 0,  # passed() made sure there is one
        issued_on=now.astimezone(UTC).date(),
        issued_at=now,
        issued_by=actor_name(actor),
    )
    db.add(cert)
    db.flush()
    do_record(db, actor, "issue", "training_certificate", cert.id, number=cert.number)
    return cert


def do_revoke(
    db: Session, actor: Actor, cert: Certificate, reason: str, *, now: datetime | None = None
) -> Certificate:
    if not reason.strip():
        raise ValidationFailed("Say why the certificate is revoked.", loc="body.reason")
    done = db.execute(
        update(Certificate)
        .where(Certificate.id == cert.id, Certificate.revoked_at.is_(None))
        .values(
            revoked_at=now or utcnow(), revoked_reason=reason.strip(), revoked_by=actor_name(actor)
        )
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if not done:
        raise Conflict("This certificate is already revoked.")
    db.refresh(cert)
    do_record(db, actor, "revoke", "training_certificate", cert.id, reason=reason.strip())
    return cert


def my_certificates(db: Session, user_id: str) -> list[Certificate]:
    return list(
        db.scalars(
            select(Certificate)
            .where(Certificate.user_id == user_id)
            .order_by(Certificate.id.desc())
        )
    )


# --- verification ---------------------------------------------------------------------


@dataclass(frozen=True)
class Verification:
    number: str
    status: str  # "valid" | "revoked" | "not_valid"
    reason: str | None = None  # for not_valid: "unknown_number" | "bad_signature"
    signature_checked: bool = False
    cert: Certificate | None = None

    def public(self) -> dict[str, object]:
        out: dict[str, object] = {
            "number": self.number,
            "status": self.status,
            "signature_checked": self.signature_checked,
        }
        if self.reason:
            out["reason"] = self.reason
        c = self.cert
        if c is not None and self.status != "not_valid":
            out |= {
                "holder_name": mask_name(c.holder_name),
                "occupation": OCCUPATION,
                "work_type": WORK_TYPE,
                "course": c.course_title,
                "level": c.level,
                "level_label": level_label(c.level),
                "issued_on": c.issued_on.isoformat(),
            }
            if c.revoked_at is not None:
                out["revoked_on"] = c.revoked_at.astimezone(UTC).date().isoformat()
                out["revoked_reason"] = c.revoked_reason
        return out


def verify(db: Session, secret: str, number: str, sig: str | None) -> Verification:
    """What the public page says of ``number`` (and the QR's ``sig`` when given)."""
    cert = db.scalar(select(Certificate).where(Certificate.number == number))
    if cert is None:
        return Verification(number, "not_valid", "unknown_number")
    checked = sig is not None
    if sig is not None and not hmac.compare_digest(sig.lower(), signature(secret, cert)):
        return Verification(number, "not_valid", "bad_signature", True)
    if cert.revoked_at is not None:
        return Verification(number, "revoked", None, checked, cert)
    return Verification(number, "valid", None, checked, cert)


# --- the base dashboard's figure ------------------------------------------------------


def _issued(base_id: str, start: datetime, end: datetime):  # type: ignore[no-untyped-def]
    return (
        Certificate.base_id == base_id,
        Certificate.issued_at >= start,
        Certificate.issued_at < end,
        Certificate.revoked_at.is_(None),
    )


def count_certificates_issued(db: Session, base_id: str, start: datetime, end: datetime) -> int:
    """Certificates a base issued in [start, end) that are not revoked (MetricSpec)."""
    n = db.scalar(select(func.count(Certificate.id)).where(*_issued(base_id, start, end)))
    return int(n or 0)


def monthly_certificates_issued(
    db: Session, base_id: str, start: datetime, end: datetime
) -> dict[str, int]:
    """``{"YYYY-MM": n}`` (UTC months) for every month of [start, end), in one query."""
    stamps = db.scalars(select(Certificate.issued_at).where(*_issued(base_id, start, end)))
    counts = Counter(f"{t.astimezone(UTC):%Y-%m}" for t in stamps)
    return {month: counts.get(month, 0) for month in months.covering(start, end)}
