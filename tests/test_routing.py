"""The literal-prefix filter (livebase.routing) changes how fast a route is found, never
which one: every route of the app resolves to the same endpoint with and without it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import _IncludedRouter
from starlette.routing import Match

from livebase import routing
from livebase.app import create_app
from livebase.runtime import Runtime


def _leaf_paths(app: FastAPI) -> list[tuple[str, str]]:
    out = []
    for route in app.router.routes:
        if isinstance(route, _IncludedRouter):
            for c in route.effective_candidates():
                for method in sorted(getattr(c, "methods", None) or {"GET"}):
                    p = getattr(c, "path", None)
                    if isinstance(p, str):
                        out.append((method, p))
    return out


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


def _resolve(app: FastAPI, method: str, path: str) -> Any:
    scope = {"type": "http", "path": path, "method": method, "root_path": "", "headers": []}
    for route in app.router.routes:
        match, child = route.matches(scope)
        if match == Match.FULL:
            if isinstance(route, _IncludedRouter):
                _, child, leaf, _ = route._match(scope)
                return getattr(leaf, "endpoint", leaf)
            return child.get("endpoint", route)
    return None


@pytest.fixture
def apps(rt: Runtime, monkeypatch: pytest.MonkeyPatch) -> tuple[FastAPI, FastAPI]:
    filtered = create_app(runtime=rt)
    monkeypatch.setattr(routing, "install", lambda app: 0)
    plain = create_app(runtime=rt)
    return filtered, plain


def test_every_route_resolves_to_the_same_endpoint_with_the_filter(
    apps: tuple[FastAPI, FastAPI],
) -> None:
    filtered, plain = apps
    leaves = _leaf_paths(plain)
    assert len(leaves) > 150
    probes = [(m, _concrete(p)) for m, p in leaves]
    probes += [("GET", "/nowhere"), ("GET", "/api/v1/products/"), ("POST", "/healthz")]
    for method, path in probes:
        assert _resolve(filtered, method, path) == _resolve(plain, method, path), (method, path)


def test_most_routers_get_a_filter_and_unknown_paths_still_get_the_404(
    rt: Runtime,
) -> None:
    app = create_app(runtime=rt)
    routers = [r for r in app.router.routes if isinstance(r, _IncludedRouter)]
    filtered = [r for r in routers if "matches" in vars(r)]
    assert len(filtered) >= len(routers) - 1  # a router whose first segment is a parameter
    from fastapi.testclient import TestClient

    with TestClient(app) as client:
        r = client.get("/api/v1/no-such-thing")
        assert r.status_code == 404 and r.json()["error"] == "not_found"
        assert client.get("/api/v1/products").status_code == 200
