"""Shows over the HTTP API: scheduling, ingest keys, the shelf, explaining, start and end."""

from __future__ import annotations

import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from tests.conftest import World, product_body

AT = "2026-12-01T12:00:00Z"


def _show(
    client: TestClient, world: World, actor: str = "host_a1", org: str | None = None, **over: Any
) -> dict[str, Any]:
    body = {"org_id": org or world.brand_a1, "title": "冬季上新专场", "scheduled_at": AT, **over}
    r = client.post("/api/v1/shows", json=body, headers=world[actor].auth)
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def _skus(
    client: TestClient,
    world: World,
    merchant: str = "merchant_a1",
    org: str | None = None,
    n: int = 2,
    price: int = 9900,
) -> list[str]:
    org_id = org or world.brand_a1
    body = product_body(
        org_id,
        skus=[{"attrs": {"款": str(i)}, "price_fen": price + i, "stock": 10 + i} for i in range(n)],
    )
    r = client.post("/api/v1/products", json=body, headers=world[merchant].auth)
    assert r.status_code == 201, r.text
    return [s["id"] for s in r.json()["skus"]]


def _shelf(
    client: TestClient,
    world: World,
    show_id: str,
    items: list[dict[str, Any]],
    actor: str = "host_a1",
) -> Any:
    return client.put(
        f"/api/v1/shows/{show_id}/shelf", json={"items": items}, headers=world[actor].auth
    )


def test_a_host_creates_its_own_show_and_host_id_defaults_to_the_caller(
    client: TestClient, world: World
) -> None:
    show = _show(client, world)
    assert show["id"].startswith("show_") and show["status"] == "scheduled"
    assert show["host_id"] == world["host_a1"].id
    assert show["org_id"] == world.brand_a1 and show["base_id"] == world.base_a
    assert show["scheduled_at"] == AT and show["shelf"] == [] and show["explaining"] is None
    assert show["hls_url"].endswith("/index.m3u8")


def test_staff_create_a_show_for_a_host_of_their_organisation(
    client: TestClient, world: World
) -> None:
    show = _show(client, world, "merchant_a1", host_id=world["host_a1"].id)
    assert show["host_id"] == world["host_a1"].id
    show = _show(client, world, "agency_a", org=world.agency_a, host_id=world["host_ag"].id)
    assert show["host_id"] == world["host_ag"].id


@pytest.mark.parametrize(
    "actor, org, host, status",
    [
        ("viewer", "brand_a1", None, 403),  # not a host
        ("merchant_a1", "brand_a1", None, 403),  # staff, but not a host themselves
        ("host_a1", "agency_a", None, 403),  # a host, of another organisation
        ("merchant_a1", "brand_a1", "host_ag", 422),  # host_id is not a host of the brand
        ("merchant_a1", "brand_a1", "viewer", 422),
        ("agency_a", "brand_a1", "host_a1", 403),  # the agency does not run the brand's shows
    ],
)
def test_only_hosts_and_their_staff_create_shows(
    client: TestClient, world: World, actor: str, org: str, host: str | None, status: int
) -> None:
    body = {"org_id": getattr(world, org), "title": "直播", "scheduled_at": AT}
    if host:
        body["host_id"] = world[host].id
    r = client.post("/api/v1/shows", json=body, headers=world[actor].auth)
    assert r.status_code == status, r.text
    assert client.get("/api/v1/shows").json()["items"] == []


def test_ingest_gives_server_and_stream_with_key_only_to_the_host(
    client: TestClient, world: World
) -> None:
    show = _show(client, world)
    r = client.get(f"/api/v1/shows/{show['id']}/ingest", headers=world["host_a1"].auth)
    assert r.status_code == 200
    ingest = r.json()
    assert ingest["server"].startswith("rtmp://") and ingest["server"].endswith("/live")
    public_id, _, key = ingest["stream"].partition("?key=")
    assert public_id and len(key) >= 24
    assert f"/{public_id}/index.m3u8" in show["hls_url"]
    for actor in ("host_ag", "merchant_a1", "viewer"):
        r = client.get(f"/api/v1/shows/{show['id']}/ingest", headers=world[actor].auth)
        assert r.status_code == 403, actor
    assert client.get(f"/api/v1/shows/{show['id']}/ingest").status_code == 401


def test_rotating_the_key_changes_it_and_the_public_show_never_carries_it(
    client: TestClient, world: World
) -> None:
    show = _show(client, world)
    url = f"/api/v1/shows/{show['id']}"
    auth = world["host_a1"].auth
    old = client.get(f"{url}/ingest", headers=auth).json()["stream"]
    r = client.post(f"{url}/ingest/rotate", headers=auth)
    assert r.status_code == 200
    new = r.json()["stream"]
    assert new != old and new.split("?key=")[0] == old.split("?key=")[0]
    assert client.get(f"{url}/ingest", headers=auth).json()["stream"] == new
    public = client.get(url)
    assert public.status_code == 200
    for key in (old.split("key=")[1], new.split("key=")[1]):
        assert key not in public.text and key not in client.get("/api/v1/shows").text
    assert "key=" not in public.json()["hls_url"]


