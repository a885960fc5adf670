"""One-time pickup codes: 10 digits (easy on a phone keypad; 10^10 codes, and guessing is
rate-limited per clerk and per counter), issued on release, kept as a keyed hash for the
counter's look-up and sealed (AES-GCM) so the buyer's order page can show it again."""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy.orm import Session

from livebase.bonded.models import BondedOrder
from livebase.bonded.parts import bonded_of
from livebase.bonded.vault import Sealed
from livebase.db import utcnow

DIGITS = 10


def normalise(code: str) -> str:
    return "".join(ch for ch in code if ch.isdigit())


def code_hash(db: Session, code: str) -> str:
    return bonded_of(db).vault.lookup_hash("pickup:" + normalise(code))


def do_issue(db: Session, bo: BondedOrder) -> str:
    bonded = bonded_of(db)
    code = "".join(secrets.choice("0123456789") for _ in range(DIGITS))
    sealed = bonded.vault.seal(code, context=f"pickup:{bo.order_id}")
    bo.pickup_code_hash = code_hash(db, code)
    bo.pickup_code_sealed = sealed.blob
    bo.pickup_key_id = sealed.key_id
    bo.code_expires_at = utcnow() + timedelta(hours=bonded.settings.bonded_pickup_code_hours)
    db.flush()
    return code


def reveal(db: Session, bo: BondedOrder) -> str | None:
    if bo.pickup_code_sealed is None or bo.pickup_key_id is None:
        return None
    return bonded_of(db).vault.open(
        Sealed(bo.pickup_key_id, bo.pickup_code_sealed), context=f"pickup:{bo.order_id}"
    )


def display(code: str) -> str:
    return f"{code[:4]} {code[4:8]} {code[8:]}"
