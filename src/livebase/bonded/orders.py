"""Cross-border orders: quotes, the checks at checkout, payer = buyer and the quota at
payment (the order hooks of orders/hooks.py), and the declaration sent to customs.

A bonded order is an ordinary order (``orders``) plus a ``BondedOrder`` row: the buyer's
identity, the tax it carries (added to the order's total, so the payment covers it), the
quota it holds and its customs number. After payment its state moves along the bonded
states (``states.py``) by conditional updates of the order's status.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from livebase.accounts.actors import SYSTEM_CUSTOMS, Actor
from livebase.accounts.service import Principal
from livebase.bases import service as bases
from livebase.bases.models import Warehouse
from livebase.bonded import ceb, identities, positive_list, quota, tax
from livebase.bonded.models import BondedOrder, CustomsMessage, DistrictRules, Identity
from livebase.bonded.parts import bonded_of
from livebase.catalog import service as catalog
from livebase.db import utcnow
from livebase.errors import ApiError, Code, Conflict, Forbidden, NotFound, ValidationFailed
from livebase.jobs.service import do_enqueue
from livebase.logs import get_logger
from livebase.orders import service as orders
from livebase.orders.hooks import Payer
from livebase.orders.models import Order

DECLARE_JOB = "bonded.declare"


def log() -> Any:
    # Looked up at each call, so a line goes wherever logging is configured now.
    return get_logger("livebase.bonded")


def rules_for(db: Session, customs_code: str) -> tax.Rules:
    row = db.get(DistrictRules, customs_code)
    if row is None:
        return tax.NATIONAL
    return tax.Rules(row.per_order_fen, row.per_year_fen, row.reduced_bp, row.return_days)


def check_rules(rules: tax.Rules) -> None:
    """Rules an operator may set: a per-order limit above the yearly one is refused (422)."""
    if rules.per_order_fen > rules.per_year_fen:
        raise ValidationFailed(
            "per_order_fen cannot exceed per_year_fen.", loc="body.per_order_fen"
        )


def do_set_rules(db: Session, actor: Actor, customs_code: str, rules: tax.Rules) -> None:
    """A district's own limits, discount and return window."""
    row = db.get(DistrictRules, customs_code)
    if row is None:
        row = DistrictRules(customs_code=customs_code)
        db.add(row)
    row.per_order_fen, row.per_year_fen = rules.per_order_fen, rules.per_year_fen
    row.reduced_bp, row.return_days = rules.reduced_bp, rules.return_days
    row.updated_at = utcnow()
    db.flush()
    log().info("bonded district rules set", customs_code=customs_code, actor=str(actor))


def rules_view(db: Session, customs_code: str) -> dict[str, Any]:
    row = db.get(DistrictRules, customs_code)
    r = rules_for(db, customs_code)
    return {
        "customs_code": customs_code,
        "per_order_fen": r.per_order_fen,
        "per_year_fen": r.per_year_fen,
        "reduced_bp": r.reduced_bp,
        "return_days": r.return_days,
        "source": "district" if row is not None else "national",
    }


def check_set_rules(db: Session, me: Principal, customs_code: str) -> None:
    """An admin sets any district's rules; an operator only a district whose bonded
    warehouses all belong to bases it operates (another base's buyers would otherwise feel
    its change). 404 for a district with no warehouse, 403 for anyone else."""
    owners = set(
        db.scalars(select(Warehouse.base_id).where(Warehouse.customs_code == customs_code))
    )
    if me.is_admin:
        return
    if not owners:
        raise NotFound(f"No bonded warehouse in customs district {customs_code}.")
    if not all(me.has("operator", base_id=b) for b in owners):
        raise Forbidden(
            "Only an admin, or an operator of every base with a warehouse in that district, "
            "sets its rules."
        )


