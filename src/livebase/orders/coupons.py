"""Coupons a host drops during a show, and claims (one per buyer).

A claim is one transaction with a conditional update (``remaining >= 1``), the claim row
(unique per coupon and buyer) and its idempotency record: the last coupon goes to exactly
one of the buyers racing for it. (The flash sale's in-memory owner is not used here yet:
see docs/flash-sale.md.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from livebase.accounts.actors import Actor, actor_name
from livebase.accounts.service import Principal
from livebase.audit.service import do_record
from livebase.db import utcnow
from livebase.errors import ApiError, Code, Conflict, NotFound, ValidationFailed
from livebase.orders import idempotency
from livebase.orders.models import Coupon, CouponClaim
from livebase.schemas import rfc3339
from livebase.shows import service as shows
from livebase.shows.models import Show


@dataclass(frozen=True)
class CouponSpec:
    quantity: int
    kind: str
    amount_fen: int | None
    percent: int | None
    cap_fen: int | None
    min_spend_fen: int
    expires_at: datetime


def coupon_view(c: Coupon) -> dict[str, Any]:
    return {
        "id": c.id,
        "show_id": c.show_id,
        "kind": c.kind,
        "amount_fen": c.amount_fen,
        "percent": c.percent,
        "cap_fen": c.cap_fen,
        "min_spend_fen": c.min_spend_fen,
        "quantity": c.quantity,
        "remaining": c.remaining,
        "expires_at": rfc3339(c.expires_at),
    }


def claim_view(c: CouponClaim) -> dict[str, Any]:
    return {
        "id": c.id,
        "coupon_id": c.coupon_id,
        "user_id": c.user_id,
        "created_at": rfc3339(c.created_at),
    }


def _check_spec(spec: CouponSpec) -> None:
    if spec.quantity < 1:
        raise ValidationFailed("quantity must be at least 1.", loc="body.quantity")
    if spec.expires_at <= utcnow():
        raise ValidationFailed("expires_at is in the past.", loc="body.expires_at")
    if spec.kind == "amount":
        if not spec.amount_fen or spec.percent is not None or spec.cap_fen is not None:
            raise ValidationFailed(
                "An amount coupon takes amount_fen > 0 (and no percent or cap).",
                loc="body.amount_fen",
            )
    elif spec.percent is None or not 1 <= spec.percent <= 99 or spec.amount_fen is not None:
        raise ValidationFailed(
            "A percent coupon takes percent 1–99 (and no amount_fen).", loc="body.percent"
        )


def do_create_coupon(db: Session, actor: Actor, show: Show, spec: CouponSpec) -> Coupon:
    if show.status == "ended":
        raise shows.ShowEnded("The show has ended.")
    _check_spec(spec)
    coupon = Coupon(
        show_id=show.id,
        org_id=show.org_id,
        kind=spec.kind,
        amount_fen=spec.amount_fen,
        percent=spec.percent,
        cap_fen=spec.cap_fen,
        min_spend_fen=spec.min_spend_fen,
        quantity=spec.quantity,
        remaining=spec.quantity,
        expires_at=spec.expires_at,
        created_by=actor_name(actor),
    )
    db.add(coupon)
    db.flush()
    do_record(db, actor, "create", "coupon", coupon.id, quantity=spec.quantity)
    return coupon


def claim_scope(coupon_id: str) -> str:
    return idempotency.scope_of("POST", f"/api/v1/coupons/{coupon_id}/claims")


def do_claim(db: Session, me: Principal, coupon_id: str, key: str) -> tuple[int, dict[str, Any]]:
    """Claim one coupon for ``me``; the answer (status, body), replayed for a repeated key.
    Commits (or rolls back) itself: the race outcomes are decided by the database."""
    scope, digest = claim_scope(coupon_id), idempotency.body_digest({})
    replay = idempotency.find(db, me.id, scope, key, digest)
    if replay is not None:
        return replay.status_code, replay.response
    coupon = db.get(Coupon, coupon_id)
    if coupon is None:
        raise NotFound(f"No coupon {coupon_id}.")
    if coupon.expires_at <= utcnow():
        raise Conflict("The coupon has expired.")
    mine = db.scalar(
        select(CouponClaim.id).where(
            CouponClaim.coupon_id == coupon_id, CouponClaim.user_id == me.id
        )
    )
    if mine is not None:
        raise ApiError("You already claimed this coupon.", code=Code.ALREADY_CLAIMED)
    took = db.execute(
        update(Coupon)
        .where(Coupon.id == coupon_id, Coupon.remaining >= 1)
        .values(remaining=Coupon.remaining - 1)
        .execution_options(synchronize_session=False)
    )
    if getattr(took, "rowcount", 0) != 1:
        db.rollback()
        raise ApiError("All coupons are claimed.", code=Code.SOLD_OUT)
    claim = CouponClaim(coupon_id=coupon_id, user_id=me.id)
    db.add(claim)
    try:
        db.flush()
        body = claim_view(claim)
        idempotency.do_remember(db, me.id, scope, key, digest, 201, body)
        db.commit()
    except IntegrityError:
        # The same buyer (another key) or the same key won a moment earlier.
        db.rollback()
        replay = idempotency.find(db, me.id, scope, key, digest)
        if replay is not None:
            return replay.status_code, replay.response
        raise ApiError("You already claimed this coupon.", code=Code.ALREADY_CLAIMED) from None
    return 201, body


def get_coupon(db: Session, coupon_id: str) -> Coupon:
    coupon = db.get(Coupon, coupon_id)
    if coupon is None:
        raise NotFound(f"No coupon {coupon_id}.")
    return coupon


def coupons_of_show(db: Session, show_id: str) -> list[Coupon]:
    """The show's coupons that can still be claimed (a room's snapshot)."""
    return list(
        db.scalars(
            select(Coupon)
            .where(Coupon.show_id == show_id, Coupon.remaining > 0, Coupon.expires_at > utcnow())
            .order_by(Coupon.id)
        )
    )
