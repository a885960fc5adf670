import time, json
from fastapi.testclient import TestClient
from tests.conftest import World, product_body


def test_probe(client: TestClient, world: World, rt) -> None:
    if rt.extras["backend"] == "sqlite":
        pass
    t = time.perf_counter()
    m = world["merchant_a1"].auth
    r = client.post("/api/v1/products", json=product_body(world.brand_a1), headers=m)
    print("create", r.status_code, r.json()["status"])
    pid = r.json()["id"]
    sku = r.json()["skus"][0]["id"]
    def show(label, r):
        print(label, r.status_code, r.text[:200])
    show("nul title", client.post("/api/v1/products", json=product_body(world.brand_a1, title="a\x00b"), headers=m))
    show("nul path", client.get("/api/v1/products/abc%00def", headers=m))
    show("nul query", client.get("/api/v1/products?org_id=ab%00c", headers=m))
    show("big stock", client.patch(f"/api/v1/skus/{sku}", json={"stock": 2**40}, headers=m))
    show("bad utf8", client.post("/api/v1/products", content=b'{"title": "\xff\xfe"}', headers={**m, "content-type": "application/json"}))
    show("start malformed", client.post(f"/api/v1/shows/x/start", content=b'{', headers={**m, "content-type": "application/json"}))
    def gen():
        for _ in range(20):
            yield b" " * 100_000
    show("chunked", client.post("/api/v1/products", content=gen(), headers={**m, "content-type": "application/json"}))
    show("chunked upload", client.post(f"/api/v1/products/{pid}/images", content=gen(), headers={**m, "content-type": "multipart/form-data; boundary=xx"}))
    show("title null", client.patch(f"/api/v1/products/{pid}", json={"title": None}, headers=m))
    show("405", client.put(f"/api/v1/products/{pid}", json={"title": None}, headers=m))
    show("no body", client.post("/api/v1/products", headers=m))
    show("held list public", client.get("/api/v1/products?status=held"))
    print("elapsed", time.perf_counter() - t)
