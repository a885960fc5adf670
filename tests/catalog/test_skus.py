"""Adding a variant (a colour, a size) to an existing listing through the API."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select

from livebase.catalog.models import Sku
from tests.conftest import World, product_body

NEW = {"attrs": {"颜色": "灰", "尺码": "XL"}, "price_fen": 10900, "stock": 7, "code": "T-G-XL"}


def _product(client: TestClient, world: World) -> dict:
    r = client.post(
        "/api/v1/products", json=product_body(world.brand_a1), headers=world["merchant_a1"].auth
    )
    assert r.status_code == 201
    return r.json()


def test_merchant_adds_a_variant_that_lists_after_the_others(
    client: TestClient, world: World
) -> None:
    p = _product(client, world)
    r = client.post(f"/api/v1/products/{p['id']}/skus", json=NEW, headers=world["merchant_a1"].auth)
    assert r.status_code == 201
    sku = r.json()
    assert sku["attrs"] == NEW["attrs"] and sku["price_fen"] == 10900 and sku["stock"] == 7
    skus = client.get(f"/api/v1/products/{p['id']}").json()["skus"]
    assert [s["id"] for s in skus] == [*(s["id"] for s in p["skus"]), sku["id"]]
    assert client.get(f"/api/v1/products/{p['id']}").json()["status"] == "active"


def test_adding_a_variant_is_refused_to_others_and_for_duplicates(
    client: TestClient, world: World
) -> None:
    p = _product(client, world)
    url = f"/api/v1/products/{p['id']}/skus"
    assert client.post(url, json=NEW, headers=world["merchant_a2"].auth).status_code == 403
    assert client.post(url, json=NEW, headers=world["host_a1"].auth).status_code == 403
    assert client.post(url, json=NEW).status_code == 401
    same = dict(NEW, attrs={"颜色": "白", "尺码": "M"}, code=None)
    r = client.post(url, json=same, headers=world["merchant_a1"].auth)
    assert r.status_code == 422 and r.json()["fields"][0]["loc"] == "body.attrs"
    for bad in (
        {**NEW, "price_fen": "100"},
        {**NEW, "stock": -1},
        {**NEW, "extra": 1},
        {"attrs": {}, "stock": 1},
    ):
        assert client.post(url, json=bad, headers=world["merchant_a1"].auth).status_code == 422, bad
    assert (
        client.post(
            "/api/v1/products/prd_missing/skus", json=NEW, headers=world["merchant_a1"].auth
        ).status_code
        == 404
    )
    client.delete(f"/api/v1/products/{p['id']}", headers=world["merchant_a1"].auth)
    r = client.post(url, json=NEW, headers=world["merchant_a1"].auth)
    assert r.status_code == 409
    with world.rt.sessions() as db:
        assert len(db.scalars(select(Sku).where(Sku.product_id == p["id"])).all()) == 2
