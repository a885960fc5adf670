"""What the ASGI middleware guarantees (livebase.middleware), kept while it was made cheap
(issue 18 item 0b): NUL characters refused before routing, a request id on every response
that is in the request's log line, bodies without framing passed through untouched."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from livebase.app import create_app
from livebase.runtime import Runtime


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/products/prd_x%00y",
        "/api/v1/shows/%00",
        "/api/v1/bases/b%00/orgs",
        "/shows/x%00",
        "/uploads/a%00.png",
    ],
)
def test_a_nul_in_the_path_is_a_json_404(client: TestClient, path: str) -> None:
    r = client.get(path)
    assert r.status_code == 404
    assert r.json() == {"error": "not_found", "detail": "No such resource."}


@pytest.mark.parametrize("query", ["cursor=%00", "org_id=a%00b", "x%00=1", "status=active%00"])
def test_a_nul_in_the_query_is_a_422_naming_the_query(client: TestClient, query: str) -> None:
    r = client.get(f"/api/v1/products?{query}")
    assert r.status_code == 422
    body = r.json()
    assert body["error"] == "validation_failed"
    assert body["fields"] == [{"loc": "query", "msg": body["detail"]}]


def test_every_response_carries_a_request_id_that_is_in_its_log_line(
    rt: Runtime, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = rt.settings.model_copy(update={"log_level": "INFO", "log_json": True})
    with TestClient(create_app(settings, runtime=rt)) as c:
        answers = [c.get("/healthz"), c.get("/api/v1/products"), c.get("/api/v1/nothing")]
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    logged = {line["request_id"]: line for line in lines if line.get("event") == "request"}
    for r in answers:
        request_id = r.headers["x-request-id"]
        line = logged[request_id]
        assert line["path"] == r.request.url.path and line["status"] == r.status_code
        assert line["method"] == "GET" and line["logger"] == "livebase.request"
        assert line["level"] == "info" and line["timestamp"].endswith("Z")
    assert len(logged) == len(answers)  # one line per request, ids unique


def test_a_get_without_a_body_and_one_with_a_chunked_body_both_meet_the_limits(
    client: TestClient,
) -> None:
    assert client.get("/api/v1/products").status_code == 200

    def chunks():  # no Content-Length: httpx sends it chunked, counted as it arrives
        for _ in range(3):
            yield b"x" * (512 * 1024)

    r = client.post(
        "/api/v1/accounts", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 413 and r.json()["error"] == "payload_too_large"
