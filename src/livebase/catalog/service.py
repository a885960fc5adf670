"""Products and SKUs of an organisation, their images and cross-border fields.

Every listing text passes :func:`moderate_listing` on create and on edit — the one place
where catalog meets the compliance module.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from livebase.accounts.actors import Actor, actor_user_id
from livebase.accounts.service import Principal
from livebase.bases import service as bases
from livebase.catalog import stock as stock_rows
from livebase.catalog.models import Product, ProductImage, Sku
from livebase.compliance import CheckContext, Verdict, check, ocr
from livebase.compliance import service as moderation
from livebase.db import new_id
from livebase.errors import Conflict, Forbidden, NotFound, ValidationFailed
from livebase.jobs import service as jobs
from livebase.uploads.images import StoredImage

if TYPE_CHECKING:  # only named as a type: catalog goes through bases' service
    from livebase.bases.models import Organisation

# The same bound the create body has (schemas.ProductIn.skus).
MAX_SKUS = 200


@dataclass
class SkuSpec:
    attrs: dict[str, str]
    price_fen: int
    stock: int
    code: str | None = None


@dataclass
class CrossBorder:
    hs_code: str
    origin_country: str
    tariff_rate_bp: int
    vat_rate_bp: int
    consumption_tax_rate_bp: int
    warehouse_id: str


def listing_text(title: str, description: str) -> str:
    return f"{title}\n{description}"


def moderate_listing(title: str, description: str, base_id: str | None = None) -> Verdict | None:
    """Check a listing's text; return the verdict when it must be held, else None.

    A listing is text published in the base's name, so anything but ``allow`` holds it
    for a moderator — we never publish a silently masked title.
    """
    # The base's own moderators' terms apply to its listings, on top of the shared lists.
    verdict = check("listing", listing_text(title, description), CheckContext(base_id=base_id))
    return None if verdict.allowed else verdict


def _hold(db: Session, product: Product, verdict: Verdict, author_id: str | None) -> None:
    product.status = "held"
    product.moderation = verdict.to_dict()
    moderation.do_submit_for_review(
        db,
        kind="listing",
        subject_type="product",
        subject_id=product.id,
        text=listing_text(product.title, product.description),
        verdict=verdict,
        base_id=product.base_id,
        author_id=author_id,
    )


def check_can_manage(principal: Principal, org_id: str) -> None:
    if not bases.is_org_staff(principal, org_id):
        raise Forbidden("Only this organisation's merchant or agency staff may change it.")


def can_see_unpublished(principal: Principal | None, product: Product) -> bool:
    if principal is None:
        return False
    return (
        bases.is_org_member(principal, product.org_id)
        or principal.has("moderator", base_id=product.base_id)
        or principal.has("operator", base_id=product.base_id)
    )


def get_product(db: Session, principal: Principal | None, product_id: str) -> Product:
    product = db.get(
        Product, product_id, options=[selectinload(Product.skus), selectinload(Product.images)]
    )
    if (
        product is None
        or (product.status != "active" and not can_see_unpublished(principal, product))
        or (
            product.status == "deleted"
            and not (principal and bases.is_org_member(principal, product.org_id))
        )
    ):
        # Deleted listings stay visible to their own organisation (DESIGN §5), for the
        # record; the base's staff see held ones, which they review, not deleted ones.
        raise NotFound(f"No product {product_id}.")
    return product


def check_not_deleted(product: Product) -> None:
    if product.status == "deleted":
        raise Conflict(f"Product {product.id} is deleted; it can no longer change.")


def check_manage_product(db: Session, principal: Principal, product_id: str) -> Product:
    """The product, when the principal is staff of its organisation."""
    product = get_product(db, principal, product_id)
    check_can_manage(principal, product.org_id)
    return product


def _check_cross_border(db: Session, base_id: str, cb: CrossBorder) -> None:
    wh = bases.get_warehouse(db, cb.warehouse_id)
    if wh is None or wh.base_id != base_id:
        raise ValidationFailed(
            "warehouse_id is not a bonded warehouse of this base.",
            loc="body.cross_border.warehouse_id",
        )


def _apply_cross_border(product: Product, cb: CrossBorder | None) -> None:
    product.hs_code = cb.hs_code if cb else None
    product.origin_country = cb.origin_country if cb else None
    product.tariff_rate_bp = cb.tariff_rate_bp if cb else None
    product.vat_rate_bp = cb.vat_rate_bp if cb else None
    product.consumption_tax_rate_bp = cb.consumption_tax_rate_bp if cb else None
    product.warehouse_id = cb.warehouse_id if cb else None


def _org_for_listing(db: Session, org_id: str) -> Organisation:
    org = bases.find_org(db, org_id)
    if org is None:
        raise ValidationFailed(f"No organisation {org_id}.", loc="body.org_id")
    return org


def check_create_product(db: Session, principal: Principal, org_id: str) -> Organisation:
    """The organisation, when the principal may list products for it."""
    org = _org_for_listing(db, org_id)
    check_can_manage(principal, org_id)
    if org.kind != "brand" and not principal.is_admin:
        # Agencies sell their brands' goods through the brand's listings (DESIGN §5).
        raise Forbidden("Only a brand lists products.")
    return org


def do_create_product(
    db: Session,
    actor: Actor,
    org_id: str,
    title: str,
    description: str,
    skus: list[SkuSpec],
    cross_border: CrossBorder | None = None,
) -> Product:
    org = _org_for_listing(db, org_id)
    codes = [s.code for s in skus if s.code]
    if len(codes) != len(set(codes)):
        raise ValidationFailed("SKU codes must be unique within a product.", loc="body.skus")
    if cross_border:
        _check_cross_border(db, org.base_id, cross_border)
    product = Product(
        id=new_id("prd"),
        org_id=org_id,
        base_id=org.base_id,
        title=title.strip(),
        description=description,
        status="active",
    )
    _apply_cross_border(product, cross_border)
    # SKUs are read back in id order; ids made in the same millisecond sort at random, so
    # take sorted ones to keep the merchant's order (白 M before 黑 L) on every read.
    sku_ids = sorted(new_id("sku") for _ in skus)
    product.skus = [
        Sku(id=sku_id, attrs=s.attrs, price_fen=s.price_fen, stock=s.stock, code=s.code)
        for sku_id, s in zip(sku_ids, skus, strict=True)
    ]
    db.add(product)
    db.flush()
    held = moderate_listing(product.title, description, product.base_id)
    if held is not None:
        _hold(db, product, held, actor_user_id(actor))
    db.flush()
    return product


def do_update_product(
    db: Session,
    actor: Actor,
    product: Product,
    *,
    title: str | None,
    description: str | None,
    cross_border: CrossBorder | None,
    cross_border_given: bool,
) -> Product:
    check_not_deleted(product)
    if cross_border:
        _check_cross_border(db, product.base_id, cross_border)
    if title is not None:
        product.title = title.strip()
    if description is not None:
        product.description = description
    if cross_border_given:
        _apply_cross_border(product, cross_border)
    if title is not None or description is not None:
        held = moderate_listing(product.title, product.description, product.base_id)
        if held is not None:
            _hold(db, product, held, actor_user_id(actor))
        else:
            product.status, product.moderation = "active", None
            moderation.do_withdraw(db, "product", product.id)
    db.flush()
    return product


def do_delete_product(db: Session, actor: Actor, product: Product) -> None:
    check_not_deleted(product)
    # Soft delete: orders and past shelves keep pointing at the row.
    product.status = "deleted"
    db.flush()


def _release_listing(db: Session, product_id: str, approve: bool, reason: str | None) -> None:
    """A moderator's decision on a held listing (called by the compliance review queue).

    A rejected listing reads ``rejected`` and keeps its verdict with the moderator's
    reason (DESIGN §5), so the merchant sees why; editing its text checks it again."""
    product = db.get(Product, product_id)
    if product is None or product.status != "held":
        return
    if approve:
        product.status = "active"
        product.moderation = None
    else:
        product.status = "rejected"
        product.moderation = {**(product.moderation or {}), "reason": reason or ""}
    db.flush()


moderation.register_resolver("product", _release_listing)


def _image_checked(db: Session, payload: dict[str, Any], status: str, text: str) -> None:
    """compliance.ocr read the picture: ``ok`` shows it, ``held`` hides it until a
    moderator decides (the product itself stays as it is)."""
    image = db.get(ProductImage, str(payload["subject_id"]))
    if image is not None:
        image.ocr_status, image.ocr_text = status, text
        db.flush()


def _release_image(db: Session, image_id: str, approve: bool, reason: str | None) -> None:
    image = db.get(ProductImage, image_id)
    if image is not None and image.ocr_status == "held":
        image.ocr_status = "ok" if approve else "rejected"
        db.flush()


ocr.register_image_handler("product_image", _image_checked)
moderation.register_resolver("product_image", _release_image)


def shown_images(product: Product) -> list[ProductImage]:
    """The pictures shown with a product: not those held or rejected for their text."""
    return product.shown_images


def list_products(
    db: Session,
    principal: Principal | None,
    *,
    org_id: str | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> list[Product]:
    q = select(Product).options(selectinload(Product.skus), selectinload(Product.images))
    # Who sees held listings in a list is who sees them one by one (see
    # can_see_unpublished): the organisation's members and its base's operators and
    # moderators.
    staff = (
        principal is not None
        and org_id is not None
        and (
            bases.is_org_member(principal, org_id)
            or _base_of_org(db, org_id) in principal.base_ids("moderator", "operator")
        )
    )
    if org_id:
        q = q.where(Product.org_id == org_id)
    if staff and status:
        q = q.where(Product.status == status)
    elif staff:
        q = q.where(Product.status != "deleted")
    elif status not in (None, "active"):
        return []  # to everyone else a held listing does not exist
    else:
        q = q.where(Product.status == "active")
    if cursor:
        q = q.where(Product.id < cursor)
    return list(db.scalars(q.order_by(Product.id.desc()).limit(limit + 1)))


def _base_of_org(db: Session, org_id: str) -> str | None:
    org = bases.find_org(db, org_id)
    return org.base_id if org else None


def get_sku(db: Session, sku_id: str) -> Sku | None:
    return db.get(Sku, sku_id)


@dataclass(frozen=True)
class SkuListing:
    """A SKU with what other features need of its listing: who sells it, where, and
    whether it is on sale (``status`` is the product's)."""

    sku_id: str
    product_id: str
    org_id: str
    base_id: str
    status: str


def sku_listings(db: Session, sku_ids: Iterable[str]) -> dict[str, SkuListing]:
    ids = list(set(sku_ids))
    if not ids:
        return {}
    rows = db.execute(
        select(Sku.id, Sku.product_id, Product.org_id, Product.base_id, Product.status)
        .join(Product, Product.id == Sku.product_id)
        .where(Sku.id.in_(ids))
    ).all()
    return {r.id: SkuListing(r.id, r.product_id, r.org_id, r.base_id, r.status) for r in rows}


@dataclass(frozen=True)
class SkuView:
    """What a shelf or an order line shows of a SKU."""

    sku_id: str
    product_id: str
    title: str
    attrs: dict[str, str]
    price_fen: int
    stock: int
    thumb_url: str | None


def sku_views(db: Session, sku_ids: Iterable[str]) -> dict[str, SkuView]:
    ids = list(set(sku_ids))
    if not ids:
        return {}
    skus = db.scalars(
        select(Sku)
        .where(Sku.id.in_(ids))
        .options(selectinload(Sku.product).selectinload(Product.images))
    )
    out = {}
    for sku in skus:
        images = sku.product.images
        out[sku.id] = SkuView(
            sku_id=sku.id,
            product_id=sku.product_id,
            title=sku.product.title,
            attrs=sku.attrs,
            price_fen=sku.price_fen,
            stock=sku.stock,
            thumb_url=f"/uploads/{images[0].thumb_path}" if images else None,
        )
    return out


def do_add_sku(db: Session, actor: Actor, product: Product, spec: SkuSpec) -> Sku:
    """A new variant (a colour, a size) for an existing listing. Its attributes are not
    listing text that compliance reads, so the listing's status does not change."""
    check_not_deleted(product)
    if len(product.skus) >= MAX_SKUS:
        raise ValidationFailed(f"A product has at most {MAX_SKUS} SKUs.", loc="body")
    if spec.code and any(s.code == spec.code for s in product.skus):
        raise ValidationFailed("SKU codes must be unique within a product.", loc="body.code")
    if any(s.attrs == spec.attrs for s in product.skus):
        raise ValidationFailed(
            "The product already has a SKU with these attributes.", loc="body.attrs"
        )
    sku = Sku(
        product_id=product.id,
        attrs=spec.attrs,
        price_fen=spec.price_fen,
        stock=spec.stock,
        code=spec.code,
    )
    db.add(sku)
    db.flush()
    return sku


def check_update_sku(db: Session, principal: Principal, sku_id: str) -> Sku:
    """The SKU, when the principal manages its product."""
    sku = db.get(Sku, sku_id)
    if sku is None:
        raise NotFound(f"No SKU {sku_id}.")
    check_manage_product(db, principal, sku.product_id)
    return sku


@dataclass(frozen=True)
class StockEdit:
    """How a merchant's stock figure is applied (see docs/architecture.md, "Stock").

    ``value`` alone is a stock-take (the count is this now). With ``expected`` (the value
    the client last read) it is a compare-and-set: 409 when the stock moved meanwhile.
    With ``read`` (the value a form showed) the difference ``value - read`` is added to
    whatever the stock is now, so units sold while the form was open stay sold.
    """

    value: int
    expected: int | None = None
    read: int | None = None


def do_update_sku(
    db: Session, actor: Actor, sku: Sku, price_fen: int | None, stock: StockEdit | None
) -> Sku:
    product = db.get(Product, sku.product_id)
    if product is None:
        raise NotFound(f"No SKU {sku.id}.")
    check_not_deleted(product)
    if price_fen is not None:
        sku.price_fen = price_fen
    if stock is not None:
        if stock.read is not None:
            if stock.value != stock.read:
                stock_rows.adjust(db, sku.id, stock.value - stock.read)
        elif stock.expected is not None:
            stock_rows.set_expected(db, sku.id, stock.value, expected=stock.expected)
        else:
            stock_rows.set_absolute(db, sku.id, stock.value)
    db.flush()
    db.refresh(sku)
    return sku


def do_add_image(
    db: Session,
    actor: Actor,
    product: Product,
    stored: StoredImage,
    image_id: str,
    uploads_dir: Path | None = None,
) -> ProductImage:
    """Add a stored picture; with ``uploads_dir`` the text inside it is checked by the
    ``compliance.ocr_image`` job once this transaction commits."""
    image = ProductImage(
        id=image_id,
        product_id=product.id,
        path=stored.path,
        thumb_path=stored.thumb_path,
        content_type=stored.content_type,
        width=stored.width,
        height=stored.height,
        size_bytes=stored.size_bytes,
        position=len(product.images),
    )
    db.add(image)
    db.flush()
    if uploads_dir is not None:
        jobs.do_enqueue(
            db,
            ocr.OCR_JOB,
            {
                "subject_type": "product_image",
                "subject_id": image.id,
                "path": str(uploads_dir / stored.path),
                "image_url": f"/uploads/{stored.path}",
                "base_id": product.base_id,
                "author_id": actor_user_id(actor),
            },
        )
    return image
