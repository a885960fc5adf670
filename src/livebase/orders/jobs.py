"""The orders feature's jobs: expiry at ``pay_by``, completion after the receipt window,
and the refund outbox."""

from __future__ import annotations

import importlib
from typing import Any

from sqlalchemy.orm import Session

from livebase.accounts.actors import SYSTEM_JOBS
from livebase.orders import service

# One sweep takes at most this many orders; the rest wait for the next run (seconds).
SWEEP_LIMIT = 500


def expire_due(db: Session, payload: dict[str, Any]) -> None:
    """Recurring: expire every unpaid order whose ``pay_by`` has passed (units back once).
    Each expiry is its own conditional update, so a payment that lands meanwhile wins or
    loses cleanly against it."""
    for order_id in service.due_for_expiry(db, limit=SWEEP_LIMIT):
        service.do_expire(db, SYSTEM_JOBS, order_id)


def complete_due(db: Session, payload: dict[str, Any]) -> None:
    """Recurring: complete every shipped order whose receipt window
    (``LIVEBASE_AUTO_COMPLETE_DAYS``) is over, each with its own conditional update."""
    after = service.rules_of(db).complete_after
    for order_id in service.due_for_completion(db, after, limit=SWEEP_LIMIT):
        service.do_auto_complete(db, SYSTEM_JOBS, order_id, after)


def request_refund(db: Session, payload: dict[str, Any]) -> None:
    """Outbox: ask payments for the refund the order is owed; retried with backoff by the
    job runner until payments takes it."""
    try:
        payments = importlib.import_module("livebase.payments.service")
        do_request_refund = payments.do_request_refund
    except (ImportError, AttributeError) as exc:  # the payments branch is merged apart
        raise NotImplementedError(
            "payments.service.do_request_refund is not installed; the refund waits"
        ) from exc
    do_request_refund(
        db, SYSTEM_JOBS, payload["order_id"], int(payload["amount_fen"]), str(payload["reason"])
    )
