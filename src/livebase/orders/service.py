"""Orders: addresses, checkout of shelf items, the order's states and their transitions,
units given back exactly once, payment and refund marks, GMV.

Money is integer fen and computed here only: a line's price is the shelf's live price of
the show it was bought in (or the SKU's price outside a show), never a client's number.
Stock is taken with :func:`livebase.catalog.stock.reserve_many` (conditional updates in
lock order) and given back by :func:`do_return_units`, whose one conditional update on
``units_returned_at IS NULL`` makes a return happen exactly once whoever races for it
(a cancel, the expiry job, a refund).

Every state change is one conditional ``UPDATE ... WHERE status IN (...)`` (so a payment
and an expiry racing for an order cannot both win) plus a row in ``order_transitions``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, selectinload

from livebase.accounts.actors import Actor, actor_name
from livebase.accounts.service import Principal, get_user
from livebase.bases import service as bases
from livebase.catalog import service as catalog
from livebase.catalog import stock
from livebase.db import new_id, utcnow
from livebase.errors import ApiError, Code, Conflict, NotFound, ValidationFailed
from livebase.orders import hooks
from livebase.orders.models import (
    Address,
    Coupon,
    CouponClaim,
    Order,
    OrderLine,
    OrderTransition,
)
from livebase.rooms import frames
from livebase.schemas import rfc3339

# What a buyer has to pay within, by default (DESIGN: flash sales 15 min, configurable
# with LIVEBASE_PAY_WINDOW_MINUTES); shelf orders use the same window.
DEFAULT_PAY_WINDOW = timedelta(minutes=15)
# One order carries at most this many lines (a cart of one brand; more is a script).
MAX_LINES = 50
# A shipped order completes by itself this long after shipment (LIVEBASE_AUTO_COMPLETE_DAYS),
# and a completed one takes refund requests this long after completion
# (LIVEBASE_AFTER_SALE_DAYS); the runtime's values reach jobs through ``rules_of``.
DEFAULT_COMPLETE_AFTER = timedelta(days=10)
DEFAULT_AFTER_SALE = timedelta(days=15)
# Statuses in which the goods have not left the warehouse: their units can go back.
BEFORE_SHIPMENT = ("pending_payment", "paid", "refund_requested")
# Statuses whose money counts in GMV: paid and not refunded (bonded states included).
UNPAID = ("pending_payment", "cancelled", "expired", "refunded")


class SoldOut(ApiError):
    code = Code.SOLD_OUT


def _shows() -> Any:
    # shows imports bases and catalog; orders only needs its reads, late to keep imports flat.
    from livebase.shows import service as shows

    return shows


# --- views ------------------------------------------------------------------------


def line_view(line: OrderLine) -> dict[str, Any]:
    return {
        "sku_id": line.sku_id,
        "product_id": line.product_id,
        "title": line.title,
        "attrs": line.attrs,
        "unit_price_fen": line.unit_price_fen,
        "quantity": line.quantity,
        "line_total_fen": line.line_total_fen,
    }


def order_view(order: Order) -> dict[str, Any]:
    """The contract's order body: ``{id, status, total_fen, pay_by, lines, ...}``."""
    return {
        "id": order.id,
        "status": order.status,
        "buyer_id": order.buyer_id,
        "org_id": order.org_id,
        "base_id": order.base_id,
        "show_id": order.show_id,
        "flash_sale_id": order.flash_sale_id,
        "goods_fen": order.goods_fen,
        "discount_fen": order.discount_fen,
        "freight_fen": order.freight_fen,
        "total_fen": order.total_fen,
        "coupon_claim_id": order.coupon_claim_id,
        "address_id": order.address_id,
        "pickup_counter_id": order.pickup_counter_id,
        "ship_to": order.ship_to,
        "pay_by": rfc3339(order.pay_by),
        "paid_at": rfc3339(order.paid_at),
        "shipped_at": rfc3339(order.shipped_at),
        "carrier": order.carrier,
        "tracking_no": order.tracking_no,
        "created_at": rfc3339(order.created_at),
        "lines": [line_view(line) for line in order.lines],
    }


def transition_view(t: OrderTransition) -> dict[str, Any]:
    return {
        "from": t.from_status,
        "to": t.to_status,
        "actor": t.actor,
        "at": rfc3339(t.at),
        "note": t.note,
    }


