"""Flash sales (秒杀): creation with the quantity set aside from the SKU, open and close,
and the batch write of the hot path (:mod:`livebase.orders.hotpath` decides who gets a
unit; this module writes what it decided).

Stock identity: units put in = SKU stock + sale ``remaining`` + units of the sale's orders
(sold or held by open orders) + ``returned`` (already back in the SKU, counted there). A
sale's ``quantity`` = ``remaining`` + units ordered + ``returned``.

The orders it writes are ``orders.service.NewOrder`` rows, inserted by
``orders.service.do_insert_orders_batch``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from livebase.accounts.actors import SYSTEM_JOBS, Actor, actor_name
from livebase.accounts.service import Principal
from livebase.audit.service import do_record
from livebase.catalog import service as catalog
from livebase.catalog import stock
from livebase.db import utcnow
from livebase.errors import ApiError, Code, Conflict, NotFound, ValidationFailed
from livebase.jobs.service import do_schedule
from livebase.orders.models import FlashSale, Order, OrderLine
from livebase.orders.service import NewOrder
from livebase.schemas import rfc3339
from livebase.shows import service as shows
from livebase.shows.models import Show

OPEN_JOB = "flash_sales.open"
CLOSE_JOB = "flash_sales.close"
# DESIGN leaves the payment window to us; 15 min is what the issue names for flash sales.
PAY_WINDOW = timedelta(minutes=15)


class NotOpen(ApiError):
    code = Code.NOT_OPEN


class SoldOut(ApiError):
    code = Code.SOLD_OUT


class LimitExceeded(ApiError):
    code = Code.LIMIT_EXCEEDED


@dataclass(frozen=True)
class SaleSpec:
    sku_id: str
    price_fen: int
    quantity: int
    per_buyer_limit: int
    starts_at: datetime
    ends_at: datetime


def sale_view(sale: FlashSale) -> dict[str, Any]:
    return {
        "id": sale.id,
        "show_id": sale.show_id,
        "sku_id": sale.sku_id,
        "status": sale.status,
        "price_fen": sale.price_fen,
        "quantity": sale.quantity,
        "remaining": sale.remaining,
        "per_buyer_limit": sale.per_buyer_limit,
        "starts_at": rfc3339(sale.starts_at),
        "ends_at": rfc3339(sale.ends_at),
        "opened_at": rfc3339(sale.opened_at),
        "closed_at": rfc3339(sale.closed_at),
    }


def get_sale(db: Session, sale_id: str) -> FlashSale:
    sale = db.get(FlashSale, sale_id)
    if sale is None:
        raise NotFound(f"No flash sale {sale_id}.")
    return sale


def check_manage_sale(db: Session, me: Principal, sale_id: str) -> FlashSale:
    """The sale, when ``me`` may manage its show (its host or its organisation's staff)."""
    sale = get_sale(db, sale_id)
    shows.check_manage_show(db, me, sale.show_id)
    return sale


def _check_spec(db: Session, show: Show, spec: SaleSpec) -> catalog.SkuListing:
    if spec.ends_at <= spec.starts_at:
        raise ValidationFailed("ends_at must be after starts_at.", loc="body.ends_at")
    if spec.ends_at <= utcnow():
        raise ValidationFailed("ends_at is in the past.", loc="body.ends_at")
    if spec.quantity < 1:
        raise ValidationFailed("quantity must be at least 1.", loc="body.quantity")
    if not 1 <= spec.per_buyer_limit <= spec.quantity:
        raise ValidationFailed(
            "per_buyer_limit must be between 1 and quantity.", loc="body.per_buyer_limit"
        )
    listing = catalog.sku_listings(db, [spec.sku_id]).get(spec.sku_id)
    if listing is None or listing.status != "active":
        raise ValidationFailed("No active SKU with this id.", loc="body.sku_id")
    # The shelf's rule: a brand's own show sells its own SKUs; an agency's show sells any
    # active product of its base.
    if listing.base_id != show.base_id or (
        show.org_id != listing.org_id and _org_kind(db, show.org_id) == "brand"
    ):
        raise ValidationFailed("This show cannot sell that SKU.", loc="body.sku_id")
    return listing


def _org_kind(db: Session, org_id: str) -> str:
    from livebase.bases import service as bases

    return bases.get_org(db, org_id).kind


def do_create_sale(db: Session, actor: Actor, show: Show, spec: SaleSpec) -> FlashSale:
    """Set ``quantity`` units aside from the SKU (409 ``conflict`` if it has fewer) and
    schedule the open at ``starts_at`` and the close at ``ends_at``."""
    if show.status == "ended":
        raise shows.ShowEnded("The show has ended.")
    listing = _check_spec(db, show, spec)
    if not stock.reserve(db, spec.sku_id, spec.quantity):
        now = stock.current(db, spec.sku_id)
        raise Conflict(
            f"The SKU has {now} units in stock; the sale needs {spec.quantity}.",
            extra={"stock": now},
        )
    sale = FlashSale(
        show_id=show.id,
        sku_id=spec.sku_id,
        org_id=listing.org_id,
        base_id=show.base_id,
        price_fen=spec.price_fen,
        quantity=spec.quantity,
        remaining=spec.quantity,
        per_buyer_limit=spec.per_buyer_limit,
        starts_at=spec.starts_at,
        ends_at=spec.ends_at,
        status="scheduled",
        returned=0,
        created_by=actor_name(actor),
    )
    db.add(sale)
    db.flush()
    do_schedule(db, OPEN_JOB, spec.starts_at, {"sale_id": sale.id}, f"{OPEN_JOB}:{sale.id}")
    do_schedule(db, CLOSE_JOB, spec.ends_at, {"sale_id": sale.id}, f"{CLOSE_JOB}:{sale.id}")
    do_record(db, actor, "create", "flash_sale", sale.id, quantity=spec.quantity)
    return sale


def do_open(db: Session, actor: Actor, sale: FlashSale) -> bool:
    """scheduled → open (a conditional update); True if this call opened it. 409
    ``show_ended`` on an ended show, ``conflict`` on a closed sale."""
    show = shows.get_show(db, sale.show_id)
    if show.status == "ended":
        raise shows.ShowEnded("The show has ended; its sales cannot open.")
    result = db.execute(
        update(FlashSale)
        .where(FlashSale.id == sale.id, FlashSale.status == "scheduled")
        .values(status="open", opened_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    db.refresh(sale)
    if getattr(result, "rowcount", 0) == 1:
        do_record(db, actor, "open", "flash_sale", sale.id)
        return True
    if sale.status == "closed":
        raise Conflict("The sale is closed.")
    return False


def do_close(db: Session, actor: Actor, sale: FlashSale) -> bool:
    """Close the sale and give its unsold units back to the SKU, exactly once: the one
    conditional update that moves the status also moves ``remaining`` into ``returned``.
    False if it was already closed."""
    returned = db.scalar(
        update(FlashSale)
        .where(FlashSale.id == sale.id, FlashSale.status.in_(("scheduled", "open", "sold_out")))
        .values(status="closed", closed_at=utcnow(), returned=FlashSale.remaining, remaining=0)
        .returning(FlashSale.returned)
        .execution_options(synchronize_session=False)
    )
    db.refresh(sale)
    if returned is None:
        return False
    if returned > 0:
        stock.release(db, sale.sku_id, returned)
    do_record(db, actor, "close", "flash_sale", sale.id, returned=returned)
    return True


def open_due(db: Session, payload: dict[str, Any]) -> None:
    """Job: open the sale at ``starts_at`` as the host's button would (an ended show or a
    closed sale stays as it is)."""
    sale = db.get(FlashSale, payload["sale_id"])
    if sale is None:
        return
    try:
        do_open(db, SYSTEM_JOBS, sale)
    except ApiError:
        return


def close_due(db: Session, payload: dict[str, Any]) -> None:
    """Job: close the sale at ``ends_at``."""
    sale = db.get(FlashSale, payload["sale_id"])
    if sale is not None:
        do_close(db, SYSTEM_JOBS, sale)


def units_sold(db: Session, sale_id: str) -> int:
    total = db.scalar(
        select(func.coalesce(func.sum(OrderLine.quantity), 0))
        .join(Order, Order.id == OrderLine.order_id)
        .where(Order.flash_sale_id == sale_id)
    )
    return int(total or 0)


# -- the shared order shapes (orders/service.py once the orders work lands) -----------


def new_order_view(r: NewOrder) -> dict[str, Any]:
    """The contract's order body for an order the hot path just wrote."""
    return {
        "id": r.id,
        "status": "pending_payment",
        "flash_sale_id": r.flash_sale_id,
        "show_id": r.show_id,
        "goods_fen": r.total_fen,
        "discount_fen": 0,
        "total_fen": r.total_fen,
        "pay_by": rfc3339(r.pay_by),
        "address_id": r.address_id,
        "pickup_counter_id": r.pickup_counter_id,
        "lines": [
            {
                "id": r.line_id,
                "sku_id": r.sku_id,
                "product_id": r.product_id,
                "title": r.title,
                "attrs": r.attrs,
                "unit_price_fen": r.unit_price_fen,
                "quantity": r.quantity,
                "line_total_fen": r.total_fen,
            }
        ],
    }


def sales_of_show(db: Session, show_id: str) -> list[FlashSale]:
    """The show's sales that are scheduled, open or sold out (a room's snapshot)."""
    return list(
        db.scalars(
            select(FlashSale)
            .where(
                FlashSale.show_id == show_id,
                FlashSale.status.in_(("scheduled", "open", "sold_out")),
            )
            .order_by(FlashSale.starts_at, FlashSale.id)
        )
    )
