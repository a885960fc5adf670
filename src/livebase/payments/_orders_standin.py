"""Stand-ins for the ``orders.service`` functions payments calls, with exactly the names and
shapes the issue-12 brief fixes (``check_payable``, ``do_mark_paid``, ``do_mark_refunded``,
``do_record_transition``), until the orders branch lands. ``payments.service`` imports this
module as ``orders``; on merge the import becomes ``from livebase.orders import service as
orders`` and this file goes. Each state change is one conditional update, like the real ones.
"""

from __future__ import annotations

from typing import Literal

from sqlalchemy import update
from sqlalchemy.orm import Session

from livebase.accounts.actors import Actor, actor_name
from livebase.accounts.service import Principal
from livebase.db import utcnow
from livebase.errors import Conflict, NotFound
from livebase.orders.models import Order, OrderTransition

PAID_STATES = ("paid", "shipped", "completed", "refund_requested", "refunded")


def check_payable(db: Session, me: Principal, order_id: str) -> Order:
    order = db.get(Order, order_id)
    if order is None or order.buyer_id != me.id:
        raise NotFound("No such order.")
    if order.status != "pending_payment":
        raise Conflict(f"This order is {order.status}; only a pending order can be paid.")
    return order


def do_record_transition(
    db: Session,
    actor: Actor,
    order: Order,
    from_status: str | None,
    to_status: str,
    note: str | None = None,
) -> None:
    db.add(
        OrderTransition(
            order_id=order.id,
            from_status=from_status,
            to_status=to_status,
            actor=actor_name(actor),
            note=note,
        )
    )
    db.flush()


def do_mark_paid(
    db: Session, actor: Actor, order_id: str, amount_fen: int, payment_id: str
) -> Literal["paid", "already_paid", "late"]:
    order = db.get(Order, order_id)
    if order is None:
        raise NotFound("No such order.")
    if amount_fen != order.total_fen:
        raise Conflict(f"Paid {amount_fen} fen for an order of {order.total_fen} fen.")
    result = db.execute(
        update(Order)
        .where(Order.id == order_id, Order.status == "pending_payment")
        .values(status="paid", paid_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.refresh(order)
    if getattr(result, "rowcount", 0) == 1:
        do_record_transition(db, actor, order, "pending_payment", "paid", f"payment {payment_id}")
        return "paid"
    return "already_paid" if order.status in PAID_STATES else "late"


def do_mark_refunded(db: Session, actor: Actor, order_id: str) -> bool:
    result = db.execute(
        update(Order)
        .where(Order.id == order_id, Order.status.in_(("paid", "refund_requested", "cancelled")))
        .values(status="refunded")
        .execution_options(synchronize_session=False)
    )
    order = db.get(Order, order_id)
    if getattr(result, "rowcount", 0) != 1 or order is None:
        return False
    db.refresh(order)
    do_record_transition(db, actor, order, None, "refunded")
    return True
