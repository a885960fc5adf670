from __future__ import annotations

from fastapi.testclient import TestClient

from livebase.runtime import Runtime


def test_healthz_and_readyz_answer_when_the_database_does(client: TestClient, rt: Runtime) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    r = client.get("/readyz")
    assert r.status_code == 200
    checks = r.json()["checks"]
    assert checks["database"] == "ok"
    if rt.redis is not None:
        assert checks["redis"] == "ok"


def test_readyz_is_503_when_the_database_is_gone(rt: Runtime) -> None:
    from livebase.app import create_app
    from livebase.db import build_engine, build_sessionmaker
    from livebase.ratelimit import MemoryRateLimiter

    dead = build_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    broken = Runtime(rt.settings, dead, build_sessionmaker(dead), MemoryRateLimiter())
    with TestClient(create_app(runtime=broken)) as c:
        r = c.get("/readyz")
    assert r.status_code == 503
    assert r.json()["error"] == "not_ready" and "database" in r.json()["checks"]


def test_openapi_document_is_served_under_the_api_prefix(client: TestClient) -> None:
    doc = client.get("/api/v1/openapi.json").json()
    assert "/api/v1/products" in doc["paths"] and "/api/v1/shows/{show_id}/shelf" in doc["paths"]


def test_unknown_route_is_a_json_404(client: TestClient) -> None:
    r = client.get("/api/v1/nothing-here")
    assert r.status_code == 404 and r.json()["error"] == "not_found"


def test_every_response_carries_a_request_id(client: TestClient) -> None:
    assert len(client.get("/healthz").headers["x-request-id"]) == 12
