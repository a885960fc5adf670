"""What the API answers when things go wrong, on real servers where it matters:

- an unhandled error is a JSON 500 with the request id (also in X-Request-Id and in the
  log) and the client's next request on the same keep-alive connection works;
- a 405 lists, in Allow, every method the path answers;
- forwarded headers are believed only from the proxies LIVEBASE_TRUSTED_PROXIES names;
- a text the database cannot store never reaches it, so a refused listing cannot break
  the public catalog afterwards.
"""

from __future__ import annotations

import importlib.util
import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic.migration import MigrationContext
from alembic.operations import Operations
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import update

from livebase.app import create_app
from livebase.catalog.models import Sku
from livebase.runtime import Runtime
from tests.conftest import World, product_body
from tests.live_server import cli_serve, in_thread, livebase_env, migrate

# --- 500: one error format, and the connection lives on -------------------------------


class Boom(RuntimeError):
    """What a bug in a route raises."""


@pytest.fixture
def app_with_a_bug(rt: Runtime) -> FastAPI:
    app = create_app(runtime=rt)

    @app.get("/api/v1/test-only/port")
    def port(request: Request) -> dict[str, Any]:
        assert request.client is not None
        return {"port": request.client.port}

    @app.get("/api/v1/test-only/boom")
    def boom() -> None:
        raise Boom("a bug in a sync route")

    @app.post("/api/v1/test-only/boom-async")
    async def boom_async() -> None:
        raise Boom("a bug in an async route")

    return app


def test_an_unhandled_error_is_a_json_500_with_a_request_id_and_the_connection_survives(
    app_with_a_bug: FastAPI, caplog: pytest.LogCaptureFixture
) -> None:
    with in_thread(app_with_a_bug) as url, httpx.Client(base_url=url) as client:
        first = client.get("/api/v1/test-only/port").json()["port"]
        for method, path in [("GET", "boom"), ("POST", "boom-async")]:
            r = client.request(method, f"/api/v1/test-only/{path}")
            assert r.status_code == 500
            assert r.headers["content-type"] == "application/json"
            body = r.json()
            assert set(body) == {"error", "detail", "request_id"}
            assert body["error"] == "internal_error" and body["detail"]
            assert body["request_id"] == r.headers["x-request-id"]
            logged = [str(rec.msg) for rec in caplog.records if rec.levelno >= logging.ERROR]
            assert any(body["request_id"] in line and "Boom" in line for line in logged)
            # The same connection (the server sees the same client port) answers next.
            again = client.get("/api/v1/test-only/port")
            assert again.status_code == 200 and again.json()["port"] == first
        assert client.get("/healthz").status_code == 200


# --- 405: Allow lists every method of the path ----------------------------------------

ALLOW = [
    ("/api/v1/products/prd_x", "PUT", "DELETE, GET, PATCH"),
    ("/api/v1/shows/show_x", "DELETE", "GET, PATCH"),
    ("/api/v1/bases/base_x/pickup-counters", "DELETE", "GET, POST"),
    ("/api/v1/products", "DELETE", "GET, POST"),
    ("/api/v1/skus/sku_x", "GET", "PATCH"),
    ("/api/v1/auth/tokens/current", "GET", "DELETE"),
]


@pytest.mark.parametrize("path, method, allow", ALLOW, ids=[f"{m} {p}" for p, m, _ in ALLOW])
def test_a_405_lists_every_method_the_path_answers(
    client: TestClient, path: str, method: str, allow: str
) -> None:
    r = client.request(method, path)
    assert r.status_code == 405
    assert r.headers["allow"] == allow
    assert r.json()["error"] == "method_not_allowed" and r.json()["detail"]


# --- forwarded headers: trusted only from the proxies named ---------------------------


