"""The bonded order's states after payment and the receipts that move them.

```
paid ─declare─> declared ─622:800─> released ─> ready_for_pickup ─handover─> picked_up
                 │  ↑ 399                                                  ─> tax_settled ─> closed
                 ├─ 300/500 ─> under_review ─┘
                 ├─ 100 ─> rejected ─resend─> declared   (or cancel → cancelled, refunded)
                 ├─ 501–599 ─> detained
                 └─ cancel (before release) ─> cancelled
released ─ship (delivery: the merchant's waybill)─> shipped ─> completed
released … tax_settled, shipped, completed ─return within N days of release─> returned
```

Each move is a conditional update of the order's status (``orders.do_move``) plus a row in
its timeline naming who (``system:customs``, the clerk, the buyer), when and why (the
receipt's ``returnInfo``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from livebase.accounts.actors import SYSTEM_CUSTOMS, SYSTEM_JOBS, Actor
from livebase.bonded import pickup_codes
from livebase.bonded.customs import Receipt
from livebase.bonded.models import BondedOrder, CustomsMessage, CustomsReceipt
from livebase.db import new_id, utcnow
from livebase.errors import Conflict
from livebase.jobs.service import do_schedule
from livebase.logs import get_logger
from livebase.orders import service as orders


def log() -> Any:
    # Looked up at each call, so a line goes wherever logging is configured now.
    return get_logger("livebase.bonded")


SETTLE_JOB = "bonded.settle_tax"
CLOSE_JOB = "bonded.close"
RESEND_JOB = "bonded.resend"
# Errors (negative returnStatus) are transport or format faults: resent this many times,
# then the order is rejected for a person to look at.
MAX_RESENDS = 5
BEFORE_RELEASE = ("paid", "declared", "under_review", "rejected", "detained")
AWAITING_CUSTOMS = ("declared", "under_review")
# After release: a pickup order waits at the counter, a delivery order ships (the merchant's
# waybill) and completes as any order does; each of them may be returned within the window.
RETURNABLE = ("released", "ready_for_pickup", "picked_up", "tax_settled", "shipped", "completed")
MESSAGE_OF = {"CEB312": "CEB311", "CEB412": "CEB411", "CEB512": "CEB511", "CEB622": "CEB621"}


def do_transition(
    db: Session, actor: Actor, order_id: str, from_: Sequence[str], to: str, why: str
) -> bool:
    moved, before = orders.do_move(db, order_id, from_, to)
    if moved:
        orders.do_record_transition(db, actor, orders.get_order(db, order_id), before, to, why)
        log().info("bonded order moved", order=order_id, to=to, frm=before, actor=str(actor))
    return moved


def _insert_receipt(db: Session, order_id: str, r: Receipt) -> bool:
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(CustomsReceipt)
        .values(
            id=new_id("cer"),
            order_id=order_id,
            kind=r.kind,
            return_status=r.status,
            return_info=r.info[:2000],
            receipt_key=r.key,
            received_at=utcnow(),
        )
        .on_conflict_do_nothing()
        .returning(CustomsReceipt.id)
    )
    return db.execute(stmt).first() is not None


def _mark_message(db: Session, order_id: str, kind: str, status: str) -> None:
    msg = db.scalar(
        select(CustomsMessage)
        .where(CustomsMessage.order_id == order_id, CustomsMessage.kind == kind)
        .order_by(CustomsMessage.id.desc())
    )
    if msg is not None:
        msg.status = status
        db.flush()


def do_take_receipt(db: Session, r: Receipt) -> str:
    """Take one receipt (a repeat is taken once); return what it did, for logs and tests."""
    bo = db.scalar(select(BondedOrder).where(BondedOrder.order_no == r.order_no))
    if bo is None:
        log().warning("customs receipt for an unknown order", order_no=r.order_no, kind=r.kind)
        return "unknown_order"
    if not _insert_receipt(db, bo.order_id, r):
        return "repeat"
    oid, info = bo.order_id, f"{r.kind} {r.status}: {r.info}".strip()
    message_kind = MESSAGE_OF.get(r.kind)
    if message_kind is None:
        return "ignored"
    if r.status < 0:
        _mark_message(db, oid, message_kind, "error")
        return _resend_later(db, bo, message_kind, info)
    if r.status in (2, 3):  # in the e-port / sent to customs: on its way
        return "noted"
    if r.status == 120:
        _mark_message(db, oid, message_kind, "accepted")
        return "accepted"
    if r.status == 100:
        _mark_message(db, oid, message_kind, "rejected")
        bo.last_reason = info
        moved = do_transition(
            db, SYSTEM_CUSTOMS, oid, (*AWAITING_CUSTOMS, "detained"), "rejected", info
        )
        return "rejected" if moved else "noted"
    if r.kind != "CEB622":
        log().warning("unexpected receipt status", kind=r.kind, status=r.status, order=oid)
        return "ignored"
    return _take_inventory_status(db, bo, r.status, info)


def _take_inventory_status(db: Session, bo: BondedOrder, status: int, info: str) -> str:
    oid = bo.order_id
    if status == 300:  # manual review (人工审核)
        bo.last_reason = info
        moved = do_transition(db, SYSTEM_CUSTOMS, oid, ("declared",), "under_review", info)
        return "under_review" if moved else "noted"
    if status == 399:  # review decided: back to waiting for release
        do_transition(db, SYSTEM_CUSTOMS, oid, ("under_review",), "declared", info)
        return "decided"
    if status == 500:  # inspection (查验): a person looks at the goods
        bo.last_reason = info
        do_transition(db, SYSTEM_CUSTOMS, oid, ("declared",), "under_review", info)
        return "inspection"
    if 501 <= status <= 599:  # detained (扣留)
        bo.last_reason = info
        do_transition(db, SYSTEM_CUSTOMS, oid, AWAITING_CUSTOMS, "detained", info)
        return "detained"
    if status == 800:  # released (放行): goods may leave the zone
        return _release(db, bo, info)
    if status == 899:  # closed at customs (结关)
        moved = do_transition(db, SYSTEM_CUSTOMS, oid, ("tax_settled",), "closed", info)
        return "closed" if moved else "noted"
    log().warning("unexpected inventory status", status=status, order=oid)
    return "ignored"


def _release(db: Session, bo: BondedOrder, info: str) -> str:
    oid = bo.order_id
    moved = do_transition(
        db, SYSTEM_CUSTOMS, oid, (*AWAITING_CUSTOMS, "detained"), "released", info
    )
    if not moved:
        return "noted"
    now = utcnow()
    bo.released_at = now
    _mark_message(db, oid, "CEB621", "accepted")
    db.flush()
    from livebase.bonded.orders import rules_for

    rules = rules_for(db, bo.customs_code)
    # The return window closes the order (no return after it): then tax_settled → closed.
    do_schedule(db, CLOSE_JOB, now + timedelta(days=rules.return_days), {"order_id": oid})
    if bo.pickup_counter_id is not None:
        pickup_codes.do_issue(db, bo)
        do_transition(
            db,
            SYSTEM_CUSTOMS,
            oid,
            ("released",),
            "ready_for_pickup",
            "已放行，可到柜台自提 / Released: ready for pickup at the counter",
        )
        return "ready_for_pickup"
    return "released"


def _resend_later(db: Session, bo: BondedOrder, kind: str, info: str) -> str:
    if bo.declarations >= MAX_RESENDS:
        bo.last_reason = info
        do_transition(db, SYSTEM_CUSTOMS, bo.order_id, AWAITING_CUSTOMS, "rejected", info)
        return "rejected"
    delay = timedelta(seconds=min(2**bo.declarations * 30, 3600))
    do_schedule(db, RESEND_JOB, utcnow() + delay, {"order_id": bo.order_id, "kind": kind})
    return "resend"


def do_resend(db: Session, order_id: str, kind: str) -> None:
    """A message customs answered with an error goes again (a new guid, same content)."""
    from livebase.bonded import ceb
    from livebase.bonded.orders import bonded_order, declaration_of
    from livebase.bonded.parts import bonded_of

    bo = bonded_order(db, order_id)
    order = orders.get_order(db, order_id)
    if bo is None or order.status not in AWAITING_CUSTOMS:
        return
    guid = ceb.new_guid()
    xml = ceb.BUILDERS[kind](declaration_of(db, order, bo), guid)
    ceb.parse(xml)
    db.add(CustomsMessage(order_id=order_id, kind=kind, guid=guid, xml=xml, status="sent"))
    bo.declarations += 1
    db.flush()
    bonded_of(db).submitter.submit(db, kind, guid, bo.order_no, xml)


def do_cancel_before_release(db: Session, actor: Actor, order_id: str, why: str) -> str:
    """Cancel a declared (or rejected, reviewed, detained) order: units, quota and money
    back. A paid order not yet declared is cancelled by the orders service's own cancel."""
    from livebase.bonded.orders import do_release_quota

    states = ("declared", "under_review", "rejected", "detained")
    if not do_transition(db, actor, order_id, states, "cancelled", why):
        status = orders.get_order(db, order_id).status
        raise Conflict(f"The order is {status}; only an order not yet released is cancelled here.")
    order = orders.get_order(db, order_id)
    do_release_quota(db, order_id)
    orders.do_return_units(db, order)
    orders.request_refund(db, order, why)
    return "cancelled"