def do_resend_rejected(db: Session, me: Principal, order_id: str) -> BondedOrder:
    """An operator of the order's base (or an admin) sends a rejected declaration again;
    404 for anyone else, 409 when the order is not rejected."""
    bo = bonded_order(db, order_id)
    if bo is None or not me.has("operator", base_id=bo.base_id):
        raise NotFound(f"No bonded order {order_id}.")
    if orders.get_order(db, order_id).status != "rejected":
        raise Conflict("Only a rejected declaration is resent.")
    do_declare(db, order_id)
    log().info("bonded declaration resent", order=order_id, actor=me.id)
    return bo


# --- the goods of a cross-border order ---------------------------------------------------


@dataclass(frozen=True)
class Goods:
    sku_id: str
    product_id: str
    title: str
    hs_code: str
    origin: str
    unit_fen: int
    quantity: int
    tariff_bp: int
    vat_bp: int
    ct_bp: int

    @property
    def line_fen(self) -> int:
        return self.unit_fen * self.quantity


@dataclass(frozen=True)
class Basket:
    goods: list[Goods]
    base_id: str
    warehouse_id: str
    customs_code: str
    ems_no: str


def line_for(db: Session, base_id: str, hs_code: str) -> positive_list.Line | None:
    from livebase.bonded.models import PositiveLine, PositiveListMode

    own = db.scalar(
        select(PositiveLine).where(PositiveLine.base_id == base_id, PositiveLine.hs_code == hs_code)
    )
    if own is not None:
        return positive_list.Line(own.hs_code, own.name, own.notes, own.allowed)
    mode = db.get(PositiveListMode, base_id)
    if mode is not None and mode.replaces_common:
        return None
    return positive_list.COMMON.get(hs_code)


def _basket(db: Session, items: Sequence[tuple[str, int, int]]) -> Basket | None:
    """(sku_id, quantity, unit price) → the cross-border basket; None when no line is
    cross-border. Mixed baskets and baskets of two warehouses are refused."""
    listings = catalog.sku_listings(db, [s for s, _q, _p in items])
    goods: list[Goods] = []
    plain = 0
    warehouses: set[str] = set()
    base_ids: set[str] = set()
    for n, (sku_id, qty, unit) in enumerate(items):
        listing = listings.get(sku_id)
        if listing is None:
            raise ValidationFailed(f"SKU {sku_id} is not on sale.", loc=f"body.lines.{n}.sku_id")
        product = catalog.get_product(db, None, listing.product_id)
        if product.hs_code is None or product.warehouse_id is None:
            plain += 1
            continue
        warehouses.add(product.warehouse_id)
        base_ids.add(listing.base_id)
        goods.append(
            Goods(
                sku_id,
                product.id,
                product.title,
                product.hs_code,
                product.origin_country or "",
                unit,
                qty,
                product.tariff_rate_bp or 0,
                product.vat_rate_bp or 0,
                product.consumption_tax_rate_bp or 0,
            )
        )
    if not goods:
        return None
    if plain:
        raise ValidationFailed(
            "Imported (bonded) goods and domestic goods are ordered apart.", loc="body.lines"
        )
    if len(warehouses) != 1:
        raise ValidationFailed("One order ships from one bonded warehouse.", loc="body.lines")
    wh = bases.get_warehouse(db, warehouses.pop())
    if wh is None:
        raise NotFound("The goods' bonded warehouse is gone.")
    return Basket(goods, base_ids.pop(), wh.id, wh.customs_code, wh.ems_no)


def basket_of(db: Session, sku_id: str) -> Basket | None:
    """The warehouse and district of one imported SKU (None for domestic goods)."""
    views = catalog.sku_views(db, [sku_id])
    view = views.get(sku_id)
    return _basket(db, [(sku_id, 1, view.price_fen)]) if view is not None else None


def _check_list(db: Session, basket: Basket) -> tuple[Code, str] | None:
    for g in basket.goods:
        line = line_for(db, basket.base_id, g.hs_code)
        if line is None or not line.allowed:
            return (
                Code.NOT_ALLOWED_GOODS,
                f"{g.title}: HS code {g.hs_code} is not on the positive list (正面清单).",
            )
    return None


