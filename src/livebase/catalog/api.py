from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.concurrency import run_in_threadpool

from livebase.catalog import service
from livebase.catalog.models import Product, ProductImage, Sku
from livebase.catalog.schemas import CrossBorderIn, ProductIn, ProductPatch, SkuIn, SkuPatch
from livebase.db import new_id
from livebase.errors import ValidationFailed
from livebase.http import (
    DB,
    NO_BODY,
    MaybeMe,
    Me,
    Page,
    RuntimeDep,
    page_of,
    paged,
    read_upload,
    require_json,
    require_multipart,
)
from livebase.schemas import rfc3339
from livebase.uploads.images import store_image

ProductPage = Annotated[Page, Depends(page_of("prd"))]

router = APIRouter(prefix="/api/v1", tags=["catalog"], dependencies=[Depends(require_json)])
uploads = APIRouter(prefix="/api/v1", tags=["catalog"], dependencies=[Depends(require_multipart)])


def sku_out(sku: Sku) -> dict[str, Any]:
    return {
        "id": sku.id,
        "product_id": sku.product_id,
        "code": sku.code,
        "attrs": sku.attrs,
        "price_fen": sku.price_fen,
        "stock": sku.stock,
    }


def image_out(img: ProductImage) -> dict[str, Any]:
    return {
        "id": img.id,
        "url": f"/uploads/{img.path}",
        "thumb_url": f"/uploads/{img.thumb_path}",
        "content_type": img.content_type,
        "width": img.width,
        "height": img.height,
    }


def product_out(p: Product) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": p.id,
        "org_id": p.org_id,
        "base_id": p.base_id,
        "title": p.title,
        "description": p.description,
        "status": p.status,
        "skus": [sku_out(s) for s in p.skus],
        "images": [image_out(i) for i in service.shown_images(p)],
        "cross_border": None,
        "created_at": rfc3339(p.created_at),
        "updated_at": rfc3339(p.updated_at),
    }
    if p.moderation:
        out["moderation"] = p.moderation
    if p.hs_code:
        out["cross_border"] = {
            "hs_code": p.hs_code,
            "origin_country": p.origin_country,
            "tariff_rate_bp": p.tariff_rate_bp,
            "vat_rate_bp": p.vat_rate_bp,
            "consumption_tax_rate_bp": p.consumption_tax_rate_bp,
            "warehouse_id": p.warehouse_id,
        }
    return out


def _cross_border(cb: CrossBorderIn | None) -> service.CrossBorder | None:
    return service.CrossBorder(**cb.model_dump()) if cb else None


@router.post("/products", status_code=201)
def create_product(body: ProductIn, me: Me, db: DB) -> dict[str, Any]:
    service.check_create_product(db, me, body.org_id)
    product = service.do_create_product(
        db,
        me,
        body.org_id,
        body.title,
        body.description,
        [service.SkuSpec(s.attrs, s.price_fen, s.stock, s.code) for s in body.skus],
        _cross_border(body.cross_border),
    )
    db.commit()
    return product_out(product)


@router.get("/products")
def list_products(
    db: DB,
    me: MaybeMe,
    page: ProductPage,
    org_id: Annotated[str | None, Query(max_length=40)] = None,
    status: Annotated[str | None, Query(pattern="^(active|held|rejected|deleted)$")] = None,
) -> dict[str, Any]:
    rows = service.list_products(
        db, me, org_id=org_id, status=status, limit=page.limit, cursor=page.cursor
    )
    return paged([product_out(p) for p in rows], page)


@router.get("/products/{product_id}")
def get_product(product_id: str, db: DB, me: MaybeMe) -> dict[str, Any]:
    return product_out(service.get_product(db, me, product_id))


@router.patch("/products/{product_id}")
def update_product(product_id: str, body: ProductPatch, me: Me, db: DB) -> dict[str, Any]:
    if not body.model_fields_set:
        raise ValidationFailed("Send at least one field to change.", loc="body")
    product = service.check_manage_product(db, me, product_id)
    service.do_update_product(
        db,
        me,
        product,
        title=body.title,
        description=body.description,
        cross_border=_cross_border(body.cross_border),
        cross_border_given="cross_border" in body.model_fields_set,
    )
    db.commit()
    db.refresh(product)
    return product_out(product)


@router.delete("/products/{product_id}", status_code=204, dependencies=[NO_BODY])
def delete_product(product_id: str, me: Me, db: DB) -> None:
    service.do_delete_product(db, me, service.check_manage_product(db, me, product_id))
    db.commit()


@router.post("/products/{product_id}/skus", status_code=201)
def add_sku(product_id: str, body: SkuIn, me: Me, db: DB) -> dict[str, Any]:
    product = service.check_manage_product(db, me, product_id)
    sku = service.do_add_sku(
        db, me, product, service.SkuSpec(body.attrs, body.price_fen, body.stock, body.code)
    )
    db.commit()
    return sku_out(sku)


@router.patch("/skus/{sku_id}")
def update_sku(sku_id: str, body: SkuPatch, me: Me, db: DB) -> dict[str, Any]:
    if not body.model_fields_set:
        raise ValidationFailed("Send price_fen or stock.", loc="body")
    if body.expected_stock is not None and body.stock is None:
        raise ValidationFailed("expected_stock goes with stock.", loc="body.expected_stock")
    sku = service.check_update_sku(db, me, sku_id)
    stock = (
        service.StockEdit(body.stock, expected=body.expected_stock)
        if body.stock is not None
        else None
    )
    service.do_update_sku(db, me, sku, body.price_fen, stock)
    db.commit()
    return sku_out(sku)


@uploads.post("/products/{product_id}/images", status_code=201)
async def upload_image(
    product_id: str, request: Request, me: Me, db: DB, rt: RuntimeDep
) -> dict[str, Any]:
    # Authorise before reading the upload, so a stranger's file is never stored. Database
    # and Pillow work run in the threadpool to keep the event loop free.
    product = await run_in_threadpool(service.check_manage_product, db, me, product_id)
    data = await read_upload(request, rt.settings.upload_limit)

    def _store() -> ProductImage:
        image_id = new_id("img")
        stored = store_image(
            data,
            rt.settings.uploads_dir,
            f"products/{product.id}",
            image_id,
            rt.settings.upload_limit,
        )
        image = service.do_add_image(
            db, me, product, stored, image_id, uploads_dir=rt.settings.uploads_dir
        )
        db.commit()
        return image

    return image_out(await run_in_threadpool(_store))
