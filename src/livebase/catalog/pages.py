"""A merchant's product pages: the list across their brands, the editor, delete.

Routes parse the form, call the catalog service and redirect (303) after a change. Image
uploads go from the editor's script straight to the JSON API, which shows progress.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from livebase.accounts.service import Principal
from livebase.bases import service as bases
from livebase.catalog import service as catalog
from livebase.catalog.models import Product
from livebase.db import new_id
from livebase.errors import ApiError, Forbidden, NotFound, ValidationFailed
from livebase.http import DB, get_runtime
from livebase.settings import Settings
from livebase.uploads.images import store_image
from livebase.web.formerrors import FieldError
from livebase.web.forms import (
    DEFAULT_ATTR,
    attrs_text,
    parse_attrs,
    parse_count,
    parse_percent_bp,
    parse_yuan,
    percent_input,
    yuan_input,
)
from livebase.web.i18n import pick_lang
from livebase.web.render import PageRoute, PageUser, SignedIn, check_form_csrf, redirect, render

if TYPE_CHECKING:  # the model only names a type here; the pages go through the service
    from livebase.bases.models import Organisation

router = APIRouter(include_in_schema=False, route_class=PageRoute)
# A merchant's list page shows this many products per brand; the API pages past it.
LIST_LIMIT = 100
# Blank SKU rows offered on a new product's form (more can be added by the page script).
BLANK_ROWS = 3
# Characters of listing text shown either side of a matched term in a held reason.
CONTEXT = 12
# Pictures a new product's form takes at once; more are added in the editor afterwards.
# Six at phone-photo sizes stays within the upload body limit.
MAX_NEW_IMAGES = 6
FormList = Annotated[list[str], Form()]
Files = Annotated[list[UploadFile], File()]
FormText = Annotated[str, Form(max_length=20000)]


def _brands(db: DB, me: Principal) -> list[Organisation]:
    """The brands whose products this user manages; nobody else has a product page."""
    if me.is_admin:
        return [
            o for b in bases.list_bases(db) for o in bases.list_orgs(db, b.id) if o.kind == "brand"
        ]
    orgs = [bases.get_org(db, oid) for oid in sorted(me.org_ids("merchant"))]
    brands = [o for o in orgs if o.kind == "brand"]
    if not brands:
        raise Forbidden("Only a brand's merchant manages products.")
    return brands


@dataclass
class HeldReason:
    labels: list[str]
    # (text, matched) pieces of the listing text around each matched term.
    snippets: list[list[tuple[str, bool]]]
    # Set once a moderator rejected the listing: what they wrote to the merchant.
    rejected_because: str | None = None


def held_reason(product: Product) -> HeldReason | None:
    """Why compliance held a listing, with the matched terms cut out for highlighting.

    The verdict's start/end index ``title + "\\n" + description`` in code points, which
    is how catalog.moderate_listing checked it.
    """
    if product.status not in ("held", "rejected") or not product.moderation:
        return None
    text = f"{product.title}\n{product.description}"
    spans = sorted(
        (int(m["start"]), int(m["end"]))
        for m in product.moderation.get("matches", [])
        if 0 <= m["start"] < m["end"]
    )
    merged: list[list[int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    snippets: list[list[tuple[str, bool]]] = []
    for start, end in merged:
        before = text[max(0, start - CONTEXT) : start].replace("\n", " ")
        after = text[end : end + CONTEXT].replace("\n", " ")
        snippets.append(
            [
                ("…" + before if start > CONTEXT else before, False),
                (text[start:end], True),
                (after + "…" if end + CONTEXT < len(text) else after, False),
            ]
        )
    rejected = str(product.moderation.get("reason", "")) if product.status == "rejected" else None
    return HeldReason(list(product.moderation.get("labels", [])), snippets, rejected)


@router.get("/merchant/products", response_class=HTMLResponse)
def product_list(request: Request, db: DB, me: SignedIn) -> Response:
    brands = _brands(db, me)
    groups = []
    for org in brands:
        rows = catalog.list_products(
            db, me, org_id=org.id, status=None, limit=LIST_LIMIT, cursor=None
        )[:LIST_LIMIT]
        groups.append((org, [(p, held_reason(p)) for p in rows]))
    return render(
        request,
        "catalog/list.html",
        me,
        groups=groups,
        deleted=request.query_params.get("deleted") == "1",
    )


# ---- the editor -------------------------------------------------------------------------


@dataclass
class SkuRow:
    sku_id: str = ""
    attrs: str = ""
    price: str = ""
    stock: str = ""
    code: str = ""
    # The stock the form showed: a changed figure is applied as the difference to it, so
    # units sold while the form was open are not put back on sale.
    stock_read: str = ""


@dataclass
class ProductForm:
    """What the editor shows: a product's values, or what was just typed when it failed."""

    org_id: str = ""
    title: str = ""
    description: str = ""
    rows: list[SkuRow] = field(default_factory=list)
    cb_enabled: bool = False
    cb: dict[str, str] = field(default_factory=dict)


