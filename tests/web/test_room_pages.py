"""The live room's pages without a browser: the viewer page carries the room's root, the
player slot and its script data (never the stream key); the host console (中控台) is for
the show's host, its organisation's staff and its room assistants only; the viewer's
one-tap flash-sale grab checks the cookie session, the CSRF header and the key, and
orders through the sale's owner like the API."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta

import pytest

from livebase.shows import service as shows
from tests.conftest import SYSTEM_TESTS, World
from tests.web.conftest import Browser, make_product


def _live_show(world: World) -> tuple[str, str]:
    pid = make_product(world, world.brand_a1, stock=20)
    with world.rt.sessions() as db, db.begin():
        from livebase.catalog.models import Product

        product = db.get(Product, pid)
        assert product is not None
        sku = product.skus[0].id
        show = shows.do_create_show(
            db, SYSTEM_TESTS, world.brand_a1, "冬季穿搭专场", datetime.now(UTC), world["host_a1"].id
        )
        shows.do_set_shelf(db, SYSTEM_TESTS, show, [shows.ShelfSpec(sku, 7900)])
        shows.do_start(db, SYSTEM_TESTS, show)
        return show.id, sku


def _script_json(html: str, element_id: str) -> object:
    m = re.search(rf'<script type="application/json" id="{element_id}">(.*?)</script>', html, re.S)
    assert m, element_id
    return json.loads(m.group(1))


@pytest.mark.parametrize("lang,word", [("zh", "说点什么"), ("en", "Say something")])
def test_viewer_page_carries_the_room_and_player_but_never_the_key(
    browser: Browser, world: World, lang: str, word: str
) -> None:
    show_id, sku = _live_show(world)
    r = browser.get(f"/shows/{show_id}?lang={lang}")
    assert r.status_code == 200
    # Anonymous: no chat box, a sign-in link instead.
    assert 'data-testid="chat-login"' in r.text and 'data-testid="chat-form"' not in r.text
    browser.sign_in("viewer")
    r = browser.get(f"/shows/{show_id}?lang={lang}")
    assert r.status_code == 200 and word in r.text
    assert f'data-show-id="{show_id}"' in r.text and 'id="player"' in r.text
    assert "data-lb-player" in r.text  # the media feature's player partial is included
    assert re.search(r'data-hls-url="http[^"]+/index\.m3u8"', r.text)
    messages = _script_json(r.text, "room-i18n")
    assert isinstance(messages, dict) and "room.conn.reconnecting" in messages
    shelf = _script_json(r.text, "room-shelf")
    assert (
        isinstance(shelf, list) and shelf[0]["sku_id"] == sku and shelf[0]["live_price_fen"] == 7900
    )
    with world.rt.sessions() as db:
        show = shows.get_show(db, show_id)
        assert show.stream_key not in r.text
    assert "/host/shows/" + show_id + "/console" not in r.text  # a viewer gets no console link


@pytest.mark.parametrize("username", ["host_a1", "merchant_a1", "admin", "assistant_a1"])
@pytest.mark.parametrize("lang,word", [("zh", "中控台"), ("en", "Console")])
def test_console_opens_for_host_staff_and_assistants(
    browser: Browser, world: World, username: str, lang: str, word: str
) -> None:
    show_id, _ = _live_show(world)
    if username == "assistant_a1":
        world.add_user("assistant_a1", "assistant", base_id=world.base_a, org_id=world.brand_a1)
    browser.sign_in(username)
    r = browser.get(f"/host/shows/{show_id}/console?lang={lang}")
    assert r.status_code == 200, r.text[:300]
    assert word in r.text and 'data-testid="explain-1"' in r.text
    assert f"/host/shows/{show_id}/console" in browser.get(f"/shows/{show_id}").text


@pytest.mark.parametrize("username", ["viewer", "merchant_a2", "host_ag", "merchant_b1", "mod_a"])
def test_console_refuses_everyone_else(browser: Browser, world: World, username: str) -> None:
    show_id, _ = _live_show(world)
    browser.sign_in(username)
    r = browser.get(f"/host/shows/{show_id}/console")
    assert r.status_code == 403


def test_console_sends_anonymous_visitors_to_sign_in(browser: Browser, world: World) -> None:
    show_id, _ = _live_show(world)
    r = browser.get(f"/host/shows/{show_id}/console")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=")
    assert browser.get("/host/shows/nope/console").status_code == 303
    browser.sign_in("host_a1")
    assert browser.get("/host/shows/nope/console").status_code == 404


def _open_sale(browser: Browser, world: World, show_id: str, sku: str, quantity: int = 2) -> str:
    now = datetime.now(UTC)
    body = {
        "sku_id": sku,
        "price_fen": 5900,
        "quantity": quantity,
        "per_buyer_limit": 1,
        "starts_at": now.isoformat().replace("+00:00", "Z"),
        "ends_at": (now + timedelta(minutes=5)).isoformat().replace("+00:00", "Z"),
    }
    c = browser.client
    r = c.post(f"/api/v1/shows/{show_id}/flash-sales", json=body, headers=world["host_a1"].auth)
    assert r.status_code == 201, r.text
    sale_id: str = r.json()["id"]
    r = c.post(f"/api/v1/flash-sales/{sale_id}/open", headers=world["host_a1"].auth)
    assert r.status_code == 200, r.text
    return sale_id


def _address(browser: Browser, world: World, username: str) -> None:
    body = {
        "name": "陈七",
        "phone": "13700000007",
        "province": "北京市",
        "city": "北京市",
        "district": "朝阳区",
        "detail": "望京SOHO T1",
    }
    r = browser.client.post("/api/v1/addresses", json=body, headers=world[username].auth)
    assert r.status_code == 201, r.text


def test_a_viewer_grabs_one_unit_of_an_open_sale_once_per_key(
    browser: Browser, world: World
) -> None:
    show_id, sku = _live_show(world)
    sale_id = _open_sale(browser, world, show_id, sku)
    _address(browser, world, "viewer")
    csrf = browser.sign_in("viewer")
    url = f"/shows/{show_id}/flash-sales/{sale_id}/grab"
    headers = {"X-CSRF-Token": csrf, "Idempotency-Key": "grab-1"}
    r = browser.client.post(url, headers=headers)
    assert r.status_code == 201, r.text
    order = r.json()
    assert order["status"] == "pending_payment" and order["total_fen"] == 5900
    again = browser.client.post(url, headers=headers)
    assert again.status_code == 201 and again.json()["id"] == order["id"]
    # Another key from the same buyer: the sale's limit of one per buyer.
    r = browser.client.post(url, headers={**headers, "Idempotency-Key": "grab-2"})
    assert r.status_code == 409 and r.json()["error"] == "limit_exceeded"
    sale = browser.client.get(f"/api/v1/flash-sales/{sale_id}").json()
    assert sale["remaining"] == 1


def test_the_grab_refuses_bad_requests_with_clear_errors(browser: Browser, world: World) -> None:
    show_id, sku = _live_show(world)
    sale_id = _open_sale(browser, world, show_id, sku)
    url = f"/shows/{show_id}/flash-sales/{sale_id}/grab"
    key = {"Idempotency-Key": "k-1"}
    r = browser.client.post(url, headers=key)
    assert r.status_code == 401 and r.json()["error"] == "unauthenticated"
    csrf = browser.sign_in("viewer")
    r = browser.client.post(url, headers={**key, "X-CSRF-Token": "wrong"})
    assert r.status_code == 403 and r.json()["error"] == "form_expired"
    r = browser.client.post(url, headers={"X-CSRF-Token": csrf})
    assert r.status_code == 400 and r.json()["error"] == "idempotency_key_required"
    r = browser.client.post(url, headers={**key, "X-CSRF-Token": csrf})
    assert r.status_code == 422 and r.json()["fields"][0]["loc"] == "address_id"
    _address(browser, world, "viewer")
    other, _ = _live_show(world)
    r = browser.client.post(
        f"/shows/{other}/flash-sales/{sale_id}/grab", headers={**key, "X-CSRF-Token": csrf}
    )
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    r = browser.client.post(
        f"/shows/{show_id}/flash-sales/nope/grab", headers={**key, "X-CSRF-Token": csrf}
    )
    assert r.status_code == 404
    sale = browser.client.get(f"/api/v1/flash-sales/{sale_id}").json()
    assert sale["remaining"] == 2  # nothing was sold by the refused requests
