"""The literal-prefix filter (livebase.routing) changes how fast a route is found, never
which one: every route of the app resolves to the same endpoint with and without it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIWebSocketRoute, _IncludedRouter
from starlette.routing import Match

from livebase import routing
from livebase.app import create_app
from livebase.runtime import Runtime


def _route_path(candidate: Any) -> str | None:
    """The path a route matches. The route itself knows it best: FastAPI's effective
    context of a websocket route carries an empty ``path`` (seen on 0.165), so an empty
    string there is not trusted; None when no path can be found."""
    inner = getattr(candidate, "starlette_route", None)
    for path in (getattr(inner, "path", None), getattr(candidate, "path", None)):
        if isinstance(path, str) and path:
            return path
    return None


def _leaf_paths(app: FastAPI) -> list[tuple[str, str]]:
    """(method, path) of every route; websocket routes come as ("WEBSOCKET", path)."""
    out: list[tuple[str, str]] = []

    def leaves(candidates: Any) -> Any:
        for c in candidates:
            if isinstance(c, _IncludedRouter):
                yield from leaves(c.effective_candidates())
            else:
                yield c

    for route in app.router.routes:
        if isinstance(route, _IncludedRouter):
            for c in leaves(route.effective_candidates()):
                p = _route_path(c)
                assert p is not None, c
                if isinstance(getattr(c, "starlette_route", None), APIWebSocketRoute):
                    out.append(("WEBSOCKET", p))
                    continue
                for method in sorted(getattr(c, "methods", None) or {"GET"}):
                    out.append((method, p))
    return out


def _concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "x1", path)


def _resolve(app: FastAPI, method: str, path: str) -> Any:
    scope: dict[str, Any] = {"type": "http", "path": path, "method": method}
    if method == "WEBSOCKET":
        scope = {"type": "websocket", "path": path}
    scope |= {"root_path": "", "headers": []}
    for route in app.router.routes:
        match, child = route.matches(scope)
        if match == Match.FULL:
            leaf: Any = route
            while isinstance(leaf, _IncludedRouter):  # routers may include routers
                _, child, leaf, _ = leaf._match(scope)
            if leaf is not route:
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
    probes += [("WEBSOCKET", "/ws/nowhere")]
    for method, path in probes:
        found = _resolve(filtered, method, path)
        assert found == _resolve(plain, method, path), (method, path)
    # The room socket is served before the router (livebase.sockets), on both apps.
    for app in (filtered, plain):
        assert app.sockets.match("/ws/shows/x1") is not None  # type: ignore[attr-defined]
        assert app.sockets.match("/ws/shows/") is None  # type: ignore[attr-defined]
        assert app.sockets.match("/ws/shows/x1/more") is None  # type: ignore[attr-defined]


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


def test_the_filter_reads_the_same_paths_as_fastapis_effective_routes(rt: Runtime) -> None:
    # The filter reads declared routes plus include prefixes (cheap); FastAPI's effective
    # contexts are what it matches against: they must name the same paths.
    app = create_app(runtime=rt)

    def effective(candidates: Any) -> Any:
        for c in candidates:
            if isinstance(c, _IncludedRouter):
                yield from effective(c.effective_candidates())
            else:
                yield _route_path(c)

    routers = [r for r in app.router.routes if isinstance(r, _IncludedRouter)]
    assert len(routers) > 30
    for router in routers:
        declared = sorted(p or "" for p in routing._paths(router))
        assert declared == sorted(p or "" for p in effective(router.effective_candidates()))
