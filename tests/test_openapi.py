"""The OpenAPI document says what the server does (issue 18 item 5), and every request
field is held to the text rules (item 2). The Schemathesis run in tests/test_schemathesis.py
checks the live answers against this document."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import pytest
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from pydantic import BaseModel

from livebase import text
from livebase.app import create_app
from livebase.settings import Settings


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    settings = Settings(demo=True, data_dir=tmp_path_factory.mktemp("openapi"))
    # The document needs no database: it is built from the routes alone.
    r = TestClient(create_app(settings)).get("/api/v1/openapi.json")
    assert r.status_code == 200
    body: dict[str, Any] = r.json()
    return body


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, op)
        for path, ops in doc["paths"].items()
        for method, op in ops.items()
        if method in {"get", "post", "put", "patch", "delete"}
    ]


def _schema(doc: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = doc["components"]["schemas"][name]
    return found


def test_every_error_answer_is_the_one_error_schema(doc: dict[str, Any]) -> None:
    error = _schema(doc, "Error")
    assert error["required"] == ["error", "detail"]
    assert error["properties"]["detail"] == {
        "type": "string",
        "description": "A sentence for people.",
    }
    assert error["properties"]["fields"]["items"] == {"$ref": "#/components/schemas/FieldError"}
    assert "HTTPValidationError" not in doc["components"]["schemas"]
    for response in doc["components"]["responses"].values():
        assert response["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/Error"
        }
    for method, path, op in _operations(doc):
        for status, response in op["responses"].items():
            if int(status) >= 400:
                assert response["$ref"].startswith("#/components/responses/"), (method, path)


EXPECTED = [
    # (method, path, statuses it must document)
    ("GET", "/api/v1/products", {200, 401, 405, 422, 503}),
    ("GET", "/api/v1/products/{product_id}", {200, 401, 404, 405, 503}),
    (
        "PATCH",
        "/api/v1/products/{product_id}",
        {200, 400, 401, 403, 404, 405, 409, 413, 415, 422, 503},
    ),
    ("POST", "/api/v1/products", {201, 400, 401, 403, 405, 409, 413, 415, 422, 503}),
    ("POST", "/api/v1/auth/tokens", {201, 400, 405, 413, 415, 422, 429, 503}),
    ("POST", "/api/v1/accounts", {201, 400, 405, 409, 413, 415, 422, 429, 503}),
    ("GET", "/api/v1/me", {200, 401, 405, 503}),
    ("GET", "/api/v1/bases", {200, 405, 422, 503}),
    ("DELETE", "/api/v1/products/{product_id}", {204, 401, 403, 404, 405, 409, 422, 503}),
]


@pytest.mark.parametrize(
    "method, path, statuses", EXPECTED, ids=[f"{m} {p}" for m, p, _ in EXPECTED]
)
def test_operations_document_the_statuses_they_answer(
    doc: dict[str, Any], method: str, path: str, statuses: set[int]
) -> None:
    documented = {int(s) for s in doc["paths"][path][method.lower()]["responses"]}
    assert statuses <= documented


def test_public_reads_never_claim_a_403_and_signed_in_ones_say_bearer(doc: dict[str, Any]) -> None:
    assert "403" not in doc["paths"]["/api/v1/bases"]["get"]["responses"]
    assert doc["paths"]["/api/v1/me"]["get"]["security"] == [{"bearer": []}]
    assert doc["paths"]["/api/v1/products"]["get"]["security"] == [{}, {"bearer": []}]
    assert doc["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/products/{product_id}/images",
        "/api/v1/shows/{show_id}/cover",
        "/api/v1/host-profiles/{profile_id}/photo",
    ],
)
def test_uploads_declare_their_multipart_body(doc: dict[str, Any], path: str) -> None:
    body = doc["paths"][path]["post"]["requestBody"]
    schema = body["content"]["multipart/form-data"]["schema"]
    assert body["required"] is True and schema["required"] == ["file"]
    assert schema["properties"]["file"]["format"] == "binary"


def _resolve(doc: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = _schema(doc, schema["$ref"].rsplit("/", 1)[-1])
    return schema


def _body(doc: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    op = doc["paths"][path][method]
    return _resolve(doc, op["requestBody"]["content"]["application/json"]["schema"])


def test_the_constraints_the_server_enforces_are_in_the_schemas(doc: dict[str, Any]) -> None:
    product = _body(doc, "post", "/api/v1/products")
    sku = _resolve(doc, product["properties"]["skus"]["items"])
    assert {"minimum": 0, "maximum": 10**12}.items() <= sku["properties"]["price_fen"].items()
    assert {"minimum": 0, "maximum": 10**9}.items() <= sku["properties"]["stock"].items()
    assert sku["properties"]["attrs"]["propertyNames"] == {"minLength": 1, "maxLength": 20}
    assert product["properties"]["title"]["maxLength"] == 120
    assert product["additionalProperties"] is False
    account = _body(doc, "post", "/api/v1/accounts")
    assert account["properties"]["username"]["pattern"] == "^[a-z0-9_]{3,32}$"
    assert {"minLength": 8, "maxLength": 128}.items() <= account["properties"]["password"].items()
    for method, path in [
        ("patch", "/api/v1/products/{product_id}"),
        ("patch", "/api/v1/shows/{show_id}"),
        ("patch", "/api/v1/skus/{sku_id}"),
    ]:
        patch = _body(doc, method, path)
        assert patch["minProperties"] == 1, path
        # A field left out keeps its value; null is refused, so the schema has no null.
        for name, prop in patch["properties"].items():
            if name != "cross_border":
                assert "anyOf" not in prop and "default" not in prop, (path, name)
    show = _body(doc, "post", "/api/v1/shows")
    assert show["properties"]["scheduled_at"]["format"] == "date-time"
    cursor = next(
        p for p in doc["paths"]["/api/v1/products"]["get"]["parameters"] if p["name"] == "cursor"
    )
    assert cursor["schema"]["anyOf"][0]["pattern"] == "^prd_[0-9a-hjkmnp-tv-z]{26}$"


# --- one text type for every request field -----------------------------------------------

_RULES = {text.check_storable, text.check_prose, text.check_name}


def _string_fields(model: type[BaseModel], where: str) -> list[tuple[str, Any, list[Any]]]:
    """Every str a request model takes (fields, list items, dict keys and values), with
    the validators that apply to it."""
    out: list[tuple[str, Any, list[Any]]] = []

    def walk(tp: Any, metadata: list[Any], loc: str) -> None:
        args = get_args(tp)
        origin = getattr(tp, "__origin__", None)
        if hasattr(tp, "__metadata__"):  # Annotated[...]
            walk(args[0], [*metadata, *tp.__metadata__], loc)
        elif isinstance(tp, type) and issubclass(tp, BaseModel):
            for name, info in tp.model_fields.items():
                walk(info.annotation, list(info.metadata), f"{loc}.{name}")
        elif tp is str:
            out.append((loc, tp, metadata))
        elif origin is dict:
            walk(args[0], [], f"{loc}.[key]")
            walk(args[1], [], f"{loc}.[value]")
        elif args and origin is not type(None):
            for arg in args:  # unions, lists, Literal values (not types: skipped)
                if (
                    isinstance(arg, type)
                    or hasattr(arg, "__origin__")
                    or hasattr(arg, "__metadata__")
                ):
                    walk(arg, metadata, loc)

    walk(model, [], where)
    return out


def _request_models(data_dir: Path) -> list[type[BaseModel]]:
    app = create_app(Settings(demo=True, data_dir=data_dir))
    models = []
    for route in iter_route_contexts(app.routes):
        field = getattr(route, "body_field", None)
        if not (route.path_format or "").startswith("/api/"):
            continue  # pages read their forms themselves
        if field is not None and isinstance(field.field_info.annotation, type):
            models.append(field.field_info.annotation)
    return models


def test_every_text_field_of_every_request_body_is_held_to_the_text_rules(
    tmp_path: Path,
) -> None:
    models = _request_models(tmp_path)
    assert len(models) >= 15
    unchecked = [
        loc
        for model in models
        for loc, _tp, metadata in _string_fields(model, model.__name__)
        if not any(getattr(m, "func", None) in _RULES for m in metadata)
    ]
    assert unchecked == []


def test_lists_document_the_page_shape(doc: dict[str, Any]) -> None:
    page = _schema(doc, "Page")
    assert page["required"] == ["items", "next_cursor"]
    for path in ["/api/v1/products", "/api/v1/bases", "/api/v1/me/applications"]:
        ok = doc["paths"][path]["get"]["responses"]["200"]["content"]["application/json"]
        assert ok["schema"] == {"$ref": "#/components/schemas/Page"}, path