def test_shelf_is_numbered_1_to_n_in_order_with_live_prices(
    client: TestClient, world: World
) -> None:
    show = _show(client, world)
    a, b, c = _skus(client, world, n=3)
    r = _shelf(
        client,
        world,
        show["id"],
        [{"sku_id": c, "live_price_fen": 5900}, {"sku_id": a}, {"sku_id": b, "live_price_fen": 0}],
    )
    assert r.status_code == 200, r.text
    items = r.json()["items"]
    assert [(i["no"], i["sku_id"], i["live_price_fen"], i["price_fen"]) for i in items] == [
        (1, c, 5900, 9902),
        (2, a, None, 9900),
        (3, b, 0, 9901),
    ]
    assert items[0]["stock"] == 12 and items[0]["title"] == "纯棉圆领T恤"
    public = client.get(f"/api/v1/shows/{show['id']}").json()
    assert public["shelf"] == items
    # Putting the shelf again replaces it and renumbers.
    r = _shelf(client, world, show["id"], [{"sku_id": b}])
    assert [(i["no"], i["sku_id"]) for i in r.json()["items"]] == [(1, b)]


def test_shelf_refuses_duplicates_other_bases_other_brands_and_held_skus(
    client: TestClient, world: World
) -> None:
    show = _show(client, world)
    (mine,) = _skus(client, world, n=1)
    (b1,) = _skus(client, world, "merchant_b1", world.brand_b1, n=1)
    (a2,) = _skus(client, world, "merchant_a2", world.brand_a2, n=1)
    held = client.post(
        "/api/v1/products",
        headers=world["merchant_a1"].auth,
        json=product_body(world.brand_a1, title="全网最低价 羽绒服"),
    ).json()
    assert held["status"] == "held"
    _shelf(client, world, show["id"], [{"sku_id": mine}])
    for items, loc in [
        ([{"sku_id": mine}, {"sku_id": mine}], "body.items"),
        ([{"sku_id": b1}], "body.items.0.sku_id"),
        ([{"sku_id": mine}, {"sku_id": a2}], "body.items.1.sku_id"),
        ([{"sku_id": held["skus"][0]["id"]}], "body.items.0.sku_id"),
        ([{"sku_id": "sku_nope"}], "body.items.0.sku_id"),
    ]:
        r = _shelf(client, world, show["id"], items)
        assert r.status_code == 422 and r.json()["fields"][0]["loc"] == loc, (items, r.text)
    # The shelf is as it was.
    shelf = client.get(f"/api/v1/shows/{show['id']}").json()["shelf"]
    assert [(i["no"], i["sku_id"]) for i in shelf] == [(1, mine)]


def test_an_agency_show_takes_skus_of_any_brand_of_its_base(
    client: TestClient, world: World
) -> None:
    show = _show(client, world, "host_ag", org=world.agency_a)
    (a1,) = _skus(client, world, n=1)
    (a2,) = _skus(client, world, "merchant_a2", world.brand_a2, n=1)
    (b1,) = _skus(client, world, "merchant_b1", world.brand_b1, n=1)
    r = _shelf(client, world, show["id"], [{"sku_id": a1}, {"sku_id": a2}], actor="host_ag")
    assert r.status_code == 200 and [i["no"] for i in r.json()["items"]] == [1, 2]
    r = _shelf(client, world, show["id"], [{"sku_id": b1}], actor="host_ag")
    assert r.status_code == 422


def test_explaining_marks_a_number_on_the_shelf_and_null_clears_it(
    client: TestClient, world: World
) -> None:
    show = _show(client, world)
    url = f"/api/v1/shows/{show['id']}/explaining"
    auth = world["host_a1"].auth
    _shelf(client, world, show["id"], [{"sku_id": s} for s in _skus(client, world, n=3)])
    r = client.post(url, json={"no": 3}, headers=auth)
    assert r.status_code == 200 and r.json() == {"id": show["id"], "explaining": 3}
    assert client.get(f"/api/v1/shows/{show['id']}").json()["explaining"] == 3
    r = client.post(url, json={"no": 4}, headers=auth)
    assert r.status_code == 422 and r.json()["fields"][0]["loc"] == "body.no"
    assert client.get(f"/api/v1/shows/{show['id']}").json()["explaining"] == 3
    r = client.post(url, json={"no": None}, headers=auth)
    assert r.status_code == 200 and r.json()["explaining"] is None


def test_shrinking_the_shelf_below_the_explained_number_clears_it(
    client: TestClient, world: World
) -> None:
    show = _show(client, world)
    skus = _skus(client, world, n=3)
    _shelf(client, world, show["id"], [{"sku_id": s} for s in skus])
    client.post(
        f"/api/v1/shows/{show['id']}/explaining", json={"no": 3}, headers=world["host_a1"].auth
    )
    _shelf(client, world, show["id"], [{"sku_id": skus[0]}])
    assert client.get(f"/api/v1/shows/{show['id']}").json()["explaining"] is None