def _quote(
    db: Session, basket: Basket, id_hash: str, *, discount_fen: int = 0, freight_fen: int = 0
) -> tax.Quote:
    rules = rules_for(db, basket.customs_code)
    used = quota.used_fen(db, id_hash, utcnow().year)
    return tax.quote(
        [tax.TaxLine(g.line_fen, g.quantity, g.tariff_bp, g.vat_bp, g.ct_bp) for g in basket.goods],
        rules=rules,
        used_fen=used,
        discount_fen=discount_fen,
        freight_fen=freight_fen,
    )


def quote_view(q: tax.Quote, reason: tuple[Code, str] | None = None) -> dict[str, Any]:
    code, detail = reason if reason else (q.reason, q.detail)
    allowed = reason is None and q.allowed
    return {
        "goods_fen": q.goods_fen,
        "freight_fen": q.freight_fen,
        "discount_fen": q.discount_fen,
        "taxable_fen": q.taxable_fen,
        "tariff_fen": q.tariff_fen,
        "consumption_tax_fen": q.ct_fen,
        "vat_fen": q.vat_fen,
        "tax_fen": q.tax_fen,
        "total_fen": q.total_fen,
        "full_tax": q.full_tax,
        "remaining_after_fen": q.remaining_after_fen if allowed else q.limit_fen - q.used_fen,
        "allowed": allowed,
        "reason": str(code) if not allowed and code else None,
        "detail": detail if not allowed else None,
    }


def check_quote(
    db: Session, me: Principal, identity_id: str, lines: Sequence[tuple[str, int]], freight_fen: int
) -> dict[str, Any]:
    ident = identities.check_own_identity(db, me, identity_id, loc="body.identity_id")
    views = catalog.sku_views(db, [s for s, _q in lines])
    items = []
    for n, (sku_id, qty) in enumerate(lines):
        view = views.get(sku_id)
        if view is None:
            raise ValidationFailed(f"SKU {sku_id} is not on sale.", loc=f"body.lines.{n}.sku_id")
        items.append((sku_id, qty, view.price_fen))
    basket = _basket(db, items)
    if basket is None:
        raise ValidationFailed("None of these goods is imported (bonded).", loc="body.lines")
    q = _quote(db, basket, ident.id_hash, freight_fen=freight_fen)
    return quote_view(q, _check_list(db, basket))


def quota_limit(db: Session, customs_code: str | None) -> tuple[str | None, int]:
    """The yearly limit a buyer's quota is measured against: the named district's, or,
    without one, the smallest of the districts that have a bonded warehouse (so the
    remaining figure is never more than an order anywhere may use); the national limit
    when no district has rules of its own."""
    if customs_code is not None:
        return customs_code, rules_for(db, customs_code).per_year_fen
    codes = set(db.scalars(select(Warehouse.customs_code).distinct()))
    if not codes:
        return None, tax.NATIONAL.per_year_fen
    limit, code = min((rules_for(db, c).per_year_fen, c) for c in codes)
    return (code if len(codes) == 1 else None), limit


def quota_view(
    db: Session, me: Principal, identity_id: str, customs_code: str | None = None
) -> dict[str, Any]:
    ident = identities.check_own_identity(db, me, identity_id, loc="query.identity_id")
    year = utcnow().year
    code, limit = quota_limit(db, customs_code)
    used = quota.used_fen(db, ident.id_hash, year)
    return {
        "identity_id": ident.id,
        "customs_code": code,
        "year": year,
        "limit_fen": limit,
        "used_fen": used,
        "remaining_fen": max(limit - used, 0),
    }


# --- the order hooks ------------------------------------------------------------------------


def bonded_order(db: Session, order_id: str) -> BondedOrder | None:
    return db.get(BondedOrder, order_id, populate_existing=True)


def _hold(db: Session, actor: Actor, order: Order, bo: BondedOrder, reason: str) -> None:
    bo.hold_reason = reason
    db.flush()
    orders.do_record_transition(db, actor, order, order.status, order.status, reason)
    log().warning("bonded order held", order=order.id, reason=reason)


