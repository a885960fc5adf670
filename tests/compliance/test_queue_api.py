"""Compliance where texts enter: the checks endpoint, held listings and scripts in the
review queue, moderators' decisions, the word-list editor and the numbers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from livebase.runtime import Runtime
from tests.conftest import World, product_body

HELD_TITLE = "全网最低价 国家级面膜 根治痘痘"


def _held_product(client: TestClient, world: World) -> dict:
    r = client.post(
        "/api/v1/products",
        headers=world["merchant_a1"].auth,
        json=product_body(world.brand_a1, title=HELD_TITLE),
    )
    assert r.status_code == 201, r.text
    return r.json()


def test_checks_endpoint_needs_sign_in_and_returns_the_contract_verdict(
    client: TestClient, world: World
) -> None:
    body = {"kind": "chat", "text": "加我微信 abc12345"}
    assert client.post("/api/v1/moderation/checks", json=body).status_code == 401
    r = client.post("/api/v1/moderation/checks", json=body, headers=world["viewer"].auth)
    assert r.status_code == 200
    v = r.json()
    assert set(v) == {"verdict", "labels", "masked", "matches"}
    assert v["verdict"] != "allow" and "contact" in v["labels"]
    m = v["matches"][0]
    assert set(m) == {"rule", "label", "start", "end", "term"}
    assert 0 <= m["start"] < m["end"] <= len(body["text"])


def test_checks_endpoint_refuses_unknown_kinds_and_is_rate_limited(
    client: TestClient, world: World, rt: Runtime
) -> None:
    auth = world["viewer"].auth
    r = client.post("/api/v1/moderation/checks", json={"kind": "poem", "text": "x"}, headers=auth)
    assert r.status_code == 422
    for _ in range(rt.settings.moderation_checks_per_minute):
        client.post("/api/v1/moderation/checks", json={"kind": "chat", "text": "好"}, headers=auth)
    r = client.post("/api/v1/moderation/checks", json={"kind": "chat", "text": "好"}, headers=auth)
    assert r.status_code == 429 and "Retry-After" in r.headers


def test_a_held_listing_says_why_and_waits_in_its_base_queue(
    client: TestClient, world: World
) -> None:
    product = _held_product(client, world)
    assert product["status"] == "held"
    assert "ad_law" in product["moderation"]["labels"]
    assert client.get(f"/api/v1/products/{product['id']}").status_code == 404  # not public
    queue = client.get("/api/v1/moderation/queue", headers=world["mod_a"].auth).json()["items"]
    assert [i["subject_id"] for i in queue] == [product["id"]]
    item = queue[0]
    text = item["text"]
    spans = [text[m["start"] : m["end"]] for m in item["verdict"]["matches"]]
    assert any("最低" in s or "国家级" in s or "根治" in s for s in spans)
    # Another base's operator and a merchant cannot see the queue.
    assert client.get("/api/v1/moderation/queue", headers=world["op_b"].auth).status_code == 403
    assert (
        client.get("/api/v1/moderation/queue", headers=world["merchant_a1"].auth).status_code == 403
    )


def test_approving_a_listing_publishes_it_and_rejecting_keeps_it_held(
    client: TestClient, world: World
) -> None:
    first = _held_product(client, world)
    second = client.post(
        "/api/v1/products",
        headers=world["merchant_a1"].auth,
        json=product_body(world.brand_a1, title="顶级 史上最强 面霜"),
    ).json()
    assert second["status"] == "held"
    items = {
        i["subject_id"]: i["id"]
        for i in client.get("/api/v1/moderation/queue", headers=world["mod_a"].auth).json()["items"]
    }
    mod = world["mod_a"].auth
    r = client.post(f"/api/v1/moderation/items/{items[first['id']]}/approve", headers=mod)
    assert r.status_code == 200 and r.json()["status"] == "approved"
    assert client.get(f"/api/v1/products/{first['id']}").json()["status"] == "active"
    r = client.post(
        f"/api/v1/moderation/items/{items[second['id']]}/reject",
        headers=mod,
        json={"reason": "绝对化用语"},
    )
    assert r.json()["status"] == "rejected" and r.json()["reason"] == "绝对化用语"
    assert client.get(f"/api/v1/products/{second['id']}").status_code == 404
    again = client.post(f"/api/v1/moderation/items/{items[first['id']]}/approve", headers=mod)
    assert again.status_code == 409


def test_another_base_moderator_cannot_decide(client: TestClient, world: World) -> None:
    _held_product(client, world)
    item = client.get("/api/v1/moderation/queue", headers=world["mod_a"].auth).json()["items"][0]
    other = world.add_user("mod_b", "moderator", base_id=world.base_b)
    r = client.post(f"/api/v1/moderation/items/{item['id']}/approve", headers=other.auth)
    assert r.status_code == 404
    assert (
        client.get(f"/api/v1/moderation/items/{item['id']}", headers=world["mod_a"].auth).json()[
            "status"
        ]
        == "pending"
    )


def test_editing_a_held_listing_supersedes_its_queue_item_and_clean_text_publishes(
    client: TestClient, world: World
) -> None:
    product = _held_product(client, world)
    r = client.patch(
        f"/api/v1/products/{product['id']}",
        headers=world["merchant_a1"].auth,
        json={"title": "补水面膜 10片"},
    )
    assert r.status_code == 200 and r.json()["status"] == "active"
    assert "moderation" not in r.json()
    old = client.get(
        "/api/v1/moderation/queue?status=superseded", headers=world["mod_a"].auth
    ).json()["items"]
    assert [i["subject_id"] for i in old] == [product["id"]]
    assert client.get("/api/v1/moderation/queue", headers=world["mod_a"].auth).json()["items"] == []


def _show(client: TestClient, world: World) -> str:
    when = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    r = client.post(
        "/api/v1/shows",
        headers=world["host_a1"].auth,
        json={"org_id": world.brand_a1, "title": "冬季上新", "scheduled_at": when},
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def test_host_scripts_are_checked_where_they_enter(client: TestClient, world: World) -> None:
    show_id = _show(client, world)
    auth = world["host_a1"].auth
    ok = client.post(
        f"/api/v1/shows/{show_id}/scripts",
        headers=auth,
        json={"text": "这件T恤是100%纯棉的，1号链接可以拍了"},
    )
    assert ok.status_code == 201 and ok.json()["status"] == "approved"
    held = client.post(
        f"/api/v1/shows/{show_id}/scripts",
        headers=auth,
        json={"text": "全网最低价，错过今天再等一年", "kind": "caption"},
    )
    assert held.json()["status"] == "held" and "ad_law" in held.json()["moderation"]["labels"]
    item = client.get("/api/v1/moderation/queue?kind=script", headers=world["mod_a"].auth).json()[
        "items"
    ][0]
    assert item["show_id"] == show_id
    client.post(f"/api/v1/moderation/items/{item['id']}/approve", headers=world["mod_a"].auth)
    scripts = client.get(f"/api/v1/shows/{show_id}/scripts", headers=auth).json()["items"]
    assert [s["status"] for s in scripts] == ["approved", "approved"]
    other = client.post(
        f"/api/v1/shows/{show_id}/scripts", headers=world["host_ag"].auth, json={"text": "大家好"}
    )
    assert other.status_code == 403


def test_a_moderator_term_takes_effect_at_once_and_removal_undoes_it(
    client: TestClient, world: World
) -> None:
    mod = world["mod_a"].auth
    text = {"kind": "chat", "text": "这个是洛神花茶"}
    assert (
        client.post("/api/v1/moderation/checks", json=text, headers=mod).json()["verdict"]
        == "allow"
    )
    r = client.post(
        "/api/v1/moderation/terms",
        headers=mod,
        json={"term": "洛神花茶", "label": "prohibited", "options": ["action=block"]},
    )
    assert r.status_code == 201, r.text
    v = client.post("/api/v1/moderation/checks", json=text, headers=mod).json()
    assert v["verdict"] == "block" and "prohibited" in v["labels"]
    assert (
        client.delete(f"/api/v1/moderation/terms/{r.json()['id']}", headers=mod).status_code == 204
    )
    assert (
        client.post("/api/v1/moderation/checks", json=text, headers=mod).json()["verdict"]
        == "allow"
    )


def test_term_editor_refuses_bad_input_and_non_moderators(client: TestClient, world: World) -> None:
    mod = world["mod_a"].auth
    bad = [
        {"term": "", "label": "abuse"},
        {"term": "x", "label": "rude"},
        {"term": "x", "label": "abuse", "options": ["Bad Option!"]},
        {"term": "x", "label": "abuse", "extra": 1},
    ]
    for body in bad:
        r = client.post("/api/v1/moderation/terms", headers=mod, json=body)
        assert r.status_code == 422, body
    assert (
        client.post(
            "/api/v1/moderation/terms",
            headers=world["viewer"].auth,
            json={"term": "x", "label": "abuse"},
        ).status_code
        == 403
    )
    assert client.get("/api/v1/moderation/terms", headers=mod).json()["items"] == []


def test_stats_count_verdicts_per_label_and_show(client: TestClient, world: World) -> None:
    _held_product(client, world)
    show_id = _show(client, world)
    client.post(
        f"/api/v1/shows/{show_id}/scripts",
        headers=world["host_a1"].auth,
        json={"text": "加我微信 wx123456 私聊下单"},
    )
    s = client.get("/api/v1/moderation/stats", headers=world["mod_a"].auth).json()
    assert s["by_label"]["ad_law"] >= 1 and s["by_label"]["contact"] >= 1
    assert s["by_show"][0]["show_id"] == show_id and s["pending"] == 2
    assert client.get("/api/v1/moderation/stats", headers=world["op_b"].auth).status_code == 403


def test_queue_page_highlights_the_matched_span_and_decides(
    client: TestClient, world: World
) -> None:
    product = _held_product(client, world)
    client.cookies.clear()
    page = _login(client, "mod_a")
    html = client.get("/moderation").text
    assert '<mark class="hit ad_law"' in html and "全网最低价" in html
    csrf = html.split('name="csrf-token" content="')[1].split('"')[0]
    item_id = html.split("/moderation/items/")[1].split("/decide")[0]
    r = client.post(
        f"/moderation/items/{item_id}/decide",
        data={"csrf_token": csrf, "decision": "approve"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert client.get(f"/api/v1/products/{product['id']}").json()["status"] == "active"
    assert page == 303


def test_moderation_pages_are_refused_to_non_moderators(client: TestClient, world: World) -> None:
    assert client.get("/moderation", follow_redirects=False).status_code == 303
    _login(client, "viewer")
    assert client.get("/moderation").status_code == 403
    assert client.get("/moderation/terms").status_code == 403
    assert client.get("/moderation/try?text=加微信123456").status_code == 200


def _login(client: TestClient, username: str) -> int:
    page = client.get("/login").text
    token = page.split('name="form_token" value="')[1].split('"')[0]
    r = client.post(
        "/login",
        data={"username": username, "password": "password-123", "form_token": token, "next": "/"},
        follow_redirects=False,
    )
    return r.status_code


def test_term_search_finds_shipped_entries_and_switching_one_off_works(
    client: TestClient, world: World
) -> None:
    _login(client, "mod_a")
    html = client.get("/moderation/terms", params={"q": "微信"}).text
    assert 'data-testid="found"' in html and "微信" in html
    csrf = html.split('name="csrf-token" content="')[1].split('"')[0]
    mod = world["mod_a"].auth
    text = {"kind": "listing", "text": "国家级非遗手艺"}
    assert (
        client.post("/api/v1/moderation/checks", json=text, headers=mod).json()["verdict"]
        != "allow"
    )
    r = client.post(
        "/moderation/terms",
        data={"csrf_token": csrf, "term": "国家级", "label": "ad_law", "flags": "off"},
        follow_redirects=False,
    )
    assert r.status_code == 303
    assert (
        client.post("/api/v1/moderation/checks", json=text, headers=mod).json()["verdict"]
        == "allow"
    )