def timeline(db: Session, order_id: str) -> list[OrderTransition]:
    return list(
        db.scalars(
            select(OrderTransition)
            .where(OrderTransition.order_id == order_id)
            .order_by(OrderTransition.at, OrderTransition.id)
        )
    )


def address_view(a: Address) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "phone": a.phone,
        "province": a.province,
        "city": a.city,
        "district": a.district,
        "detail": a.detail,
        "created_at": rfc3339(a.created_at),
    }


# --- addresses ----------------------------------------------------------------------


@dataclass(frozen=True)
class AddressSpec:
    name: str
    phone: str
    province: str
    city: str
    district: str
    detail: str


def do_create_address(db: Session, buyer: Principal, spec: AddressSpec) -> Address:
    row = Address(
        user_id=buyer.id,
        name=spec.name.strip(),
        phone=spec.phone.strip(),
        province=spec.province.strip(),
        city=spec.city.strip(),
        district=spec.district.strip(),
        detail=spec.detail.strip(),
    )
    db.add(row)
    db.flush()
    return row


def list_addresses(db: Session, buyer: Principal) -> list[Address]:
    return list(db.scalars(select(Address).where(Address.user_id == buyer.id).order_by(Address.id)))


# What an order keeps of its address (a copy: editing the address later changes no order).
SHIP_TO_FIELDS = ("name", "phone", "province", "city", "district", "detail")


def _ship_to(a: Address) -> dict[str, Any]:
    return {k: getattr(a, k) for k in SHIP_TO_FIELDS}


@dataclass(frozen=True)
class Destination:
    address_id: str | None
    pickup_counter_id: str | None
    ship_to: dict[str, Any] | None


def check_destination(
    db: Session, buyer: Principal, address_id: str | None, pickup_counter_id: str | None
) -> Destination:
    """The buyer's own address (copied onto the order), or a pickup counter."""
    if (address_id is None) == (pickup_counter_id is None):
        raise ValidationFailed("Send address_id or pickup_counter_id (one of them).", loc="body")
    if address_id is not None:
        a = db.get(Address, address_id)
        if a is None or a.user_id != buyer.id:
            raise ValidationFailed(f"No address {address_id} of yours.", loc="body.address_id")
        return Destination(a.id, None, _ship_to(a))
    try:
        counter = bases.get_pickup_counter(db, pickup_counter_id or "")
    except NotFound:
        raise ValidationFailed(
            f"No pickup counter {pickup_counter_id}.", loc="body.pickup_counter_id"
        ) from None
    return Destination(None, counter.id, None)


# --- transitions ---------------------------------------------------------------------


def do_record_transition(
    db: Session,
    actor: Actor,
    order: Order,
    from_status: str | None,
    to_status: str,
    note: str | None = None,
) -> OrderTransition:
    row = OrderTransition(
        order_id=order.id,
        from_status=from_status,
        to_status=to_status,
        actor=actor_name(actor),
        note=note,
    )
    db.add(row)
    db.flush()
    return row


def do_move(
    db: Session, order_id: str, from_: Sequence[str], to: str, **values: Any
) -> tuple[bool, str | None]:
    """Move the order to ``to`` if it is in one of ``from_`` at this instant: whether this
    call moved it, and the status it moved from (or found). Each attempt is one
    ``UPDATE ... WHERE id = :id AND status = :seen``, so two callers racing cannot both
    win; the loser reads the status the winner left and answers from it."""
    for _ in range(len(from_) + 1):  # a status can only move forward: this is bounded
        seen = db.scalar(select(Order.status).where(Order.id == order_id))
        if seen is None:
            raise NotFound(f"No order {order_id}.")
        if seen not in from_:
            return False, seen
        result = db.execute(
            update(Order)
            .where(Order.id == order_id, Order.status == seen)
            .values(status=to, updated_at=utcnow(), **values)
            .execution_options(synchronize_session=False)
        )
        if int(getattr(result, "rowcount", 0) or 0) == 1:
            _refresh(db, order_id)
            return True, seen
    _refresh(db, order_id)
    return False, db.scalar(select(Order.status).where(Order.id == order_id))


def _refresh(db: Session, order_id: str) -> None:
    obj = db.identity_map.get(db.identity_key(Order, order_id))
    if obj is not None:
        db.refresh(obj)


