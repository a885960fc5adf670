"""Products, SKUs, images and cross-border fields over the HTTP API."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from livebase.catalog.models import Product
from livebase.runtime import Runtime
from tests.conftest import World, product_body

CROSS_BORDER = {
    "hs_code": "33049900",
    "origin_country": "JP",
    "tariff_rate_bp": 0,
    "vat_rate_bp": 1300,
    "consumption_tax_rate_bp": 1500,
}


def _create(client: TestClient, world: World, **over: Any) -> dict[str, Any]:
    r = client.post(
        "/api/v1/products",
        json=product_body(world.brand_a1, **over),
        headers=world["merchant_a1"].auth,
    )
    assert r.status_code == 201, r.text
    body: dict[str, Any] = r.json()
    return body


def _jpeg_with_exif(size: tuple[int, int] = (1200, 900)) -> bytes:
    img = Image.new("RGB", size, (240, 200, 10))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "Model X"  # Model
    exif[0x8825] = {1: "N", 2: (39.0, 54.0, 27.0), 3: "E", 4: (116.0, 23.0, 50.0)}  # GPS
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    return buf.getvalue()


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGBA", (64, 32), (0, 0, 0, 0)).save(buf, format="PNG")
    return buf.getvalue()


def test_create_product_with_skus_returns_ids_prices_and_active_status(
    client: TestClient, world: World
) -> None:
    body = product_body(world.brand_a1)
    body["skus"][0]["code"] = "TS-WHITE-M"
    r = client.post("/api/v1/products", json=body, headers=world["merchant_a1"].auth)
    assert r.status_code == 201
    p = r.json()
    assert p["id"].startswith("prd_") and p["status"] == "active"
    assert p["org_id"] == world.brand_a1 and p["base_id"] == world.base_a
    assert "moderation" not in p and p["cross_border"] is None
    assert [(s["attrs"], s["price_fen"], s["stock"]) for s in p["skus"]] == [
        ({"颜色": "白", "尺码": "M"}, 9900, 10),
        ({"颜色": "黑", "尺码": "L"}, 9900, 5),
    ]
    assert p["skus"][0]["code"] == "TS-WHITE-M"
    assert all(s["id"].startswith("sku_") and s["product_id"] == p["id"] for s in p["skus"])
    assert client.get(f"/api/v1/products/{p['id']}").json() == p


def test_cross_border_fields_are_stored_and_returned(client: TestClient, world: World) -> None:
    cb = {**CROSS_BORDER, "warehouse_id": world.warehouse_a}
    p = _create(client, world, cross_border=cb)
    assert p["cross_border"] == cb
    # PATCH with cross_border null turns it back into a domestic product.
    r = client.patch(
        f"/api/v1/products/{p['id']}",
        json={"cross_border": None},
        headers=world["merchant_a1"].auth,
    )
    assert r.status_code == 200 and r.json()["cross_border"] is None


def test_cross_border_warehouse_must_belong_to_the_products_base(
    client: TestClient, world: World
) -> None:
    r = client.post(
        f"/api/v1/bases/{world.base_b}/warehouses",
        headers=world["op_b"].auth,
        json={"name": "顺义仓", "customs_code": "0102", "ems_no": "T0102W000001"},
    )
    other = r.json()["id"]
    r = client.post(
        "/api/v1/products",
        headers=world["merchant_a1"].auth,
        json=product_body(world.brand_a1, cross_border={**CROSS_BORDER, "warehouse_id": other}),
    )
    assert r.status_code == 422
    assert r.json()["fields"][0]["loc"] == "body.cross_border.warehouse_id"
    p = _create(client, world)
    r = client.patch(
        f"/api/v1/products/{p['id']}",
        headers=world["merchant_a1"].auth,
        json={"cross_border": {**CROSS_BORDER, "warehouse_id": other}},
    )
    assert r.status_code == 422
    assert client.get(f"/api/v1/products/{p['id']}").json()["cross_border"] is None


@pytest.mark.parametrize(
    "field, value",
    [
        ("hs_code", "3304990"),
        ("hs_code", "330499001"),
        ("hs_code", "3304.99.00"),
        ("hs_code", "３３０４９９００"),
        ("origin_country", "jp"),
        ("origin_country", "JPN"),
        ("tariff_rate_bp", -1),
        ("vat_rate_bp", 10001),
        ("consumption_tax_rate_bp", 1.5),
    ],
)
def test_cross_border_codes_and_rates_are_validated(
    client: TestClient, world: World, field: str, value: Any
) -> None:
    cb = {**CROSS_BORDER, "warehouse_id": world.warehouse_a, field: value}
    r = client.post(
        "/api/v1/products",
        json=product_body(world.brand_a1, cross_border=cb),
        headers=world["merchant_a1"].auth,
    )
    assert r.status_code == 422, r.text
    assert f"body.cross_border.{field}" in [f["loc"] for f in r.json()["fields"]]


@pytest.mark.parametrize(
    "title, term",
    [
        ("全网最低价 纯棉T恤", "最低价"),
        ("国家级工艺 真丝围巾", "国家级"),
        ("根治脱发 生姜洗发水", "根治"),
    ],
)
def test_a_listing_with_forbidden_claims_is_held_and_says_why(
    client: TestClient, world: World, title: str, term: str
) -> None:
    p = _create(client, world, title=title)
    assert p["status"] == "held"
    mod = p["moderation"]
    assert mod["verdict"] != "allow" and "ad_law" in mod["labels"]
    assert any(term in m["term"] or m["term"] in term for m in mod["matches"]), mod
    # Held listings are invisible to the public and to other brands, visible to its staff.
    assert client.get(f"/api/v1/products/{p['id']}").status_code == 404
    assert (
        client.get(f"/api/v1/products/{p['id']}", headers=world["merchant_a2"].auth).status_code
        == 404
    )
    own = client.get(f"/api/v1/products/{p['id']}", headers=world["merchant_a1"].auth)
    assert own.status_code == 200 and own.json()["moderation"] == mod


def test_a_claim_in_the_description_holds_the_listing_too(client: TestClient, world: World) -> None:
    p = _create(client, world, description="三天根治脱发，无效退款。")
    assert p["status"] == "held" and p["moderation"]["matches"]


def test_editing_a_held_listing_into_clean_text_makes_it_active(
    client: TestClient, world: World
) -> None:
    p = _create(client, world, title="全网最低价 T恤")
    r = client.patch(
        f"/api/v1/products/{p['id']}",
        json={"title": "重磅纯棉T恤"},
        headers=world["merchant_a1"].auth,
    )
    assert r.status_code == 200
    assert r.json()["status"] == "active" and "moderation" not in r.json()
    assert client.get(f"/api/v1/products/{p['id']}").status_code == 200


def test_editing_an_active_listing_into_a_claim_holds_it(client: TestClient, world: World) -> None:
    p = _create(client, world)
    r = client.patch(
        f"/api/v1/products/{p['id']}",
        json={"description": "国家级面料"},
        headers=world["merchant_a1"].auth,
    )
    assert r.status_code == 200 and r.json()["status"] == "held"
    assert client.get(f"/api/v1/products/{p['id']}").status_code == 404


def test_products_page_with_limit_and_cursor_until_next_cursor_is_null(
    client: TestClient, world: World
) -> None:
    made = {_create(client, world, title=f"商品{i}")["id"] for i in range(5)}
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"org_id": world.brand_a1, "limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/products", params=params).json()
        pages += 1
        assert len(page["items"]) <= 2
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert pages == 3 and len(seen) == 5 and set(seen) == made
    assert seen == sorted(seen, reverse=True)  # newest first, no repeats


def test_products_list_defaults_to_20_and_filters_by_org(client: TestClient, world: World) -> None:
    mine = _create(client, world)
    client.post(
        "/api/v1/products", json=product_body(world.brand_a2), headers=world["merchant_a2"].auth
    )
    page = client.get("/api/v1/products", params={"org_id": world.brand_a1}).json()
    assert [p["id"] for p in page["items"]] == [mine["id"]] and page["next_cursor"] is None
    assert len(client.get("/api/v1/products").json()["items"]) == 2
    for bad in ({"limit": 0}, {"limit": 101}, {"limit": "ten"}, {"status": "gone"}):
        r = client.get("/api/v1/products", params=bad)
        assert r.status_code == 422 and r.json()["error"] == "validation_failed", bad


def test_image_upload_stores_a_thumbnail_and_strips_exif(
    client: TestClient, world: World, rt: Runtime
) -> None:
    p = _create(client, world)
    original = _jpeg_with_exif()
    with Image.open(io.BytesIO(original)) as check:
        assert check.getexif().get(0x010F) == "PhoneMaker"  # the test input does carry EXIF
    r = client.post(
        f"/api/v1/products/{p['id']}/images",
        headers=world["merchant_a1"].auth,
        files={"file": ("IMG_0001.JPG", original, "image/jpeg")},
    )
    assert r.status_code == 201, r.text
    img = r.json()
    assert img["content_type"] == "image/jpeg" and (img["width"], img["height"]) == (1200, 900)
    stored = client.get(img["url"])
    assert stored.status_code == 200
    with Image.open(io.BytesIO(stored.content)) as im:
        assert im.format == "JPEG" and im.size == (1200, 900)
        assert len(im.getexif()) == 0 and "exif" not in im.info
    thumb = client.get(img["thumb_url"])
    assert thumb.status_code == 200
    with Image.open(io.BytesIO(thumb.content)) as th:
        assert max(th.size) <= 480 and th.size == (480, 360)
        assert len(th.getexif()) == 0
    on_disk = rt.settings.uploads_dir / img["url"].removeprefix("/uploads/")
    assert on_disk.is_file() and b"PhoneMaker" not in on_disk.read_bytes()
    listed = client.get(f"/api/v1/products/{p['id']}").json()["images"]
    assert [i["id"] for i in listed] == [img["id"]]


def test_a_real_png_named_txt_is_accepted_because_content_decides(
    client: TestClient, world: World
) -> None:
    p = _create(client, world)
    r = client.post(
        f"/api/v1/products/{p['id']}/images",
        headers=world["merchant_a1"].auth,
        files={"file": ("notes.txt", _png(), "text/plain")},
    )
    assert r.status_code == 201, r.text
    assert r.json()["content_type"] == "image/png" and r.json()["url"].endswith(".png")


def test_a_text_file_named_jpg_is_415_and_stores_nothing(
    client: TestClient, world: World, rt: Runtime
) -> None:
    p = _create(client, world)
    r = client.post(
        f"/api/v1/products/{p['id']}/images",
        headers=world["merchant_a1"].auth,
        files={"file": ("photo.jpg", "我不是图片".encode(), "image/jpeg")},
    )
    assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type"
    assert client.get(f"/api/v1/products/{p['id']}").json()["images"] == []
    assert not (rt.settings.uploads_dir / "products" / p["id"]).exists()


def test_sku_patch_changes_price_and_stock(client: TestClient, world: World) -> None:
    p = _create(client, world)
    sku = p["skus"][0]["id"]
    auth = world["merchant_a1"].auth
    r = client.patch(f"/api/v1/skus/{sku}", json={"price_fen": 7900}, headers=auth)
    assert r.status_code == 200 and (r.json()["price_fen"], r.json()["stock"]) == (7900, 10)
    r = client.patch(f"/api/v1/skus/{sku}", json={"stock": 0, "price_fen": 6900}, headers=auth)
    assert (r.json()["price_fen"], r.json()["stock"]) == (6900, 0)
    skus = client.get(f"/api/v1/products/{p['id']}").json()["skus"]
    assert [(s["price_fen"], s["stock"]) for s in skus] == [(6900, 0), (9900, 5)]
    r = client.patch(f"/api/v1/skus/{sku}", json={}, headers=auth)
    assert r.status_code == 422


def test_product_patch_changes_only_the_fields_sent(client: TestClient, world: World) -> None:
    p = _create(client, world)
    r = client.patch(
        f"/api/v1/products/{p['id']}",
        json={"title": "  新款T恤  "},
        headers=world["merchant_a1"].auth,
    )
    assert r.status_code == 200
    after = r.json()
    assert after["title"] == "新款T恤" and after["description"] == p["description"]
    assert after["skus"] == p["skus"]


def test_delete_is_soft_the_product_disappears_but_its_row_stays(
    client: TestClient, world: World, rt: Runtime
) -> None:
    p = _create(client, world)
    auth = world["merchant_a1"].auth
    r = client.delete(f"/api/v1/products/{p['id']}", headers=auth)
    assert r.status_code == 204 and r.content == b""
    assert client.get(f"/api/v1/products/{p['id']}").status_code == 404
    # The contract: deleted listings are seen only by their own organisation's staff.
    mine = client.get(f"/api/v1/products/{p['id']}", headers=auth)
    assert mine.status_code == 200 and mine.json()["status"] == "deleted"
    assert client.get(f"/api/v1/products/{p['id']}", headers=world["mod_a"].auth).status_code == 404
    assert (
        client.get("/api/v1/products", params={"org_id": world.brand_a1}, headers=auth).json()[
            "items"
        ]
        == []
    )
    trash = client.get(
        "/api/v1/products", params={"org_id": world.brand_a1, "status": "deleted"}, headers=auth
    )
    assert [x["id"] for x in trash.json()["items"]] == [p["id"]]
    assert (
        client.get(
            "/api/v1/products", params={"org_id": world.brand_a1, "status": "deleted"}
        ).json()["items"]
        == []
    )
    for method, url, body in [
        ("PATCH", f"/api/v1/products/{p['id']}", {"title": "x"}),
        ("PATCH", f"/api/v1/skus/{p['skus'][0]['id']}", {"stock": 1}),
        ("DELETE", f"/api/v1/products/{p['id']}", None),
    ]:
        r = client.request(method, url, json=body, headers=auth)
        assert r.status_code == 409 and r.json()["error"] == "conflict", (method, url)
    with rt.sessions() as db:
        row = db.scalar(select(Product).where(Product.id == p["id"]))
        assert row is not None and row.status == "deleted" and len(row.skus) == 2


def test_a_deleted_products_sku_cannot_go_on_a_shelf(client: TestClient, world: World) -> None:
    p = _create(client, world)
    client.delete(f"/api/v1/products/{p['id']}", headers=world["merchant_a1"].auth)
    show = client.post(
        "/api/v1/shows",
        headers=world["host_a1"].auth,
        json={"org_id": world.brand_a1, "title": "直播", "scheduled_at": "2026-12-01T12:00:00Z"},
    ).json()
    r = client.put(
        f"/api/v1/shows/{show['id']}/shelf",
        headers=world["host_a1"].auth,
        json={"items": [{"sku_id": p["skus"][0]["id"]}]},
    )
    assert r.status_code == 422
