"""Page URLs that do not exist or fail answer an HTML page in the layout, in the visitor's
language; API paths keep their JSON bodies; the favicon exists (issue 18 item 15)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from livebase.app import create_app
from livebase.runtime import Runtime
from tests.conftest import World
from tests.web.conftest import Browser

HTML = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}


@pytest.mark.parametrize(
    "lang,words", [("zh", "你要找的页面不存在"), ("en", "The page you asked for does not exist")]
)
def test_an_unknown_page_url_answers_an_html_404_in_the_visitors_language(
    browser: Browser, world: World, lang: str, words: str
) -> None:
    r = browser.get(f"/no/such/page?lang={lang}", headers=HTML)
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("text/html")
    assert words in r.text and 'data-testid="error-page"' in r.text
    assert '<link rel="icon" href="/favicon.svg"' in r.text


def test_the_404_page_knows_who_is_signed_in(browser: Browser, world: World) -> None:
    browser.sign_in("merchant_a1")
    r = browser.get("/nowhere", headers=HTML)
    assert r.status_code == 404 and 'data-testid="me"' in r.text


def test_api_paths_and_non_browser_clients_keep_json_404s(browser: Browser, world: World) -> None:
    api = browser.get("/api/v1/nowhere", headers=HTML)
    assert api.status_code == 404 and api.json()["error"] == "not_found"
    plain = browser.get("/nowhere", headers={"Accept": "*/*"})
    assert plain.status_code == 404 and plain.json()["error"] == "not_found"


@pytest.fixture
def failing_client(rt: Runtime) -> Iterator[TestClient]:
    app = create_app(runtime=rt)

    def broken_page() -> str:
        raise RuntimeError("a bug in a page")

    # A real route that fails the way a bug would, added to a real app.
    app.add_api_route("/broken-page", broken_page)
    app.add_api_route("/api/v1/broken", broken_page)
    with TestClient(app, raise_server_exceptions=False) as c:
        yield c


def test_a_failing_page_answers_an_html_500_in_the_layout(failing_client: TestClient) -> None:
    r = failing_client.get("/broken-page?lang=zh", headers=HTML)
    assert r.status_code == 500 and r.headers["content-type"].startswith("text/html")
    assert "服务器出错了" in r.text and "a bug in a page" not in r.text
    api = failing_client.get("/api/v1/broken", headers=HTML)
    assert api.status_code == 500 and "text/html" not in api.headers.get("content-type", "")


def test_the_favicon_is_served_as_svg_and_as_ico(browser: Browser, world: World) -> None:
    svg = browser.get("/favicon.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in svg.text
    ico = browser.get("/favicon.ico")
    assert ico.status_code == 200 and ico.headers["content-type"] == "image/x-icon"
    assert ico.content[:4] == b"\x00\x00\x01\x00"  # the ICO header
