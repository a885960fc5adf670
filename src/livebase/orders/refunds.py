"""Refund requests after shipment: the buyer asks with a reason, the brand's merchant
approves or rejects through ``decisions.do_decide_pending`` (pending → decided once, the
loser of two decisions gets 409). Approval asks the provider for a full refund (outbox);
the order reads ``refunded`` when the provider takes it (``service.do_mark_refunded``).
A rejection puts the order back where it was (shipped or completed), with the reason in
its timeline."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from livebase.accounts.actors import Actor
from livebase.accounts.service import Principal
from livebase.bases import service as bases
from livebase.db import utcnow
from livebase.decisions import do_decide_pending
from livebase.errors import Conflict, NotFound
from livebase.orders import hooks, service
from livebase.orders.models import Order, OrderTransition, RefundRequest
from livebase.schemas import rfc3339

# After shipment a refund is asked for; before it the buyer simply cancels.
AFTER_SHIPMENT = ("shipped", "completed")


def refund_request_view(r: RefundRequest) -> dict[str, Any]:
    return {
        "id": r.id,
        "order_id": r.order_id,
        "status": r.status,
        "request_reason": r.request_reason,
        "reason": r.reason,
        "decided_by": r.decided_by,
        "decided_at": rfc3339(r.decided_at),
        "created_at": rfc3339(r.created_at),
    }


def do_file(db: Session, buyer: Principal, order: Order, reason: str) -> RefundRequest:
    """The buyer asks for a refund of a shipped order, or of a completed one within the
    after-sale window (``LIVEBASE_AFTER_SALE_DAYS`` after completion); 409 otherwise."""
    if order.status == "completed":
        done = service.completed_at(db, order.id)
        window = service.rules_of(db).after_sale
        if done is not None and done + window <= utcnow():
            raise Conflict(
                f"The order completed more than {window.days} days ago; "
                "its after-sale window is closed."
            )
    moved, before = service.do_move(db, order.id, AFTER_SHIPMENT, "refund_requested")
    if not moved:
        if before in ("pending_payment", "paid"):
            raise Conflict("The order has not shipped; cancel it instead.")
        raise Conflict(f"The order is {before}; no refund can be asked for.")
    row = RefundRequest(
        order_id=order.id, buyer_id=order.buyer_id, org_id=order.org_id, request_reason=reason
    )
    db.add(row)
    db.flush()
    service.do_record_transition(db, buyer, order, before, "refund_requested", note=reason)
    return row


def list_for_order(db: Session, order_id: str) -> list[RefundRequest]:
    return list(
        db.scalars(
            select(RefundRequest)
            .where(RefundRequest.order_id == order_id)
            .order_by(RefundRequest.id)
        )
    )


def check_decide(db: Session, me: Principal, request_id: str) -> RefundRequest:
    """The request, when the principal is staff of the selling brand; 404 otherwise."""
    row = db.get(RefundRequest, request_id)
    if row is None or not bases.is_org_staff(me, row.org_id):
        raise NotFound(f"No refund request {request_id}.")
    return row


def do_decide(
    db: Session, actor: Actor, row: RefundRequest, *, approve: bool, reason: str | None
) -> None:
    do_decide_pending(
        db, row, actor=actor, approve=approve, reason=reason, what="The refund request"
    )
    order = service.get_order(db, row.order_id)
    if approve:
        service.do_record_transition(
            db, actor, order, "refund_requested", "refund_requested", note="refund approved"
        )
        for hook in hooks.hooks_of(db):  # cross-border: quota and goods go back
            hook.on_refund_approved(db, actor, order)
        service.request_refund(db, order, row.request_reason)
        return
    # Back to the state the request found it in (the transition that entered it says).
    entered = db.scalar(
        select(OrderTransition.from_status)
        .where(
            OrderTransition.order_id == order.id,
            OrderTransition.to_status == "refund_requested",
        )
        .order_by(OrderTransition.at.desc(), OrderTransition.id.desc())
        .limit(1)
    )
    back = entered if entered in AFTER_SHIPMENT else "shipped"
    moved, _ = service.do_move(db, order.id, ("refund_requested",), back)
    if moved:
        service.do_record_transition(db, actor, order, "refund_requested", back, note=reason)