def get_order(db: Session, order_id: str) -> Order:
    order = db.get(Order, order_id, options=[selectinload(Order.lines)], populate_existing=True)
    if order is None:
        raise NotFound(f"No order {order_id}.")
    return order


# --- reading orders: who may see which -------------------------------------------------


def check_own_order(db: Session, me: Principal, order_id: str) -> Order:
    """The buyer's own order; 404 for anyone else's (an order's existence is private)."""
    order = db.get(Order, order_id, options=[selectinload(Order.lines)])
    if order is None or (order.buyer_id != me.id and not me.is_admin):
        raise NotFound(f"No order {order_id}.")
    return order


def check_see_order(db: Session, me: Principal, order_id: str) -> Order:
    """Its buyer, the selling brand's staff, or an admin; 404 for everyone else."""
    order = db.get(Order, order_id, options=[selectinload(Order.lines)])
    if order is None or not (order.buyer_id == me.id or bases.is_org_staff(me, order.org_id)):
        raise NotFound(f"No order {order_id}.")
    return order


def check_merchant_order(db: Session, me: Principal, order_id: str) -> Order:
    """An order of a brand the principal is staff of; 404 for everyone else (another
    brand's merchant cannot learn that the order exists)."""
    order = db.get(Order, order_id, options=[selectinload(Order.lines)])
    if order is None or not bases.is_org_staff(me, order.org_id):
        raise NotFound(f"No order {order_id}.")
    return order


def check_payable(db: Session, me: Principal, order_id: str) -> Order:
    """The buyer's own order, 404 for others, 409 ``conflict`` unless it awaits payment."""
    order = check_own_order(db, me, order_id)
    if order.buyer_id != me.id:  # staff may read an order; only its buyer pays it
        raise NotFound(f"No order {order_id}.")
    if order.status != "pending_payment":
        raise Conflict(f"The order is {order.status}; only an order awaiting payment is paid.")
    return order


def check_org_orders(db: Session, me: Principal, org_id: str) -> None:
    bases.get_org(db, org_id)
    if not bases.is_org_staff(me, org_id):
        raise ApiError("Only the brand's staff see its orders.", code=Code.FORBIDDEN)


def list_buyer_orders(
    db: Session, me: Principal, *, status: str | None, limit: int, cursor: str | None
) -> list[Order]:
    q = select(Order).where(Order.buyer_id == me.id).options(selectinload(Order.lines))
    return _page(db, q, status, limit, cursor)


def list_org_orders(
    db: Session, org_id: str, *, status: str | None, limit: int, cursor: str | None
) -> list[Order]:
    q = select(Order).where(Order.org_id == org_id).options(selectinload(Order.lines))
    return _page(db, q, status, limit, cursor)


def _page(db: Session, q: Any, status: str | None, limit: int, cursor: str | None) -> list[Order]:
    if status:
        q = q.where(Order.status == status)
    if cursor:
        q = q.where(Order.id < cursor)
    return list(db.scalars(q.order_by(Order.id.desc()).limit(limit + 1)))


def iter_org_orders(db: Session, org_id: str, status: str | None) -> Iterable[Order]:
    """Every order of the brand (for the CSV), newest first, read in chunks."""
    cursor: str | None = None
    while True:
        rows = list_org_orders(db, org_id, status=status, limit=500, cursor=cursor)
        yield from rows[:500]
        if len(rows) <= 500:
            return
        cursor = rows[499].id


# --- checkout --------------------------------------------------------------------------


@dataclass(frozen=True)
class LineSpec:
    sku_id: str
    quantity: int


@dataclass(frozen=True)
class _Priced:
    sku_id: str
    product_id: str
    title: str
    attrs: dict[str, Any]
    unit_price_fen: int
    quantity: int