def _form_of(product: Product) -> ProductForm:
    cb = {}
    if product.hs_code:
        cb = {
            "hs_code": product.hs_code,
            "origin_country": product.origin_country or "",
            "tariff_pct": percent_input(product.tariff_rate_bp),
            "vat_pct": percent_input(product.vat_rate_bp),
            "ct_pct": percent_input(product.consumption_tax_rate_bp),
            "warehouse_id": product.warehouse_id or "",
        }
    rows = [
        SkuRow(
            s.id,
            attrs_text(s.attrs),
            yuan_input(s.price_fen),
            str(s.stock),
            s.code or "",
            str(s.stock),
        )
        for s in product.skus
    ]
    rows.append(SkuRow())  # a blank row for a new variant; "add a SKU" copies it
    return ProductForm(
        product.org_id, product.title, product.description, rows, bool(product.hs_code), cb
    )


def _editor(
    request: Request,
    db: DB,
    me: Principal,
    form: ProductForm,
    product: Product | None,
    brands: list[Organisation],
    error: ValidationFailed | None = None,
) -> Response:
    base_id = (
        product.base_id
        if product
        else next((b.base_id for b in brands if b.id == form.org_id), brands[0].base_id)
    )
    warehouses = bases.list_warehouses(db, me, base_id)
    field_name = ""
    if error is not None and error.fields:
        field_name = error.fields[0]["loc"].removeprefix("body.").split(".")[0]
    return render(
        request,
        "catalog/edit.html",
        me,
        status_code=422 if error else 200,
        form=form,
        product=product,
        brands=brands,
        warehouses=warehouses,
        held=held_reason(product) if product else None,
        error=error,
        error_field=field_name,
        saved=request.query_params.get("saved") == "1",
        max_new_images=MAX_NEW_IMAGES,
    )


@dataclass
class _Parsed:
    title: str
    description: str
    skus: list[tuple[str, catalog.SkuSpec, int | None]]
    cross_border: catalog.CrossBorder | None


def _parse(form: ProductForm, default_attr: str = DEFAULT_ATTR["zh"]) -> _Parsed:
    title = form.title.strip()
    if not 1 <= len(title) <= 120:
        raise ValidationFailed("A title is 1–120 characters.", loc="title")
    skus: list[tuple[str, catalog.SkuSpec, int | None]] = []
    for n, row in enumerate(form.rows):
        if not (row.sku_id or row.attrs.strip() or row.price.strip() or row.stock.strip()):
            continue  # an untouched blank row
        spec = catalog.SkuSpec(
            attrs=parse_attrs(row.attrs, f"sku_attrs.{n}", default_attr),
            price_fen=parse_yuan(row.price, f"sku_price.{n}"),
            stock=parse_count(row.stock, f"sku_stock.{n}"),
            code=row.code.strip()[:64] or None,
        )
        read = row.stock_read.strip()
        skus.append((row.sku_id, spec, int(read) if read.isdigit() and read.isascii() else None))
    if not skus:
        raise ValidationFailed(
            "A product needs at least one SKU with a price and stock.", loc="sku_price.0"
        )
    cross_border = None
    if form.cb_enabled:
        cb = form.cb
        hs_code = cb.get("hs_code", "").strip()
        origin = cb.get("origin_country", "").strip().upper()
        if not (len(hs_code) == 8 and hs_code.isdigit() and hs_code.isascii()):
            raise ValidationFailed("The HS code has 8 digits.", loc="hs_code")
        if not (len(origin) == 2 and origin.isalpha() and origin.isascii()):
            raise ValidationFailed(
                "The origin is a 2-letter country code, e.g. JP.", loc="origin_country"
            )
        if not cb.get("warehouse_id"):
            raise ValidationFailed("Choose the bonded warehouse.", loc="warehouse_id")
        cross_border = catalog.CrossBorder(
            hs_code,
            origin,
            parse_percent_bp(cb.get("tariff_pct", "") or "0", "tariff_pct"),
            parse_percent_bp(cb.get("vat_pct", ""), "vat_pct"),
            parse_percent_bp(cb.get("ct_pct", "") or "0", "ct_pct"),
            cb["warehouse_id"],
        )
        if cross_border.consumption_tax_rate_bp >= 10000:
            raise ValidationFailed("Consumption tax is under 100%.", loc="ct_pct")
    return _Parsed(title, form.description, skus, cross_border)