class BondedOrderHooks:
    """Installed on the runtime's sessions by ``parts.BONDED``."""

    def on_checkout(
        self, db: Session, buyer: Principal, order: Order, identity_id: str | None
    ) -> None:
        basket = _basket(db, [(ln.sku_id, ln.quantity, ln.unit_price_fen) for ln in order.lines])
        if basket is None:
            if identity_id is not None:
                raise ValidationFailed(
                    "identity_id is for imported (bonded) goods only.", loc="body.identity_id"
                )
            return
        if identity_id is None:
            raise ValidationFailed(
                "Imported goods need the buyer's real-name identity (实名认证).",
                loc="body.identity_id",
            )
        ident = identities.check_own_identity(db, buyer, identity_id, loc="body.identity_id")
        if order.pickup_counter_id is not None:
            counter = bases.get_pickup_counter(db, order.pickup_counter_id)
            if counter.warehouse_id != basket.warehouse_id:
                raise ValidationFailed(
                    "This counter does not hand over goods of that bonded warehouse.",
                    loc="body.pickup_counter_id",
                )
        refused = _check_list(db, basket)
        if refused is not None:
            raise ApiError(refused[1], code=refused[0])
        q = _quote(db, basket, ident.id_hash, discount_fen=order.discount_fen)
        if not q.allowed and q.reason is not None:
            raise ApiError(q.detail or "Not allowed.", code=q.reason)
        order.total_fen = q.total_fen
        db.add(
            BondedOrder(
                order_id=order.id,
                identity_id=ident.id,
                id_hash=ident.id_hash,
                buyer_id=buyer.id,
                base_id=basket.base_id,
                warehouse_id=basket.warehouse_id,
                customs_code=basket.customs_code,
                pickup_counter_id=order.pickup_counter_id,
                order_no=order.id,
                goods_fen=q.goods_fen,
                freight_fen=q.freight_fen,
                discount_fen=q.discount_fen,
                taxable_fen=q.taxable_fen,
                tariff_fen=q.tariff_fen,
                vat_fen=q.vat_fen,
                ct_fen=q.ct_fen,
                tax_fen=q.tax_fen,
                full_tax=q.full_tax,
                quota_year=utcnow().year,
                quota_fen=q.taxable_fen,
                lines=[
                    {"sku_id": g.sku_id, "hs_code": g.hs_code, "origin": g.origin}
                    for g in basket.goods
                ],
            )
        )
        db.flush()

    def on_paid(self, db: Session, actor: Actor, order: Order, payer: Payer | None) -> None:
        bo = bonded_order(db, order.id)
        if bo is None:
            return
        ident = identities.get_identity(db, bo.identity_id)
        if payer is None or payer.id_hash != bo.id_hash or payer.name != ident.name:
            _hold(
                db,
                actor,
                order,
                bo,
                "付款人与订购人不一致，订单暂停申报；请取消订单退款后用本人账户支付 / "
                "The payer is not the buyer named on the order (customs requires the same "
                "person): the order is held; cancel it for a refund and pay as yourself.",
            )
            return
        rules = rules_for(db, bo.customs_code)
        if not quota.do_reserve(db, bo.id_hash, bo.quota_year, bo.quota_fen, rules.per_year_fen):
            _hold(
                db,
                actor,
                order,
                bo,
                "年度额度不足，订单已取消并原路退款 / The buyer's yearly quota ran out before "
                "this payment: the order is cancelled and refunded.",
            )
            orders.do_cancel(db, actor, order)
            return
        marked = db.execute(
            update(BondedOrder)
            .where(BondedOrder.order_id == bo.order_id, BondedOrder.quota_state == "none")
            .values(quota_state="reserved")
            .execution_options(synchronize_session=False)
        )
        if int(getattr(marked, "rowcount", 0) or 0) != 1:  # reserved twice: give one back
            quota.do_release(db, bo.id_hash, bo.quota_year, bo.quota_fen)
            return
        do_enqueue(db, DECLARE_JOB, {"order_id": order.id})

    def on_cancelled(self, db: Session, actor: Actor, order: Order) -> None:
        do_release_quota(db, order.id)

    def on_refund_approved(self, db: Session, actor: Actor, order: Order) -> None:
        """A refund of shipped imported goods is a return: the goods come back to the
        zone (their units to stock, once) and the quota to the buyer (once), as
        ``states.do_return`` does for a return asked for on the bonded page."""
        if bonded_order(db, order.id) is None:
            return
        do_release_quota(db, order.id)
        orders.do_return_units(db, order)

    def page_of(self, db: Session, order: Order) -> str | None:
        return f"/bonded/orders/{order.id}" if bonded_order(db, order.id) else None

    def payer_of(self, db: Session, order: Order, identity_id: str | None) -> Payer | None:
        bo = bonded_order(db, order.id)
        if bo is None:
            return None
        ident = db.get(Identity, identity_id or bo.identity_id)
        if ident is None or ident.user_id != order.buyer_id:
            raise ValidationFailed("No such identity of yours.", loc="payer_identity_id")
        return Payer(ident.name, ident.id_hash)

    def ship_states(self, db: Session, order: Order) -> tuple[str, ...] | None:
        """Goods leave the zone only at release (CEB622 800): a delivery order ships from
        ``released``; a pickup order is handed over at the counter and never ships."""
        bo = bonded_order(db, order.id)
        if bo is None:
            return None
        return () if bo.pickup_counter_id is not None else ("released",)

    def buy_page(self, db: Session, show_id: str, sku_id: str) -> str | None:
        listing = catalog.sku_listings(db, [sku_id]).get(sku_id)
        if listing is None:
            return None
        product = catalog.get_product(db, None, listing.product_id)
        if product.hs_code is None:
            return None
        return f"/shows/{show_id}/buy-bonded?sku={sku_id}"