@pytest.fixture(scope="module")
def served_data(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    data = tmp_path_factory.mktemp("forwarded")
    migrate(livebase_env(data))
    yield data


def _failed_sign_ins(url: str, n: int) -> list[int]:
    """n wrong passwords for n different names, each claiming another forwarded address."""
    out = []
    with httpx.Client(base_url=url, timeout=10) as client:
        for i in range(n):
            r = client.post(
                "/api/v1/auth/tokens",
                json={"username": f"nobody{i}", "password": "wrong-password"},
                headers={"X-Forwarded-For": f"198.51.100.{i + 1}"},
            )
            out.append(r.status_code)
    return out


def test_x_forwarded_for_is_ignored_unless_the_proxy_is_trusted(served_data: Path) -> None:
    # One failure per account, so four per address (DESIGN §1: four times the account's).
    env = livebase_env(served_data, LIVEBASE_LOGIN_MAX_FAILURES="1")
    with cli_serve(env, served_data / "untrusted.log") as url:
        # Every attempt comes from 127.0.0.1, whatever the header claims: the fifth is 429.
        assert _failed_sign_ins(url, 5) == [401, 401, 401, 401, 429]
    env = livebase_env(
        served_data, LIVEBASE_LOGIN_MAX_FAILURES="1", LIVEBASE_TRUSTED_PROXIES="127.0.0.1"
    )
    with cli_serve(env, served_data / "trusted.log") as url:
        # Behind a trusted proxy each forwarded address counts on its own.
        assert _failed_sign_ins(url, 5) == [401] * 5


# --- text the database cannot store never reaches it ----------------------------------


def _post_json(client: TestClient, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    # JSON escapes a lone surrogate as "\udfff"; httpx's `json=` cannot even encode one.
    return client.post(
        path,
        content=json.dumps(body).encode(),
        headers={**headers, "Content-Type": "application/json"},
    )


def test_a_lone_surrogate_in_sku_attrs_is_refused_and_the_catalog_stays_readable(
    client: TestClient, world: World
) -> None:
    auth = world["merchant_a1"].auth
    good = client.post("/api/v1/products", json=product_body(world.brand_a1), headers=auth)
    assert good.status_code == 201
    product_id = good.json()["id"]
    bad = product_body(world.brand_a1)
    bad["skus"][0]["attrs"] = {"颜色": "\udfff"}
    r = _post_json(client, "/api/v1/products", bad, auth)
    assert r.status_code == 422 and r.json()["error"] == "validation_failed"
    assert "body.skus.0.attrs.颜色" in [f["loc"] for f in r.json()["fields"]]
    sku = {"attrs": {"\udfff": "灰"}, "price_fen": 100, "stock": 1}
    r = _post_json(client, f"/api/v1/products/{product_id}/skus", sku, auth)
    assert r.status_code == 422 and r.json()["error"] == "validation_failed"
    # Nothing was stored, so everybody's pages still answer.
    listed = client.get("/api/v1/products")
    assert listed.status_code == 200 and [p["id"] for p in listed.json()["items"]] == [product_id]
    one = client.get(f"/api/v1/products/{product_id}")
    assert one.status_code == 200 and len(one.json()["skus"]) == 2
    mine = client.get("/api/v1/products", params={"status": "deleted"}, headers=auth)
    assert mine.status_code == 200


def _migration(name: str) -> Any:
    path = Path(__file__).resolve().parents[1] / "migrations" / "versions" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_repairs_a_surrogate_stored_before_the_fix(
    client: TestClient, world: World, rt: Runtime
) -> None:
    # Given a SKU stored as the old code stored it (the JSON escape of a lone surrogate)...
    r = client.post(
        "/api/v1/products", json=product_body(world.brand_a1), headers=world["merchant_a1"].auth
    )
    product = r.json()
    with rt.engine.begin() as conn:
        conn.execute(
            update(Sku).where(Sku.id == product["skus"][0]["id"]).values(attrs={"颜色": "红\udfff"})
        )
    assert client.get(f"/api/v1/products/{product['id']}").status_code == 500
    # ...the migration replaces it, and the product answers again.
    with rt.engine.begin() as conn, Operations.context(MigrationContext.configure(conn)):
        _migration("0004_api_storable_text").upgrade()
    r = client.get(f"/api/v1/products/{product['id']}")
    assert r.status_code == 200 and r.json()["skus"][0]["attrs"] == {"颜色": "红\ufffd"}
