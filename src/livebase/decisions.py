"""The one "pending → decided" transition, shared by every queue a person works through:
applications to join a base, the moderation queue, and (next) refund requests.

A conditional update (``WHERE status = 'pending'``) decides a row exactly once, even when
two operators press approve at the same moment; the loser gets a 409 naming the state the
winner left, and the decider, reason and time are written with the decision.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from livebase.accounts.actors import Actor, actor_name
from livebase.audit.service import do_record
from livebase.db import utcnow
from livebase.errors import Conflict

PENDING = "pending"


def do_decide_pending(
    db: Session, row: Any, *, actor: Actor, approve: bool, reason: str | None, what: str
) -> None:
    """Decide ``row`` (a mapped object with ``id``, ``status``, ``reason``, ``decided_by``
    and ``decided_at``) if it is still pending; raise Conflict otherwise. ``what`` names
    the row for that message ("The application")."""
    model = type(row)
    status = "approved" if approve else "rejected"
    result = db.execute(
        update(model)
        .where(model.id == row.id, model.status == PENDING)
        .values(status=status, reason=reason, decided_by=actor_name(actor), decided_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    decided = getattr(result, "rowcount", 0) == 1
    db.refresh(row)
    if not decided:
        raise Conflict(f"{what} is already {row.status}.")
    do_record(db, actor, status, model.__tablename__, row.id, reason=reason)