def do_release_quota(db: Session, order_id: str) -> bool:
    """Give the order's quota back, once (a conditional update on its quota state)."""
    bo = bonded_order(db, order_id)
    if bo is None:
        return False
    result = db.execute(
        update(BondedOrder)
        .where(BondedOrder.order_id == order_id, BondedOrder.quota_state == "reserved")
        .values(quota_state="released")
        .execution_options(synchronize_session=False)
    )
    if int(getattr(result, "rowcount", 0) or 0) != 1:
        return False
    quota.do_release(db, bo.id_hash, bo.quota_year, bo.quota_fen)
    return True


# --- the declaration --------------------------------------------------------------------------


def declaration_of(db: Session, order: Order, bo: BondedOrder) -> ceb.Declaration:
    from livebase.payments import service as payments

    settings = bonded_of(db).settings
    ident = identities.get_identity(db, bo.identity_id)
    number = identities.reveal(db, SYSTEM_CUSTOMS, ident)
    wh = bases.get_warehouse(db, bo.warehouse_id)
    payment = payments.paid_payment(db, order.id)
    if order.pickup_counter_id is not None:
        counter = bases.get_pickup_counter(db, order.pickup_counter_id)
        address = f"{counter.name}（自提 pickup）"
        phone = ident.phone or ""
        store: str | None = counter.customs_code
    else:
        ship = order.ship_to or {}
        address = " ".join(
            str(ship.get(k, "")) for k in ("province", "city", "district", "detail")
        ).strip()
        phone = str(ship.get("phone", "")) or ident.phone or ""
        store = None
    sku_by_id = {ln["sku_id"]: ln for ln in bo.lines}
    items = [
        ceb.Item(
            gnum=n + 1,
            item_no=ln.sku_id,
            name=ln.title,
            hs_code=str(sku_by_id.get(ln.sku_id, {}).get("hs_code", "")),
            country=str(sku_by_id.get(ln.sku_id, {}).get("origin", "")),
            qty=ln.quantity,
            price_fen=ln.unit_price_fen,
            total_fen=ln.line_total_fen,
        )
        for n, ln in enumerate(order.lines)
    ]
    return ceb.Declaration(
        order_no=bo.order_no,
        company_code=settings.bonded_company_code,
        company_name=settings.bonded_company_name,
        customs_code=bo.customs_code,
        ems_no=wh.ems_no if wh else "",
        goods_fen=bo.goods_fen,
        freight_fen=bo.freight_fen,
        insurance_fen=bo.insurance_fen,
        discount_fen=bo.discount_fen,
        tax_fen=bo.tax_fen,
        paid_fen=payment.amount_fen if payment else order.total_fen,
        buyer_reg_no=order.buyer_id,
        buyer_name=ident.name,
        buyer_id_number=number,
        buyer_phone=phone,
        consignee=ident.name,
        consignee_phone=phone,
        consignee_address=address,
        pay_code=payment.provider if payment else "",
        pay_name=payment.provider if payment else "",
        pay_transaction_id=(payment.provider_ref or payment.id) if payment else "",
        paid_at=order.paid_at or utcnow(),
        logistics_no=f"LB{bo.order_no[-20:]}",
        items=items,
        pickup_store_code=store,
    )


