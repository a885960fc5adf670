"""The OpenAPI document (``/api/v1/openapi.json``) made to say what the server does.

FastAPI describes the 2xx answers and a 422 body the server never sends (``detail`` a
list). This module rewrites each operation once, from what its route depends on, so no
route lists its errors by hand:

- one ``Error`` schema (``{error, detail, fields?}``), referenced by every error answer;
- the statuses an operation can answer: 401 where a token is read (an invalid one is 401
  even on a public route), 403 where one is required, 404 where the path names a
  resource, 400/409/413/415/422 on writes, 422 where parameters are validated, 429 where
  a rate limit applies, 405 and 503 everywhere (see ``_statuses``);
- a bearer security scheme, required or optional per route;
- the multipart body of the upload routes, which read their form themselves.

Request constraints (lengths, patterns, bounds, ``minProperties``) come from the request
models in ``*/schemas.py`` and ``livebase.schemas``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import RouteContext, iter_route_contexts

from livebase import http

_UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "Every 4xx and 5xx answer (DESIGN §4).",
    "required": ["error", "detail"],
    "properties": {
        "error": {"type": "string", "description": "A stable snake_case code."},
        "detail": {"type": "string", "description": "A sentence for people."},
        "fields": {
            "type": "array",
            "description": "For validation_failed: each refused field.",
            "items": {"$ref": "#/components/schemas/FieldError"},
        },
        "request_id": {"type": "string", "description": "For internal_error: in the log."},
    },
}
PAGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A page of a list (DESIGN §4): pass next_cursor as ?cursor= for the next.",
    "required": ["items", "next_cursor"],
    "properties": {
        "items": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id"],
                "properties": {"id": {"type": "string"}},
            },
        },
        "next_cursor": {"anyOf": [{"type": "string"}, {"type": "null"}]},
    },
    "additionalProperties": False,
}
FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["loc", "msg"],
    "properties": {
        "loc": {"type": "string", "description": "Where, e.g. body.skus.0.price_fen."},
        "msg": {"type": "string"},
    },
}

# status -> (name in components.responses, description, the codes it carries)
RESPONSES: dict[int, tuple[str, str]] = {
    400: (
        "MalformedJson",
        "malformed_json: the body is not UTF-8 JSON, or a required header "
        "(Idempotency-Key) is missing.",
    ),
    401: (
        "Unauthenticated",
        "unauthenticated or bad_credentials: no token, or a token that "
        "is invalid, expired or revoked.",
    ),
    403: ("Forbidden", "forbidden: signed in, but not allowed to do this."),
    404: ("NotFound", "not_found: no such resource, or one the caller may not see."),
    405: ("MethodNotAllowed", "method_not_allowed: the path exists; `Allow` lists its methods."),
    409: ("Conflict", "conflict or a domain code: the state does not allow this now."),
    413: ("PayloadTooLarge", "payload_too_large: JSON over 1 MiB, an upload over 10 MiB."),
    415: (
        "UnsupportedMediaType",
        "unsupported_media_type: not JSON (or not multipart for an "
        "upload), or an image that is not JPEG, PNG or WebP.",
    ),
    422: ("ValidationFailed", "validation_failed: `fields` names each refused field."),
    429: ("RateLimited", "rate_limited: too many attempts; see `Retry-After`."),
    503: ("Overloaded", "overloaded: the server sheds load; see `Retry-After`."),
}
# Routes whose service counts attempts (sign-in, sign-up, moderation dry runs).
RATE_LIMITED = {
    ("POST", "/api/v1/accounts"),
    ("POST", "/api/v1/auth/tokens"),
    ("POST", "/api/v1/moderation/checks"),
}
# Lists whose page carries a field beside items and next_cursor.
PAGE_EXTRAS: dict[tuple[str, str], dict[str, Any]] = {
    ("GET", "/api/v1/bases/{base_id}/scenes"): {
        "plan": {"type": "integer", "description": "The plan's target number of scenes."}
    },
}
# Statuses a route's service answers on its own, beyond what its dependencies say.
OWN_STATUSES = {("POST", "/api/v1/auth/tokens"): {401}}  # bad_credentials
UPLOAD_BODY: dict[str, Any] = {
    "required": True,
    "content": {
        "multipart/form-data": {
            "schema": {
                "type": "object",
                "required": ["file"],
                "properties": {
                    "file": {
                        "type": "string",
                        "format": "binary",
                        "description": "One JPEG, PNG or WebP image, at most 10 MiB.",
                    }
                },
                "additionalProperties": False,
            },
            "encoding": {"file": {"contentType": "image/jpeg, image/png, image/webp"}},
        }
    },
}


def _calls(dependant: Dependant) -> Iterator[Any]:
    for dep in dependant.dependencies:
        yield dep.call
        yield from _calls(dep)


def _has_query(dependant: Dependant) -> bool:
    return bool(dependant.query_params) or any(_has_query(d) for d in dependant.dependencies)


def _constrained_path(dependant: Dependant) -> bool:
    """A path parameter with a pattern or a length: a value outside it is 422, not 404."""
    return any(field.field_info.metadata for field in dependant.path_params)


def _statuses(route: RouteContext, method: str) -> set[int]:
    calls = set(_calls(route.dependant))
    out = {405, 503}
    if http.optional_principal in calls:
        out.add(401)
    if http.current_principal in calls:
        out |= {401, 403}
    if route.dependant.path_params:
        out.add(404)
    if _has_query(route.dependant) or _constrained_path(route.dependant):
        out.add(422)
    if method in _UNSAFE:
        # Any write may meet a state that refuses it, a body it cannot read or take, and
        # a cookie session without its CSRF header (403).
        out |= {400, 409, 413, 415, 422}
        if 401 in out:
            out.add(403)
    if (method, route.path_format) in RATE_LIMITED:
        out.add(429)
    out |= OWN_STATUSES.get((method, route.path_format or ""), set())
    return out


def _is_list(route: RouteContext) -> bool:
    """A route that pages: one of its dependencies is an ``http.page_of`` dependency."""
    return any(call in http.PAGE_DEPENDENCIES for call in _calls(route.dependant))


def _security(route: RouteContext) -> list[dict[str, list[str]]] | None:
    calls = set(_calls(route.dependant))
    if http.current_principal in calls:
        return [{"bearer": []}]
    if http.optional_principal in calls:
        return [{}, {"bearer": []}]
    return None


def _page_schema(method: str, path: str) -> dict[str, Any]:
    extras = PAGE_EXTRAS.get((method, path))
    if extras is None:
        return {"$ref": "#/components/schemas/Page"}
    schema = dict(PAGE_SCHEMA, properties=PAGE_SCHEMA["properties"] | extras)
    schema["required"] = [*PAGE_SCHEMA["required"], *extras]
    return schema


def build_document(app: FastAPI) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description="livebase's HTTP API. Errors: `Error`; lists page with limit and cursor.",
        routes=app.routes,
    )
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    schemas["Error"] = ERROR_SCHEMA
    schemas["FieldError"] = FIELD_ERROR_SCHEMA
    schemas["Page"] = PAGE_SCHEMA
    components["responses"] = {
        name: {
            "description": description,
            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
        }
        for name, description in RESPONSES.values()
    }
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "POST /api/v1/auth/tokens"}
    }
    # FastAPI keeps included routers nested; a route context is one route as mounted.
    for route in iter_route_contexts(app.routes):
        if route.path_format is None or not getattr(route, "include_in_schema", False):
            continue
        for method in route.methods or ():
            operation = doc["paths"].get(route.path_format, {}).get(method.lower())
            if operation is None:
                continue
            responses = operation.setdefault("responses", {})
            responses.pop("422", None)  # FastAPI's, with a body the server never sends
            for status in _statuses(route, method):
                responses[str(status)] = {"$ref": f"#/components/responses/{RESPONSES[status][0]}"}
            security = _security(route)
            if security is not None:
                operation["security"] = security
            if http.require_multipart in set(_calls(route.dependant)):
                operation["requestBody"] = UPLOAD_BODY
            if _is_list(route) and "200" in responses:
                responses["200"]["content"]["application/json"]["schema"] = _page_schema(
                    method, route.path_format
                )
    return doc


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_document(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
