"""Demonstration scenes: operators register them with their shows; the figures are the
shows' own; public pages; the plan's count; and the operations pages render for the
operator and refuse everyone else."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from livebase.campaigns.models import Scene
from livebase.campaigns.scenes import count_scenes
from livebase.runtime import Runtime
from tests.campaigns.helpers import NOW, make_show, make_sku, page_login, seed_order
from tests.conftest import World, png_bytes


def _scene(**over: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": "蓝色港湾 直播街区",
        "kind": "street",
        "address": "朝阳区朝阳公园路6号",
        "description": "商场外街的直播示范点",
    }
    body.update(over)
    return body


def test_a_scene_counts_its_shows_hours_gmv_and_viewers(
    client: TestClient, world: World, rt: Runtime
) -> None:
    host = world["host_a1"].id
    a = make_show(
        rt,
        world.brand_a1,
        host,
        status="ended",
        peak=30,
        started_at=NOW - timedelta(hours=3),
        ended_at=NOW - timedelta(hours=1),
    )
    b = make_show(
        rt,
        world.brand_a1,
        host,
        status="ended",
        peak=12,
        started_at=NOW - timedelta(days=2, hours=2),
        ended_at=NOW - timedelta(days=2, hours=1),
    )
    elsewhere = make_show(rt, world.brand_a1, host, status="ended", peak=500)
    sku = make_sku(rt, world.brand_a1)
    for show, total, status in (
        (a, 8_800, "paid"),
        (b, 1_200, "completed"),
        (a, 999, "refunded"),
        (elsewhere, 70_000, "paid"),
    ):
        seed_order(
            rt,
            world,
            org_id=world.brand_a1,
            base_id=world.base_a,
            show_id=show,
            sku=sku,
            total_fen=total,
            status=status,
        )
    op = world["op_a"].auth
    r = client.post(
        f"/api/v1/bases/{world.base_a}/scenes",
        json=_scene(org_id=world.brand_a1, show_ids=[a, b]),
        headers=op,
    )
    assert r.status_code == 201, r.text
    scene = r.json()
    with rt.sessions() as db:
        gmv = db.scalar(
            text(
                "SELECT COALESCE(SUM(total_fen), 0) FROM orders o JOIN scene_shows ss "
                "ON ss.show_id = o.show_id WHERE ss.scene_id = :s AND o.paid_at IS NOT NULL "
                "AND o.status NOT IN ('pending_payment', 'cancelled', 'expired', 'refunded')"
            ),
            {"s": scene["id"]},
        )
    got = client.get(f"/api/v1/scenes/{scene['id']}").json()
    assert got["figures"] == {
        "shows": 2,
        "hours_live": 3.0,
        "gmv_fen": int(gmv),
        "orders": 2,
        "viewers": 42,
    }
    assert int(gmv) == 10_000
    # A show is held at one place.
    r = client.post(f"/api/v1/bases/{world.base_a}/scenes", json=_scene(show_ids=[a]), headers=op)
    assert r.status_code == 409
    # Edit: fewer shows, no channel.
    r = client.patch(
        f"/api/v1/scenes/{scene['id']}", json={"show_ids": [b], "org_id": None}, headers=op
    )
    assert r.status_code == 200 and r.json()["org_id"] is None
    assert r.json()["figures"]["shows"] == 1
    page = client.get(f"/scenes/{scene['id']}")
    assert page.status_code == 200 and "蓝色港湾" in page.text
    listed = client.get(f"/api/v1/bases/{world.base_a}/scenes").json()
    assert listed["plan"] == 30 and [s["id"] for s in listed["items"]] == [scene["id"]]
    photo = client.post(
        f"/api/v1/scenes/{scene['id']}/photo",
        files={"file": ("p.png", png_bytes(), "image/png")},
        headers=op,
    )
    assert photo.status_code == 201 and photo.json()["photo_url"].startswith("/uploads/")


def test_only_the_bases_operators_register_scenes_and_bad_input_changes_nothing(
    client: TestClient, world: World, rt: Runtime
) -> None:
    path = f"/api/v1/bases/{world.base_a}/scenes"
    for who, status in ((None, 401), ("merchant_a1", 403), ("op_b", 403)):
        headers = world[who].auth if who else {}
        assert client.post(path, json=_scene(), headers=headers).status_code == status, who
    op = world["op_a"].auth
    other_show = make_show(
        rt,
        world.brand_b1,
        world.add_user("host_b1", "host", base_id=world.base_b, org_id=world.brand_b1).id,
    )
    for body in (
        _scene(kind="castle"),
        _scene(address=""),
        _scene(org_id=world.brand_b1),
        _scene(show_ids=[other_show]),
        _scene(photo_path="/etc/passwd"),
    ):
        r = client.post(path, json=body, headers=op)
        assert r.status_code == 422, body
        assert r.json()["error"] == "validation_failed"
    with rt.sessions() as db:
        assert db.scalar(select(func.count(Scene.id))) == 0
    made = client.post(path, json=_scene(), headers=op).json()
    url = f"/api/v1/scenes/{made['id']}"
    assert client.patch(url, json={"name": "x"}, headers=world["op_b"].auth).status_code == 403
    assert client.patch(url, json={}, headers=op).status_code == 422
    assert client.patch(url, json={"kind": None}, headers=op).status_code == 422
    assert client.get(url).json()["name"] == "蓝色港湾 直播街区"
    with rt.sessions() as db:
        assert count_scenes(db, world.base_a, NOW - timedelta(days=1), NOW + timedelta(days=1)) == 1
        assert count_scenes(db, world.base_a, NOW - timedelta(days=9), NOW - timedelta(days=1)) == 0
        assert count_scenes(db, world.base_b, NOW, NOW + timedelta(days=1)) == 0


def test_the_operations_pages_are_the_operators(
    client: TestClient, world: World, rt: Runtime
) -> None:
    for path in ("/ops/campaigns", "/ops/brands", "/ops/scenes"):
        anon = client.get(path, follow_redirects=False)
        assert anon.status_code == 303 and anon.headers["location"].startswith("/login"), path
    page_login(client, "merchant_a1")
    for path in ("/ops/campaigns", "/ops/brands", "/ops/scenes"):
        assert client.get(path).status_code == 403, path


def test_an_operator_registers_a_scene_and_a_campaign_from_the_pages(
    client: TestClient, world: World, rt: Runtime
) -> None:
    csrf = page_login(client, "op_a")
    page = client.get("/ops/scenes")
    assert page.status_code == 200 and "0/30" in page.text
    r = client.post(
        f"/ops/bases/{world.base_a}/scenes",
        data={"name": "平谷桃园", "kind": "farm", "address": "平谷区大华山镇", "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    assert "1/30" in client.get("/ops/scenes").text
    bad = client.post(
        f"/ops/bases/{world.base_a}/scenes",
        data={"name": "无类型", "kind": "castle", "address": "x", "csrf_token": csrf},
    )
    assert bad.status_code == 422 and 'data-field="kind"' in bad.text
    r = client.post(
        "/ops/campaigns",
        data={
            "base_id": world.base_a,
            "name": "乡村振兴丰收周",
            "starts_at": "2026-09-20T00:00",
            "ends_at": "2026-09-27T00:00",
            "banner_color": "#2e7d32",
            "status": "published",
            "csrf_token": csrf,
        },
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    bad = client.post(
        "/ops/campaigns",
        data={
            "base_id": world.base_a,
            "name": "反了",
            "starts_at": "2026-09-27T00:00",
            "ends_at": "2026-09-20T00:00",
            "csrf_token": csrf,
        },
    )
    assert bad.status_code == 422 and 'data-field="ends_at"' in bad.text
    ops = client.get("/ops/campaigns")
    assert "乡村振兴丰收周" in ops.text and "反了" not in ops.text
    assert client.get("/ops/brands").status_code == 200
    # Another base's campaign page form cannot be used by this operator.
    r = client.post(
        "/ops/campaigns",
        data={
            "base_id": world.base_b,
            "name": "越权",
            "starts_at": "2026-09-20T00:00",
            "ends_at": "2026-09-27T00:00",
            "csrf_token": csrf,
        },
    )
    assert r.status_code == 403