def _price_lines(
    db: Session, show_id: str | None, lines: Sequence[LineSpec]
) -> tuple[list[_Priced], str, str]:
    """Each line at the server's price (the shelf's live price in a show), the selling
    brand and the base. Every line must be on sale and of one brand."""
    if not lines or len(lines) > MAX_LINES:
        raise ValidationFailed(f"An order has 1–{MAX_LINES} lines.", loc="body.lines")
    ids = [line.sku_id for line in lines]
    if len(set(ids)) != len(ids):
        raise ValidationFailed(
            "A SKU appears on two lines; send its total quantity once.", loc="body.lines"
        )
    listings = catalog.sku_listings(db, ids)
    views = catalog.sku_views(db, ids)
    live: dict[str, int | None] = {}
    if show_id is not None:
        shows = _shows()
        try:
            show = shows.get_show(db, show_id)
        except NotFound:
            raise ValidationFailed(f"No show {show_id}.", loc="body.show_id") from None
        if show.status == "ended":
            raise ApiError("The show has ended; buy from the product page.", code=Code.SHOW_ENDED)
        live = {item.sku_id: item.live_price_fen for item in show.shelf}
    priced: list[_Priced] = []
    for n, line in enumerate(lines):
        listing, view = listings.get(line.sku_id), views.get(line.sku_id)
        if listing is None or view is None or listing.status != "active":
            raise ValidationFailed(
                f"SKU {line.sku_id} is not on sale.", loc=f"body.lines.{n}.sku_id"
            )
        if show_id is not None and line.sku_id not in live:
            raise ValidationFailed(
                f"SKU {line.sku_id} is not on this show's shelf.", loc=f"body.lines.{n}.sku_id"
            )
        price = live.get(line.sku_id) or view.price_fen
        priced.append(
            _Priced(line.sku_id, view.product_id, view.title, view.attrs, price, line.quantity)
        )
    orgs = {listings[p.sku_id].org_id for p in priced}
    if len(orgs) != 1:
        # Each brand ships, refunds and invoices its own orders: one order, one seller.
        raise ValidationFailed(
            "An order holds the goods of one brand; order each brand apart.", loc="body.lines"
        )
    first = listings[priced[0].sku_id]
    return priced, first.org_id, first.base_id


def coupon_saving(coupon: Coupon, goods_fen: int) -> int:
    """What the coupon takes off ``goods_fen`` (integer fen, rounded down for percent)."""
    if coupon.kind == "amount":
        saving = coupon.amount_fen or 0
    else:
        saving = goods_fen * (coupon.percent or 0) // 100
        if coupon.cap_fen is not None:
            saving = min(saving, coupon.cap_fen)
    # A paid order costs at least one fen: providers refuse a payment of zero.
    return max(0, min(saving, goods_fen - 1))


def _use_coupon(
    db: Session, buyer: Principal, claim_id: str, order_id: str, org_id: str, goods_fen: int
) -> int:
    claim = db.get(CouponClaim, claim_id)
    coupon = db.get(Coupon, claim.coupon_id) if claim is not None else None
    if claim is None or coupon is None or claim.user_id != buyer.id:
        raise ValidationFailed(f"No coupon claim {claim_id} of yours.", loc="body.coupon_claim_id")
    if coupon.org_id != org_id:
        raise ValidationFailed(
            "This coupon is for another brand's goods.", loc="body.coupon_claim_id"
        )
    if coupon.expires_at <= utcnow():
        raise Conflict("This coupon has expired.")
    if goods_fen < coupon.min_spend_fen:
        raise Conflict(f"This coupon needs a spend of at least {coupon.min_spend_fen} fen.")
    taken = db.execute(
        update(CouponClaim)
        .where(CouponClaim.id == claim_id, CouponClaim.used_order_id.is_(None))
        .values(used_order_id=order_id)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(taken, "rowcount", 0) or 0) != 1:
        raise Conflict("This coupon was already used.")
    return coupon_saving(coupon, goods_fen)