def test_explaining_works_while_scheduled_and_live(client: TestClient, world: World) -> None:
    show = _show(client, world)
    auth = world["host_a1"].auth
    _shelf(client, world, show["id"], [{"sku_id": s} for s in _skus(client, world)])
    assert (
        client.post(
            f"/api/v1/shows/{show['id']}/explaining", json={"no": 1}, headers=auth
        ).status_code
        == 200
    )
    client.post(f"/api/v1/shows/{show['id']}/start", headers=auth)
    r = client.post(f"/api/v1/shows/{show['id']}/explaining", json={"no": 2}, headers=auth)
    assert r.status_code == 200 and r.json()["explaining"] == 2


def test_start_then_end_moves_scheduled_live_ended(client: TestClient, world: World) -> None:
    show = _show(client, world)
    url = f"/api/v1/shows/{show['id']}"
    auth = world["host_a1"].auth
    r = client.post(f"{url}/start", headers=auth)
    assert r.status_code == 200
    live = r.json()
    assert live["status"] == "live" and live["started_at"].endswith("Z")
    again = client.post(f"{url}/start", headers=auth)  # a second publish changes nothing
    assert again.status_code == 200 and again.json()["started_at"] == live["started_at"]
    r = client.post(f"{url}/end", headers=auth)
    assert r.status_code == 200
    ended = r.json()
    assert ended["status"] == "ended" and ended["ended_at"].endswith("Z")
    assert ended["explaining"] is None
    assert client.get(url).json()["status"] == "ended"


def test_a_scheduled_show_can_be_ended_without_going_live(client: TestClient, world: World) -> None:
    show = _show(client, world)
    r = client.post(f"/api/v1/shows/{show['id']}/end", headers=world["host_a1"].auth)
    assert r.status_code == 200 and r.json()["status"] == "ended"
    assert r.json()["started_at"] is None


def test_an_ended_show_refuses_explaining_shelf_start_end_and_edits_with_show_ended(
    client: TestClient, world: World
) -> None:
    show = _show(client, world)
    url = f"/api/v1/shows/{show['id']}"
    auth = world["host_a1"].auth
    skus = _skus(client, world)
    _shelf(client, world, show["id"], [{"sku_id": skus[0]}])
    client.post(f"{url}/end", headers=auth)
    for method, path, body in [
        ("POST", "/explaining", {"no": 1}),
        ("POST", "/explaining", {"no": None}),
        ("PUT", "/shelf", {"items": [{"sku_id": skus[1]}]}),
        ("POST", "/start", None),
        ("POST", "/end", None),
        ("PATCH", "", {"title": "返场"}),
    ]:
        r = client.request(method, f"{url}{path}", json=body, headers=auth)
        assert r.status_code == 409 and r.json()["error"] == "show_ended", (method, path)
    after = client.get(url).json()
    assert after["status"] == "ended" and [i["sku_id"] for i in after["shelf"]] == [skus[0]]


def test_show_patch_changes_title_and_time(client: TestClient, world: World) -> None:
    show = _show(client, world)
    r = client.patch(
        f"/api/v1/shows/{show['id']}",
        headers=world["host_a1"].auth,
        json={"title": "双十二预热", "scheduled_at": "2026-12-12T20:00:00+08:00"},
    )
    assert r.status_code == 200
    assert r.json()["title"] == "双十二预热"
    assert r.json()["scheduled_at"] == "2026-12-12T12:00:00Z"  # stored and shown in UTC


def test_shows_list_filters_by_status_and_pages(client: TestClient, world: World) -> None:
    ids = [_show(client, world, title=f"场次{i}")["id"] for i in range(5)]
    auth = world["host_a1"].auth
    client.post(f"/api/v1/shows/{ids[0]}/start", headers=auth)
    client.post(f"/api/v1/shows/{ids[1]}/end", headers=auth)

    def listed(**params: Any) -> list[str]:
        return [s["id"] for s in client.get("/api/v1/shows", params=params).json()["items"]]

    assert listed(status="live") == [ids[0]]
    assert listed(status="ended") == [ids[1]]
    assert set(listed(status="scheduled")) == set(ids[2:])
    r = client.get("/api/v1/shows", params={"status": "cancelled"})
    assert r.status_code == 422
    seen: list[str] = []
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": 2}
        if cursor:
            params["cursor"] = cursor
        page = client.get("/api/v1/shows", params=params).json()
        assert len(page["items"]) <= 2 and all("shelf" not in s for s in page["items"])
        seen += [s["id"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids) and len(seen) == 5


def test_cover_upload_sets_the_cover_url(client: TestClient, world: World) -> None:
    show = _show(client, world)
    buf = io.BytesIO()
    Image.new("RGB", (1280, 720), (20, 20, 60)).save(buf, format="WEBP")
    r = client.post(
        f"/api/v1/shows/{show['id']}/cover",
        headers=world["host_a1"].auth,
        files={"file": ("cover.webp", buf.getvalue(), "image/webp")},
    )
    assert r.status_code == 201, r.text
    cover_url = r.json()["cover_url"]
    assert client.get(f"/api/v1/shows/{show['id']}").json()["cover_url"] == cover_url
    assert client.get(cover_url).status_code == 200


def test_unknown_show_is_404(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/shows/show_nope")
    assert r.status_code == 404 and r.json()["error"] == "not_found"