class EditorFields:
    """The editor form as posted; both the new-product and the edit handlers take it."""

    def __init__(
        self,
        title: FormText = "",
        description: FormText = "",
        sku_id: FormList = [],  # noqa: B006 (FastAPI copies defaults)
        sku_attrs: FormList = [],  # noqa: B006 (FastAPI copies defaults)
        sku_price: FormList = [],  # noqa: B006 (FastAPI copies defaults)
        sku_stock: FormList = [],  # noqa: B006 (FastAPI copies defaults)
        sku_code: FormList = [],  # noqa: B006 (FastAPI copies defaults)
        sku_stock_read: FormList = [],  # noqa: B006 (FastAPI copies defaults)
        cb_enabled: FormText = "",
        hs_code: FormText = "",
        origin_country: FormText = "",
        tariff_pct: FormText = "",
        vat_pct: FormText = "",
        ct_pct: FormText = "",
        warehouse_id: FormText = "",
        csrf_token: FormText = "",
    ) -> None:
        self.title, self.description = title, description
        self.sku_id, self.sku_attrs, self.sku_code = sku_id, sku_attrs, sku_code
        self.sku_price, self.sku_stock = sku_price, sku_stock
        self.sku_stock_read = sku_stock_read
        self.cb_enabled = cb_enabled == "1"
        self.cb = {
            "hs_code": hs_code,
            "origin_country": origin_country,
            "tariff_pct": tariff_pct,
            "vat_pct": vat_pct,
            "ct_pct": ct_pct,
            "warehouse_id": warehouse_id,
        }
        self.csrf_token = csrf_token

    def form(self, org_id: str, attrs: list[str] | None = None) -> ProductForm:
        """What was typed, as the editor shows it again; ``attrs`` replaces the posted
        attributes (an existing SKU's come from the database, never from the form)."""
        sku_attrs = self.sku_attrs if attrs is None else attrs
        count = max(len(sku_attrs), len(self.sku_price), len(self.sku_stock))

        def at(values: list[str], i: int) -> str:
            return values[i] if i < len(values) else ""

        rows = [
            SkuRow(
                at(self.sku_id, i),
                at(sku_attrs, i),
                at(self.sku_price, i),
                at(self.sku_stock, i),
                at(self.sku_code, i),
                at(self.sku_stock_read, i),
            )
            for i in range(count)
        ]
        return ProductForm(org_id, self.title, self.description, rows, self.cb_enabled, self.cb)


Fields = Annotated[EditorFields, Depends()]


def _read_pictures(files: list[UploadFile]) -> list[bytes]:
    chosen = [f for f in files if f.filename]  # an empty file input still sends a part
    if len(chosen) > MAX_NEW_IMAGES:
        raise FieldError(
            "Too many pictures.", loc="images", key="form.err.images_many", n=MAX_NEW_IMAGES
        )
    return [f.file.read() for f in chosen]


def _store_pictures(
    db: DB, me: Principal, product: Product, pictures: list[bytes], settings: Settings
) -> None:
    """Store the new product's pictures in the form's order, as the editor's uploads do."""
    for data in pictures:
        image_id = new_id("img")
        try:
            stored = store_image(
                data,
                settings.uploads_dir,
                f"products/{product.id}",
                image_id,
                settings.upload_limit,
            )
        except ApiError as exc:  # not an image, too large, too many pixels
            raise FieldError(exc.detail, loc="images", key="form.err.images") from exc
        catalog.do_add_image(db, me, product, stored, image_id, uploads_dir=settings.uploads_dir)


@router.get("/merchant/products/new", response_class=HTMLResponse)
def new_product(request: Request, db: DB, me: SignedIn) -> Response:
    brands = _brands(db, me)
    form = ProductForm(org_id=brands[0].id, rows=[SkuRow() for _ in range(BLANK_ROWS)])
    return _editor(request, db, me, form, None, brands)