def do_checkout(
    db: Session,
    buyer: Principal,
    *,
    show_id: str | None,
    lines: Sequence[LineSpec],
    destination: Destination,
    coupon_claim_id: str | None = None,
    pay_window: timedelta = DEFAULT_PAY_WINDOW,
    identity_id: str | None = None,
) -> Order:
    """Place an order: price the lines on the server, take the units (all or none, 409
    ``sold_out`` naming the SKU that ran short), apply the coupon, record the first
    transition, and queue the ``purchase`` and ``stock`` frames for the show's room."""
    priced, org_id, base_id = _price_lines(db, show_id, lines)
    if destination.pickup_counter_id is not None:
        # Goods are picked up where their base keeps them: a counter of this base only.
        counter = bases.get_pickup_counter(db, destination.pickup_counter_id)
        if counter.base_id != base_id:
            raise ValidationFailed(
                "This pickup counter is not in the base that sells these goods.",
                loc="body.pickup_counter_id",
            )
    short = stock.reserve_many(db, {p.sku_id: p.quantity for p in priced})
    if short is not None:
        raise SoldOut(f"SKU {short} has fewer units left than ordered.", extra={"sku_id": short})
    order_id = new_id("ord")
    goods = sum(p.unit_price_fen * p.quantity for p in priced)
    discount = (
        _use_coupon(db, buyer, coupon_claim_id, order_id, org_id, goods) if coupon_claim_id else 0
    )
    order = Order(
        id=order_id,
        buyer_id=buyer.id,
        org_id=org_id,
        base_id=base_id,
        show_id=show_id,
        status="pending_payment",
        goods_fen=goods,
        discount_fen=discount,
        freight_fen=0,
        total_fen=goods - discount,
        coupon_claim_id=coupon_claim_id,
        address_id=destination.address_id,
        pickup_counter_id=destination.pickup_counter_id,
        ship_to=destination.ship_to,
        pay_by=utcnow() + pay_window,
        lines=[
            OrderLine(
                sku_id=p.sku_id,
                product_id=p.product_id,
                title=p.title,
                attrs=p.attrs,
                unit_price_fen=p.unit_price_fen,
                quantity=p.quantity,
                line_total_fen=p.unit_price_fen * p.quantity,
            )
            for p in priced
        ],
    )
    db.add(order)
    db.flush()
    _run_checkout_hooks(db, buyer, order, identity_id)
    do_record_transition(db, buyer, order, None, "pending_payment")
    if show_id is not None:
        _notify_purchase(db, order, buyer.user.display_name)
    return order


def _run_checkout_hooks(
    db: Session, buyer: Principal, order: Order, identity_id: str | None
) -> None:
    """Cross-border orders (orders/hooks.py): the bonded feature checks the goods and the
    buyer's identity and adds the tax to ``total_fen``; it may refuse the order."""
    installed = hooks.hooks_of(db)
    if identity_id is not None and not installed:
        raise ValidationFailed("Cross-border orders are not offered here.", loc="body.identity_id")
    for hook in installed:
        hook.on_checkout(db, buyer, order, identity_id)


def _notify_purchase(db: Session, order: Order, display_name: str) -> None:
    if order.show_id is None:
        return
    buyer = frames.mask_name(display_name)
    frames.notify(
        db,
        frames.Purchase(
            show_id=order.show_id,
            items=[
                frames.PurchaseItem(
                    sku_id=ln.sku_id, title=ln.title, quantity=ln.quantity, buyer=buyer
                )
                for ln in order.lines
            ],
        ),
    )
    _notify_stock(db, order)


def _notify_stock(db: Session, order: Order) -> None:
    if order.show_id is None:
        return
    frames.notify(
        db,
        frames.Stock(
            show_id=order.show_id,
            stock={ln.sku_id: stock.current(db, ln.sku_id) for ln in order.lines},
        ),
    )


# --- the flash-sale hot path's batch insert -----------------------------------------------


@dataclass(frozen=True)
class NewOrder:
    """One accepted flash-sale order, written with many others in one statement each for
    orders, lines and transitions (:func:`do_insert_orders_batch`)."""

    id: str
    buyer_id: str
    org_id: str
    base_id: str
    show_id: str | None
    flash_sale_id: str | None
    sku_id: str
    product_id: str
    title: str
    attrs: dict[str, Any]
    unit_price_fen: int
    quantity: int
    total_fen: int
    address_id: str | None
    pickup_counter_id: str | None
    ship_to: dict[str, Any] | None
    pay_by: datetime
    # Made with the order, so the hot path can answer with the line's id before the write.
    line_id: str = field(default_factory=lambda: new_id("oln"))


