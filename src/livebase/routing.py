"""A literal-prefix filter in front of FastAPI's included routers.

FastAPI (0.165) keeps every ``include_router`` as an ``_IncludedRouter`` and, for each
request, asks the routers one after the other whether one of their routes matches; a
router that does not match still tries each of its routes (a regular expression and some
scope bookkeeping each). With about forty routers and two hundred routes, a request for a
route near the end (the flash-sale order, a show page) spent more time finding its route
than in its handler (docs/http.md, "Finding the route", has the figures).

Every route's path starts with literal text up to its first ``{`` (``/api/v1/flash-sales/``
for ``/api/v1/flash-sales/{sale_id}/orders``), and a path that does not start with it
cannot match that route's regular expression. :func:`install` gives each included router
the set of its routes' literal prefixes (and exact paths, for routes without parameters)
and lets it answer "no match" at once for any other path; otherwise it asks FastAPI as
before, so what matches, in which order, is unchanged. Routes are fixed once the app is
built (:func:`livebase.app.create_app` calls this last).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from fastapi import FastAPI
from fastapi.routing import _IncludedRouter
from starlette._utils import get_route_path
from starlette.routing import BaseRoute, Match
from starlette.types import Scope


def _paths(router: _IncludedRouter, context: Any = None) -> Iterable[str | None]:
    """Every path an included router can match, read from the routes as declared plus the
    include prefixes. Not from ``effective_candidates()``: FastAPI builds those lazily
    (a dependency tree and pydantic adapters per route, 0.6 s for the whole app), and a
    test suite builds hundreds of apps that each serve a few requests."""
    context = context or router.include_context
    routes = [*router.original_router.routes, *router.original_router._low_priority_routes]
    for route in routes:
        if isinstance(route, _IncludedRouter):
            child = _IncludedRouter(
                original_router=route.original_router,
                include_context=context.combine(route.include_context),
            )
            yield from _paths(child)
            continue
        path = getattr(route, "path", None)
        yield context.path_for(route) if isinstance(path, str) and path else None


def literal_filter(router: _IncludedRouter) -> tuple[frozenset[str], tuple[str, ...]] | None:
    """The exact paths and literal prefixes of a router's routes; None when some route's
    path is unknown (never filter that router)."""
    exact: set[str] = set()
    prefixes: set[str] = set()
    for path in _paths(router):
        if path is None:
            return None
        head, brace, _ = path.partition("{")
        if brace:
            prefixes.add(head)
        else:
            exact.add(path)
    if "" in prefixes:  # a route starting with a parameter: anything may match it
        return None
    return frozenset(exact), tuple(sorted(prefixes))


Matcher = Callable[[Scope], tuple[Match, Scope]]


def _filtered(matches: Matcher, exact: frozenset[str], prefixes: tuple[str, ...]) -> Matcher:
    def filtered(scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket"):
            path = get_route_path(scope)
            if path not in exact and not path.startswith(prefixes):
                return Match.NONE, {}
        return matches(scope)

    return filtered


def install(app: FastAPI) -> int:
    """Put the filter on each of the app's included routers; returns how many got one."""
    n = 0
    routes: list[BaseRoute] = app.router.routes
    for route in routes:
        if not isinstance(route, _IncludedRouter):
            continue
        found = literal_filter(route)
        if found is None:
            continue
        exact, prefixes = found
        # An instance attribute: the router's own class and FastAPI stay as they are.
        route.matches = _filtered(route.matches, exact, prefixes)  # type: ignore[method-assign,assignment]
        n += 1
    return n
