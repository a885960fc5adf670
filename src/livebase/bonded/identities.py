"""Buyers' real-name identities: checked (idcard.py), sealed (vault.py), shown masked.

The number never leaves this module whole except to the customs messages and the
pickup check of the last four characters; log lines name the identity id only.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from livebase.accounts.actors import Actor, actor_name
from livebase.accounts.service import Principal
from livebase.bonded import idcard
from livebase.bonded.models import Identity
from livebase.bonded.parts import bonded_of
from livebase.bonded.vault import Sealed
from livebase.errors import Conflict, NotFound, ValidationFailed
from livebase.logs import get_logger
from livebase.schemas import rfc3339

# A person has a handful of identities at most (self, spouse, parents); more is a script.
MAX_PER_USER = 10


def identity_view(row: Identity) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "id_number_masked": row.masked,
        "created_at": rfc3339(row.created_at),
    }


def _context(row_user_id: str) -> str:
    return f"identity:{row_user_id}"


def do_create_identity(db: Session, me: Principal, name: str, raw_number: str) -> Identity:
    clean_name = name.strip()
    if not 2 <= len(clean_name) <= 40:
        raise ValidationFailed("The name is 2–40 characters, as on the ID card.", loc="body.name")
    number = idcard.parse(raw_number)
    vault = bonded_of(db).vault
    id_hash = vault.lookup_hash(number.value)
    existing = db.scalar(
        select(Identity).where(Identity.user_id == me.id, Identity.id_hash == id_hash)
    )
    if existing is not None:
        if existing.name != clean_name:
            raise Conflict("You registered this ID number under another name.")
        return existing
    count = len(db.scalars(select(Identity.id).where(Identity.user_id == me.id)).all())
    if count >= MAX_PER_USER:
        raise Conflict(f"An account keeps at most {MAX_PER_USER} identities.")
    sealed = vault.seal(number.value, context=_context(me.id))
    row = Identity(
        user_id=me.id,
        name=clean_name,
        key_id=sealed.key_id,
        id_sealed=sealed.blob,
        id_hash=id_hash,
        masked=number.masked(),
    )
    db.add(row)
    db.flush()
    get_logger("livebase.bonded").info(
        "identity registered", identity=row.id, user=actor_name(me), key_id=sealed.key_id
    )
    return row


def list_identities(db: Session, me: Principal) -> list[Identity]:
    return list(db.scalars(select(Identity).where(Identity.user_id == me.id).order_by(Identity.id)))


def check_own_identity(db: Session, me: Principal, identity_id: str, *, loc: str) -> Identity:
    row = db.get(Identity, identity_id)
    if row is None or row.user_id != me.id:
        raise ValidationFailed(f"No identity {identity_id} of yours.", loc=loc)
    return row


def get_identity(db: Session, identity_id: str) -> Identity:
    row = db.get(Identity, identity_id)
    if row is None:
        raise NotFound(f"No identity {identity_id}.")
    return row


def reveal(db: Session, _actor: Actor, row: Identity) -> str:
    """The whole number, for a customs message or the pickup check only."""
    return bonded_of(db).vault.open(
        Sealed(row.key_id, row.id_sealed), context=_context(row.user_id)
    )