def do_insert_orders_batch(db: Session, rows: list[NewOrder]) -> None:
    """Multi-row inserts of orders, their lines and first transitions, no ORM flush per row
    (SQLAlchemy's insertmanyvalues sends them as a few multi-row statements)."""
    if not rows:
        return
    now = utcnow()
    db.execute(
        insert(Order),
        [
            {
                "id": r.id,
                "buyer_id": r.buyer_id,
                "org_id": r.org_id,
                "base_id": r.base_id,
                "show_id": r.show_id,
                "flash_sale_id": r.flash_sale_id,
                "status": "pending_payment",
                "goods_fen": r.unit_price_fen * r.quantity,
                "discount_fen": r.unit_price_fen * r.quantity - r.total_fen,
                "freight_fen": 0,
                "total_fen": r.total_fen,
                "address_id": r.address_id,
                "pickup_counter_id": r.pickup_counter_id,
                "ship_to": r.ship_to,
                "pay_by": r.pay_by,
                "created_at": now,
                "updated_at": now,
            }
            for r in rows
        ],
    )
    db.execute(
        insert(OrderLine),
        [
            {
                "id": r.line_id,
                "order_id": r.id,
                "sku_id": r.sku_id,
                "product_id": r.product_id,
                "title": r.title,
                "attrs": r.attrs,
                "unit_price_fen": r.unit_price_fen,
                "quantity": r.quantity,
                "line_total_fen": r.unit_price_fen * r.quantity,
            }
            for r in rows
        ],
    )
    db.execute(
        insert(OrderTransition),
        [
            {
                "id": new_id("otr"),
                "order_id": r.id,
                "from_status": None,
                "to_status": "pending_payment",
                "actor": r.buyer_id,
                "at": now,
            }
            for r in rows
        ],
    )


# --- units back, exactly once ------------------------------------------------------------


