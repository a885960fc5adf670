"""Write and read audit records. Called by ``do_*`` functions in the same transaction as
the change they record, so a record exists exactly when its change does."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from livebase.accounts.actors import Actor, actor_name
from livebase.audit.models import AuditRecord


def do_record(
    db: Session, actor: Actor, action: str, subject_type: str, subject_id: str, **detail: Any
) -> AuditRecord:
    row = AuditRecord(
        actor=actor_name(actor),
        action=action,
        subject_type=subject_type,
        subject_id=subject_id,
        detail=detail,
    )
    db.add(row)
    return row


def records_of(db: Session, subject_type: str, subject_id: str) -> list[AuditRecord]:
    return list(
        db.scalars(
            select(AuditRecord)
            .where(AuditRecord.subject_type == subject_type, AuditRecord.subject_id == subject_id)
            .order_by(AuditRecord.id)
        )
    )
