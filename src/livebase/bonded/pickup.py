"""The pickup counter (即买即提): a clerk looks an order up by its one-time code and hands
the goods over after checking the last four characters of the buyer's ID card.

A clerk sees only orders to be picked up at one of its own counters; any other code —
unknown, another counter's or another base's, used, expired — answers the same 404, and
counts as a failed attempt. Failures are limited per clerk and per counter (a fixed window
in the runtime's rate limiter: in-process or Redis), every attempt is a row in
``bonded_pickup_attempts`` and a log line (never with the code), and a code is used once:
the handover is a conditional update on ``code_used_at IS NULL``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from livebase.accounts.actors import actor_name
from livebase.accounts.service import Principal
from livebase.bases import service as bases
from livebase.bonded import identities, pickup_codes, states
from livebase.bonded.models import BondedOrder, PickupAttempt
from livebase.db import utcnow
from livebase.errors import ApiError, Code, Forbidden, NotFound, RateLimited
from livebase.jobs.service import do_enqueue
from livebase.logs import get_logger
from livebase.orders import service as orders
from livebase.ratelimit import RateLimiter
from livebase.schemas import rfc3339


def log() -> Any:
    # Looked up at each call, so a line goes wherever logging is configured now.
    return get_logger("livebase.bonded.pickup")


# Failed attempts allowed per window: a clerk mistypes a few codes a shift; a counter
# serves several clerks. Past these a guesser (10^10 codes) gets nowhere.
CLERK_FAILURES = 5
COUNTER_FAILURES = 20
WINDOW_SECONDS = 15 * 60


def clerk_counters(me: Principal) -> set[str]:
    return {g.counter_id for g in me.grants if g.role == "clerk" and g.counter_id}


def check_clerk(me: Principal) -> set[str]:
    counters = clerk_counters(me)
    if not counters:
        raise Forbidden("The pickup counter is for its clerks.")
    return counters


def _keys(me: Principal, counters: set[str]) -> list[tuple[str, int]]:
    return [(f"pickup:clerk:{me.id}", CLERK_FAILURES)] + [
        (f"pickup:counter:{c}", COUNTER_FAILURES) for c in sorted(counters)
    ]


def _check_rate(limiter: RateLimiter, me: Principal, counters: set[str]) -> None:
    for key, limit in _keys(me, counters):
        count, ttl = limiter.count(key)
        if count >= limit:
            log().warning("pickup guessing limited", clerk=me.id, key=key.split(":")[1])
            raise RateLimited(
                "Too many wrong codes here; wait before trying again.", retry_after=max(ttl, 1)
            )


def _attempt(
    db: Session, me: Principal, counters: set[str], action: str, outcome: str, order_id: str | None
) -> None:
    counter = next(iter(sorted(counters)), None)
    db.add(
        PickupAttempt(
            clerk_id=me.id, counter_id=counter, action=action, outcome=outcome, order_id=order_id
        )
    )
    db.flush()
    log().info(
        "pickup attempt",
        clerk=me.id,
        counter=counter,
        action=action,
        outcome=outcome,
        order=order_id,
    )


def _fail(
    db: Session,
    limiter: RateLimiter,
    me: Principal,
    counters: set[str],
    action: str,
    outcome: str,
    order_id: str | None,
) -> None:
    for key, _limit in _keys(me, counters):
        limiter.hit(key, WINDOW_SECONDS)
    # The attempt row is written in its own transaction by the caller's commit-on-error
    # path (the route), so a refused request still leaves its trace.
    _attempt(db, me, counters, action, outcome, order_id)


def _find(db: Session, counters: set[str], code: str) -> tuple[BondedOrder | None, str]:
    digits = pickup_codes.normalise(code)
    if len(digits) != pickup_codes.DIGITS:
        return None, "malformed"
    bo = db.scalar(
        select(BondedOrder).where(
            BondedOrder.pickup_code_hash == pickup_codes.code_hash(db, digits)
        )
    )
    if bo is None or bo.pickup_counter_id not in counters:
        return None, "unknown"
    if bo.code_used_at is not None:
        return None, "used"
    if bo.code_expires_at is not None and bo.code_expires_at <= utcnow():
        return None, "expired"
    if orders.get_order(db, bo.order_id).status != "ready_for_pickup":
        return None, "not_ready"
    return bo, "ok"


class PickupRefused(ApiError):
    """A refused attempt; ``attempt`` is written in a transaction of its own by the route."""

    def __init__(self, exc: ApiError, outcome: str, order_id: str | None) -> None:
        super().__init__(exc.detail, code=exc.code, fields=exc.fields, retry_after=exc.retry_after)
        self.outcome = outcome
        self.order_id = order_id


def _refuse(outcome: str, order_id: str | None) -> PickupRefused:
    return PickupRefused(NotFound("No order to pick up with this code here."), outcome, order_id)


def pickup_view(db: Session, bo: BondedOrder) -> dict[str, Any]:
    order = orders.get_order(db, bo.order_id)
    ident = identities.get_identity(db, bo.identity_id)
    counter = bases.get_pickup_counter(db, bo.pickup_counter_id or "")
    return {
        "order_id": order.id,
        "status": order.status,
        "buyer_name": ident.name,
        "id_number_masked": ident.masked,
        "counter": {"id": counter.id, "name": counter.name},
        "lines": [orders.line_view(ln) for ln in order.lines],
        "total_fen": order.total_fen,
        "tax_fen": bo.tax_fen,
        "released_at": rfc3339(bo.released_at),
        "code_expires_at": rfc3339(bo.code_expires_at),
    }


def do_lookup(db: Session, limiter: RateLimiter, me: Principal, code: str) -> dict[str, Any]:
    counters = check_clerk(me)
    _check_rate(limiter, me, counters)
    bo, outcome = _find(db, counters, code)
    if bo is None:
        for key, _limit in _keys(me, counters):
            limiter.hit(key, WINDOW_SECONDS)
        raise _refuse(outcome, None)
    _attempt(db, me, counters, "lookup", "ok", bo.order_id)
    return pickup_view(db, bo)


def do_handover(
    db: Session, limiter: RateLimiter, me: Principal, code: str, id_last4: str
) -> dict[str, Any]:
    counters = check_clerk(me)
    _check_rate(limiter, me, counters)
    bo, outcome = _find(db, counters, code)
    if bo is None:
        for key, _limit in _keys(me, counters):
            limiter.hit(key, WINDOW_SECONDS)
        raise _refuse(outcome, None)
    ident = identities.get_identity(db, bo.identity_id)
    number = identities.reveal(db, me, ident)
    if id_last4.strip().upper() != number[-4:]:
        for key, _limit in _keys(me, counters):
            limiter.hit(key, WINDOW_SECONDS)
        raise PickupRefused(
            ApiError(
                "The last four characters of the ID card do not match the buyer's.",
                code=Code.VALIDATION_FAILED,
                fields=[{"loc": "body.id_last4", "msg": "does not match"}],
            ),
            "wrong_id",
            bo.order_id,
        )
    now = utcnow()
    taken = db.execute(
        update(BondedOrder)
        .where(BondedOrder.order_id == bo.order_id, BondedOrder.code_used_at.is_(None))
        .values(
            code_used_at=now,
            picked_up_by=me.id,
            picked_up_counter_id=bo.pickup_counter_id,
            picked_up_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    if int(getattr(taken, "rowcount", 0) or 0) != 1:
        raise _refuse("used", bo.order_id)
    counter = bases.get_pickup_counter(db, bo.pickup_counter_id or "")
    states.do_transition(
        db,
        me,
        bo.order_id,
        ("ready_for_pickup",),
        "picked_up",
        f"柜台交付 handed over at {counter.name} by {actor_name(me)}",
    )
    do_enqueue(db, states.SETTLE_JOB, {"order_id": bo.order_id})
    _attempt(db, me, counters, "handover", "ok", bo.order_id)
    db.refresh(bo)
    return {
        "order_id": bo.order_id,
        "status": "picked_up",
        "counter_id": bo.picked_up_counter_id,
        "clerk_id": me.id,
        "picked_up_at": rfc3339(bo.picked_up_at),
    }


def do_record_refusal(db: Session, me: Principal, action: str, exc: PickupRefused) -> None:
    """The trace of a refused attempt, written after the request's rollback."""
    _attempt(db, me, clerk_counters(me), action, exc.outcome, exc.order_id)