def do_return(db: Session, actor: Actor, order_id: str, why: str) -> str:
    """A return within the district's window after release: the quota comes back, the
    goods go back to the zone (their units to stock) and the money to the buyer."""
    from livebase.bonded.orders import bonded_order, do_release_quota, rules_for

    bo = bonded_order(db, order_id)
    if bo is None or bo.released_at is None:
        raise Conflict("Only a released bonded order is returned.")
    days = rules_for(db, bo.customs_code).return_days
    if utcnow() - bo.released_at > timedelta(days=days):
        raise Conflict(f"Returns are taken within {days} days of release.")
    fr = RETURNABLE
    if not do_transition(db, actor, order_id, fr, "returned", why):
        status = orders.get_order(db, order_id).status
        raise Conflict(f"The order is {status}; it cannot be returned.")
    order = orders.get_order(db, order_id)
    do_release_quota(db, order_id)
    orders.do_return_units(db, order)
    orders.request_refund(db, order, why)
    return "returned"


def do_settle_tax(db: Session, order_id: str) -> bool:
    """The platform, as the withholding agent (代收代缴义务人), pays the order's tax on the
    customs tax bill: picked_up → tax_settled."""
    return do_transition(
        db, SYSTEM_JOBS, order_id, ("picked_up",), "tax_settled", "税款已缴 tax paid to customs"
    )


def do_close(db: Session, order_id: str) -> bool:
    return do_transition(
        db, SYSTEM_JOBS, order_id, ("tax_settled",), "closed", "退货期已过 return window over"
    )
