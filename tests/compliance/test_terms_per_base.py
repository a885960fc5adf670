"""Moderation terms belong to a base (issue 18 item 11): a base's moderators add, edit,
switch off and remove their own base's terms, which apply to that base's texts only;
the shipped lists and admins' shared terms apply to every base; nobody touches another
base's terms, and a refused request changes nothing."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import World, product_body


@pytest.fixture
def two(world: World) -> World:
    world.add_user("mod_b", "moderator", base_id=world.base_b)
    return world


def _terms(client: TestClient, auth: dict[str, str]) -> list[dict]:
    r = client.get("/api/v1/moderation/terms", headers=auth)
    assert r.status_code == 200
    return r.json()["items"]


def _listing_status(client: TestClient, world: World, merchant: str, org: str, title: str) -> str:
    r = client.post(
        "/api/v1/products", headers=world[merchant].auth, json=product_body(org, title=title)
    )
    assert r.status_code == 201, r.text
    return str(r.json()["status"])


def test_a_bases_own_term_holds_that_bases_listings_only(client: TestClient, two: World) -> None:
    r = client.post(
        "/api/v1/moderation/terms",
        headers=two["mod_a"].auth,
        json={"term": "洛神花茶", "label": "prohibited", "options": ["action=block"]},
    )
    assert r.status_code == 201 and r.json()["base_id"] == two.base_a
    assert _listing_status(client, two, "merchant_a1", two.brand_a1, "洛神花茶 礼盒") == "held"
    assert _listing_status(client, two, "merchant_b1", two.brand_b1, "洛神花茶 礼盒") == "active"
    chat = {"kind": "chat", "text": "有洛神花茶吗"}
    assert (
        client.post("/api/v1/moderation/checks", json=chat, headers=two["mod_a"].auth).json()[
            "verdict"
        ]
        == "block"
    )
    assert (
        client.post("/api/v1/moderation/checks", json=chat, headers=two["mod_b"].auth).json()[
            "verdict"
        ]
        == "allow"
    )


def test_another_bases_moderator_can_neither_see_nor_delete_the_term(
    client: TestClient, two: World
) -> None:
    term = client.post(
        "/api/v1/moderation/terms",
        headers=two["mod_a"].auth,
        json={"term": "洛神花茶", "label": "prohibited"},
    ).json()
    assert term["id"] not in [t["id"] for t in _terms(client, two["mod_b"].auth)]
    r = client.delete(f"/api/v1/moderation/terms/{term['id']}", headers=two["mod_b"].auth)
    assert r.status_code == 404
    assert term["id"] in [t["id"] for t in _terms(client, two["mod_a"].auth)]
    refused = client.post(
        "/api/v1/moderation/terms",
        headers=two["mod_b"].auth,
        json={"term": "洛神花茶", "label": "prohibited", "options": ["off"], "base_id": two.base_a},
    )
    assert refused.status_code == 403
    [mine] = _terms(client, two["mod_a"].auth)
    assert mine["options"] == []  # mod_b's "off" did not reach base A's term
    assert _listing_status(client, two, "merchant_a1", two.brand_a1, "洛神花茶") == "held"


def test_shared_terms_are_the_admins_and_apply_to_every_base(
    client: TestClient, two: World
) -> None:
    shared_body = {"term": "洛神花茶", "label": "prohibited", "base_id": ""}
    assert (
        client.post(
            "/api/v1/moderation/terms", headers=two["mod_a"].auth, json=shared_body
        ).status_code
        == 403
    )
    assert _terms(client, two["admin"].auth) == []
    shared = client.post("/api/v1/moderation/terms", headers=two["admin"].auth, json=shared_body)
    assert shared.status_code == 201 and shared.json()["base_id"] is None
    assert _listing_status(client, two, "merchant_a1", two.brand_a1, "洛神花茶") == "held"
    assert _listing_status(client, two, "merchant_b1", two.brand_b1, "洛神花茶") == "held"
    for mod in ("mod_a", "mod_b"):  # both see it, neither may remove it
        assert shared.json()["id"] in [t["id"] for t in _terms(client, two[mod].auth)]
        r = client.delete(f"/api/v1/moderation/terms/{shared.json()['id']}", headers=two[mod].auth)
        assert r.status_code == 403
    assert len(_terms(client, two["admin"].auth)) == 1


def test_switching_a_shipped_term_off_for_one_base_leaves_the_others_checked(
    client: TestClient, two: World
) -> None:
    title = "国家级非遗手艺 糕点"
    assert _listing_status(client, two, "merchant_a1", two.brand_a1, title) == "held"
    r = client.post(
        "/api/v1/moderation/terms",
        headers=two["mod_a"].auth,
        json={"term": "国家级", "label": "ad_law", "options": ["off"]},
    )
    assert r.status_code == 201
    assert _listing_status(client, two, "merchant_a1", two.brand_a1, title) == "active"
    assert _listing_status(client, two, "merchant_b1", two.brand_b1, title) == "held"


def test_the_terms_page_is_scoped_to_the_moderators_base(client: TestClient, two: World) -> None:
    from tests.compliance.test_queue_api import _login

    client.post(
        "/api/v1/moderation/terms",
        headers=two["mod_a"].auth,
        json={"term": "洛神花茶", "label": "prohibited"},
    )
    client.post(
        "/api/v1/moderation/terms",
        headers=two["admin"].auth,
        json={"term": "代写论文", "label": "prohibited", "base_id": ""},
    )
    assert _login(client, "mod_b") == 303
    page = client.get("/moderation/terms?lang=zh").text
    assert "洛神花茶" not in page  # base A's term is not base B's business
    assert "代写论文" in page and "管理员维护" in page  # shared: read-only for moderators
    assert 'data-testid="term-scope-note"' in page
