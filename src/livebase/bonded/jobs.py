"""Job handlers of the bonded feature: the declaration outbox, the sandbox customs'
receipts, resends, tax settlement, closing, and the real exchange's receipt poll."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from livebase.bonded import states
from livebase.bonded.customs import Receipt
from livebase.bonded.orders import do_declare
from livebase.bonded.parts import bonded_of


def declare(db: Session, payload: dict[str, Any]) -> None:
    do_declare(db, str(payload["order_id"]))


def sandbox_receipt(db: Session, payload: dict[str, Any]) -> None:
    states.do_take_receipt(
        db,
        Receipt(
            kind=str(payload["kind"]),
            order_no=str(payload["order_no"]),
            status=int(payload["status"]),
            info=str(payload.get("info", "")),
            key=str(payload["key"]),
        ),
    )


def resend(db: Session, payload: dict[str, Any]) -> None:
    states.do_resend(db, str(payload["order_id"]), str(payload["kind"]))


def settle_tax(db: Session, payload: dict[str, Any]) -> None:
    states.do_settle_tax(db, str(payload["order_id"]))


def close(db: Session, payload: dict[str, Any]) -> None:
    states.do_close(db, str(payload["order_id"]))


def poll_receipts(db: Session, _payload: dict[str, Any]) -> None:
    """The real exchange's inbox (the sandbox delivers receipts as jobs: nothing here)."""
    for receipt in bonded_of(db).submitter.poll():
        states.do_take_receipt(db, receipt)