def do_declare(db: Session, order_id: str, *, kinds: Sequence[str] = tuple(ceb.BUILDERS)) -> None:
    """Build the messages, keep them, hand them to the submitter, move paid|rejected →
    declared. Raises (the outbox job retries) when the submitter cannot take them."""
    from livebase.bonded import states

    order = orders.get_order(db, order_id)
    bo = bonded_order(db, order_id)
    if bo is None or order.status not in ("paid", "rejected") or bo.hold_reason:
        return
    declared = ceb.build_set(declaration_of(db, order, bo))
    submitter = bonded_of(db).submitter
    for kind in kinds:
        guid, xml = declared[kind]
        db.add(CustomsMessage(order_id=order_id, kind=kind, guid=guid, xml=xml, status="sent"))
        db.flush()
        submitter.submit(db, kind, guid, bo.order_no, xml)
    bo.declarations += 1
    bo.last_reason = None
    db.flush()
    states.do_transition(
        db,
        SYSTEM_CUSTOMS,
        order_id,
        ("paid", "rejected"),
        "declared",
        f"申报 declared to customs ({', '.join(kinds)})",
    )
    log().info("bonded order declared", order=order_id, submitter=submitter.name)


def bonded_view(db: Session, order: Order, bo: BondedOrder, *, with_code: bool) -> dict[str, Any]:
    """The bonded side of an order; the pickup code only for its buyer, while it is good."""
    from livebase.bonded import pickup_codes
    from livebase.schemas import rfc3339

    ident = identities.get_identity(db, bo.identity_id)
    code = None
    if with_code and order.status == "ready_for_pickup" and bo.code_used_at is None:
        code = pickup_codes.reveal(db, bo)
    return {
        "order_id": order.id,
        "status": order.status,
        "order_no": bo.order_no,
        "identity": {"id": ident.id, "name": ident.name, "id_number_masked": ident.masked},
        "customs_code": bo.customs_code,
        "pickup_counter_id": bo.pickup_counter_id,
        "goods_fen": bo.goods_fen,
        "freight_fen": bo.freight_fen,
        "discount_fen": bo.discount_fen,
        "taxable_fen": bo.taxable_fen,
        "tariff_fen": bo.tariff_fen,
        "consumption_tax_fen": bo.ct_fen,
        "vat_fen": bo.vat_fen,
        "tax_fen": bo.tax_fen,
        "full_tax": bo.full_tax,
        "total_fen": order.total_fen,
        "quota_state": bo.quota_state,
        "hold_reason": bo.hold_reason,
        "customs_reason": bo.last_reason,
        "released_at": rfc3339(bo.released_at),
        "pickup_code": code,
        "code_expires_at": rfc3339(bo.code_expires_at) if code else None,
        "picked_up_at": rfc3339(bo.picked_up_at),
    }