def do_return_units(db: Session, order: Order) -> bool:
    """Give the order's units back, exactly once: the one conditional update on
    ``units_returned_at IS NULL`` decides; only its winner releases stock. Units always go
    back to the SKU's stock (``catalog.stock.release``), also for a flash-sale order: the
    sale's ``remaining`` is owned by its hot path while it is open, and what a sale sets
    aside returns to the SKU when it closes anyway (see docs/orders.md)."""
    result = db.execute(
        update(Order)
        .where(Order.id == order.id, Order.units_returned_at.is_(None))
        .values(units_returned_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        return False
    lines = db.scalars(select(OrderLine).where(OrderLine.order_id == order.id)).all()
    per_sku: dict[str, int] = {}
    for line in lines:
        per_sku[line.sku_id] = per_sku.get(line.sku_id, 0) + line.quantity
    for sku_id in sorted(per_sku):  # lock order: SKUs by id (catalog/locks.py)
        stock.release(db, sku_id, per_sku[sku_id])
    _refresh(db, order.id)
    _notify_stock(db, order)
    return True


def _free_coupon(db: Session, order: Order) -> None:
    """An order that was never paid gives its coupon back (it was not used)."""
    if order.coupon_claim_id is None:
        return
    db.execute(
        update(CouponClaim)
        .where(CouponClaim.id == order.coupon_claim_id, CouponClaim.used_order_id == order.id)
        .values(used_order_id=None)
        .execution_options(synchronize_session=False)
    )


# --- payment, expiry, cancel, ship, refund -------------------------------------------------


def do_mark_paid(
    db: Session,
    actor: Actor,
    order_id: str,
    amount_fen: int,
    payment_id: str,
    payer: hooks.Payer | None = None,
) -> Literal["paid", "already_paid", "late"]:
    """``pending_payment → paid`` by a conditional update. "late" when the order was
    already expired or cancelled (the caller refunds the payment and tells the buyer);
    "already_paid" when it is past paid. Conflict when the amount is not the total."""
    order = get_order(db, order_id)
    if amount_fen != order.total_fen:
        raise Conflict(f"The payment is {amount_fen} fen; the order's total is {order.total_fen}.")
    moved, before = do_move(db, order_id, ("pending_payment",), "paid", paid_at=utcnow())
    if moved:
        do_record_transition(
            db, actor, order, "pending_payment", "paid", note=f"payment {payment_id}"
        )
        for hook in hooks.hooks_of(db):  # cross-border: payer = buyer, quota reserved
            hook.on_paid(db, actor, order, payer)
        return "paid"
    if before in ("expired", "cancelled"):
        return "late"
    return "already_paid"


def do_expire(db: Session, actor: Actor, order_id: str, *, now: datetime | None = None) -> bool:
    """``pending_payment → expired`` when ``pay_by`` has passed; units back once."""
    now = now or utcnow()
    result = db.execute(
        update(Order)
        .where(Order.id == order_id, Order.status == "pending_payment", Order.pay_by <= now)
        .values(status="expired", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        return False
    order = get_order(db, order_id)
    do_record_transition(db, actor, order, "pending_payment", "expired", note="not paid in time")
    do_return_units(db, order)
    _free_coupon(db, order)
    return True


def due_for_expiry(db: Session, *, now: datetime | None = None, limit: int = 500) -> list[str]:
    return list(
        db.scalars(
            select(Order.id)
            .where(Order.status == "pending_payment", Order.pay_by <= (now or utcnow()))
            .order_by(Order.pay_by)
            .limit(limit)
        )
    )


def do_cancel(db: Session, actor: Actor, order: Order) -> str:
    """The buyer cancels before shipment. Unpaid: ``cancelled``. Paid: the order moves to
    ``refund_requested`` and a full refund is requested from the provider (an outbox job);
    it is ``refunded`` once the provider acknowledges. Units go back either way. Returns
    the new status; 409 once the goods have shipped (ask for a refund instead)."""
    moved, before = do_move(db, order.id, ("pending_payment",), "cancelled")
    if moved:
        do_record_transition(
            db, actor, order, "pending_payment", "cancelled", note="cancelled by the buyer"
        )
        do_return_units(db, order)
        _free_coupon(db, order)
        return "cancelled"
    if before == "paid":
        moved, before = do_move(db, order.id, ("paid",), "refund_requested")
        if moved:
            do_record_transition(
                db, actor, order, "paid", "refund_requested", note="cancelled before shipment"
            )
            for hook in hooks.hooks_of(db):  # cross-border: the quota goes back
                hook.on_cancelled(db, actor, order)
            do_return_units(db, order)
            request_refund(db, order, "cancelled before shipment")
            return "refund_requested"
    if before in ("shipped", "completed"):
        raise Conflict("The order has shipped; ask for a refund instead.")
    raise Conflict(f"The order is {before}; it cannot be cancelled.")


def request_refund(db: Session, order: Order, reason: str) -> None:
    """Owed to the buyer, so it goes through the outbox (``orders.request_refund``), whose
    handler calls ``payments.service.do_request_refund`` until it is taken."""
    from livebase.jobs.service import do_enqueue

    do_enqueue(
        db,
        "orders.request_refund",
        {"order_id": order.id, "amount_fen": order.total_fen, "reason": reason},
    )


def feature_page(db: Session, order: Order) -> str | None:
    """The page a feature keeps of ``order`` (a bonded order's customs page), or None."""
    for hook in hooks.hooks_of(db):
        page = hook.page_of(db, order)
        if page is not None:
            return page
    return None


def ship_states(db: Session, order: Order) -> tuple[str, ...]:
    """The states ``order`` ships from: ``paid``, unless a feature's hook owns the order
    (a bonded delivery order ships from ``released``, a pickup order from none)."""
    for hook in hooks.hooks_of(db):
        states = hook.ship_states(db, order)
        if states is not None:
            return states
    return ("paid",)


def do_ship(db: Session, actor: Actor, order: Order, carrier: str, tracking_no: str) -> None:
    """``paid → shipped`` (a bonded delivery order: ``released → shipped``) with the carrier
    and tracking number; 409 from any other state (an unpaid order, one being refunded,
    one already shipped, imported goods customs has not released)."""
    from_ = ship_states(db, order)
    moved, before = do_move(
        db,
        order.id,
        from_,
        "shipped",
        carrier=carrier.strip(),
        tracking_no=tracking_no.strip(),
        shipped_at=utcnow(),
    )
    if not moved:
        if not from_:
            raise Conflict("The order is picked up at a counter; it does not ship.")
        if from_ != ("paid",):
            raise Conflict(
                f"The order is {before}; imported goods ship only once customs released them."
            )
        raise Conflict(f"The order is {before}; only a paid order ships.")
    do_record_transition(db, actor, order, before, "shipped", note=f"{carrier} {tracking_no}")


def do_mark_refunded(db: Session, actor: Actor, order_id: str) -> bool:
    """The provider took the refund: ``refund_requested | paid → refunded``; units back
    (once) if the goods never shipped. False when there was nothing to mark (already
    refunded, or an order never paid: a late payment's refund is the payment's record)."""
    order = get_order(db, order_id)
    shipped = order.shipped_at is not None
    moved, before = do_move(db, order_id, ("refund_requested", "paid"), "refunded")
    if not moved:
        return False
    do_record_transition(db, actor, order, before, "refunded")
    if not shipped:
        do_return_units(db, order)
    return True


def do_complete(db: Session, actor: Actor, order: Order, note: str) -> None:
    """``shipped → completed``: the buyer confirmed receipt (or the job did it for them).
    409 from any other state: an unshipped order cannot be received, one with a pending
    refund request waits for the merchant's decision, a completed one is done."""
    moved, before = do_move(db, order.id, ("shipped",), "completed")
    if not moved:
        if before == "completed":
            raise Conflict("The order is already completed.")
        raise Conflict(f"The order is {before}; only a shipped order is completed.")
    do_record_transition(db, actor, order, "shipped", "completed", note=note)


def due_for_completion(
    db: Session, after: timedelta, *, now: datetime | None = None, limit: int = 500
) -> list[str]:
    """Shipped orders whose shipment is at least ``after`` old, oldest first."""
    cutoff = (now or utcnow()) - after
    return list(
        db.scalars(
            select(Order.id)
            .where(Order.status == "shipped", Order.shipped_at <= cutoff)
            .order_by(Order.shipped_at)
            .limit(limit)
        )
    )


def do_auto_complete(
    db: Session, actor: Actor, order_id: str, after: timedelta, *, now: datetime | None = None
) -> bool:
    """``shipped → completed`` when the shipment is ``after`` old: one conditional update,
    so a buyer's confirmation or a refund request racing the job leaves one winner."""
    now = now or utcnow()
    result = db.execute(
        update(Order)
        .where(Order.id == order_id, Order.status == "shipped", Order.shipped_at <= now - after)
        .values(status="completed", updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        return False
    _refresh(db, order_id)
    order = get_order(db, order_id)
    do_record_transition(
        db, actor, order, "shipped", "completed", note="receipt window over: completed"
    )
    return True


def completed_at(db: Session, order_id: str) -> datetime | None:
    """When the order last entered ``completed`` (its timeline says)."""
    return db.scalar(
        select(OrderTransition.at)
        .where(OrderTransition.order_id == order_id, OrderTransition.to_status == "completed")
        .order_by(OrderTransition.at.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class OrderRules:
    complete_after: timedelta = DEFAULT_COMPLETE_AFTER
    after_sale: timedelta = DEFAULT_AFTER_SALE


_RULES_KEY = "livebase_order_rules"


def bind_rules(info: dict[Any, Any], rules: OrderRules) -> None:
    info[_RULES_KEY] = rules


def rules_of(db: Session) -> OrderRules:
    """The runtime's order rules (from settings), or the defaults for a bare session."""
    rules = db.info.get(_RULES_KEY)
    return rules if isinstance(rules, OrderRules) else OrderRules()


# --- GMV ------------------------------------------------------------------------------


def count_gmv_fen(db: Session, base_id: str, first_year: int, last_year: int) -> int:
    """Paid orders of the base in the years (by payment time) minus refunds: the total of
    orders paid in the period that are not refunded."""
    start = datetime(first_year, 1, 1, tzinfo=UTC)
    end = datetime(last_year + 1, 1, 1, tzinfo=UTC)
    value = db.scalar(
        select(func.coalesce(func.sum(Order.total_fen), 0)).where(
            Order.base_id == base_id,
            Order.paid_at.is_not(None),
            Order.paid_at >= start,
            Order.paid_at < end,
            Order.status.not_in(UNPAID),
        )
    )
    return int(value or 0)


def statuses_of(db: Session, order_ids: Sequence[str]) -> dict[str, str]:
    """Order id → status, for reports of other features (bonded declarations)."""
    out: dict[str, str] = {}
    ids = list(order_ids)
    for start in range(0, len(ids), 500):
        rows = db.execute(
            select(Order.id, Order.status).where(Order.id.in_(ids[start : start + 500]))
        )
        out.update({oid: status for oid, status in rows})
    return out


def buyer_name(db: Session, user_id: str) -> str:
    user = get_user(db, user_id)
    return user.display_name if user is not None else ""