@router.post("/merchant/products/new", response_class=HTMLResponse)
def create_product(
    request: Request,
    db: DB,
    me: SignedIn,
    fields: Fields,
    org_id: Annotated[str, Form(max_length=40)] = "",
    images: Files = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    check_form_csrf(request, me, fields.csrf_token)
    brands = _brands(db, me)
    form = fields.form(org_id)
    try:
        parsed = _parse(form, DEFAULT_ATTR[pick_lang(request)])
        pictures = _read_pictures(images)
        catalog.check_create_product(db, me, org_id)
        product = catalog.do_create_product(
            db,
            me,
            org_id,
            parsed.title,
            parsed.description,
            [spec for _, spec, _ in parsed.skus],
            parsed.cross_border,
        )
        _store_pictures(db, me, product, pictures, get_runtime(request).settings)
    except ValidationFailed as exc:
        db.rollback()
        return _editor(request, db, me, form, None, brands, exc)
    db.commit()
    return redirect(f"/merchant/products/{product.id}?saved=1")


@router.get("/merchant/products/{product_id}", response_class=HTMLResponse)
def edit_product(request: Request, product_id: str, db: DB, me: SignedIn) -> Response:
    product = catalog.check_manage_product(db, me, product_id)
    if product.status == "deleted":  # nothing left to edit; the API still shows the record
        raise NotFound(f"No product {product_id}.")
    return _editor(request, db, me, _form_of(product), product, _brands(db, me))


def _apply_edit(db: DB, me: Principal, product: Product, parsed: _Parsed) -> None:
    """One form, one transaction: text and cross-border fields, then each SKU's price and
    stock. Title and description are only sent when they changed, because a change sends
    the listing through compliance again."""
    title = parsed.title if parsed.title != product.title else None
    description = parsed.description if parsed.description != product.description else None
    catalog.do_update_product(
        db,
        me,
        product,
        title=title,
        description=description,
        cross_border=parsed.cross_border,
        cross_border_given=True,
    )
    known = {s.id: s for s in product.skus}
    for sku_id, spec, read in parsed.skus:
        sku = known.get(sku_id)
        if not sku_id:
            catalog.do_add_sku(db, me, product, spec)
        elif sku is None:
            raise ValidationFailed("That SKU is not part of this product.", loc="sku_id")
        else:
            # Without the figure the form showed (an old form), compare with now.
            shown = sku.stock if read is None else read
            price = spec.price_fen if spec.price_fen != sku.price_fen else None
            stock = catalog.StockEdit(spec.stock, read=shown) if spec.stock != shown else None
            if price is not None or stock is not None:
                catalog.do_update_sku(db, me, sku, price, stock)


@router.post("/merchant/products/{product_id}", response_class=HTMLResponse)
def update_product(
    request: Request, product_id: str, db: DB, me: SignedIn, fields: Fields
) -> Response:
    check_form_csrf(request, me, fields.csrf_token)
    product = catalog.check_manage_product(db, me, product_id)
    attrs_of = {s.id: attrs_text(s.attrs) for s in product.skus}
    attrs = [
        attrs_of.get(i, "") if i else (fields.sku_attrs[n] if n < len(fields.sku_attrs) else "")
        for n, i in enumerate(fields.sku_id)
    ]
    form = fields.form(product.org_id, attrs)
    try:
        _apply_edit(db, me, product, _parse(form, DEFAULT_ATTR[pick_lang(request)]))
    except ValidationFailed as exc:
        db.rollback()
        product = catalog.check_manage_product(db, me, product_id)
        return _editor(request, db, me, form, product, _brands(db, me), exc)
    db.commit()
    return redirect(f"/merchant/products/{product_id}?saved=1")


@router.post("/merchant/products/{product_id}/delete")
def delete_product(
    request: Request, product_id: str, db: DB, me: SignedIn, csrf_token: FormText = ""
) -> Response:
    check_form_csrf(request, me, csrf_token)
    catalog.do_delete_product(db, me, catalog.check_manage_product(db, me, product_id))
    db.commit()
    return redirect("/merchant/products?deleted=1")


# ---- the public product page ------------------------------------------------------------


@router.get("/products/{product_id}", response_class=HTMLResponse)
def product_page(request: Request, product_id: str, db: DB, user: PageUser) -> Response:
    """What a viewer opens from a show's shelf: pictures, variants with prices, the
    description, and the live and upcoming shows that sell it. Held and rejected
    listings are visible only to the people who may see them (catalog.get_product)."""
    from livebase.shows import service as shows  # shows imports catalog; not back at import

    product = catalog.get_product(db, user, product_id)
    if product.status == "deleted":
        raise NotFound(f"No product {product_id}.")
    brand = bases.get_org(db, product.org_id)
    return render(
        request,
        "catalog/product.html",
        user,
        product=product,
        brand=brand,
        showing=shows.shows_selling(db, [s.id for s in product.skus]),
        can_manage=user is not None and bases.is_org_staff(user, product.org_id),
    )
