"""Campaigns: figures equal an independent SQL sum over seeded orders; who may see and
change what; a show in one campaign at a time; merchants' requests to join; bad input."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from livebase.campaigns import service
from livebase.campaigns.models import Campaign, CampaignShow
from livebase.campaigns.service import count_campaigns_held
from livebase.runtime import Runtime
from livebase.schemas import rfc3339
from tests.campaigns.helpers import NOW, make_show, make_sku, page_login, seed_order
from tests.conftest import SYSTEM_TESTS, World
from tests.race import interleave


def _body(**over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "老字号美食周",
        "description": "京味老字号集中开播",
        "starts_at": rfc3339(NOW - timedelta(days=2)),
        "ends_at": rfc3339(NOW + timedelta(days=5)),
        "banner_color": "#B71C1C",
        "status": "published",
    }
    body.update(over)
    return body


def _create(client: TestClient, world: World, **over: Any) -> dict[str, Any]:
    r = client.post(
        f"/api/v1/bases/{world.base_a}/campaigns", json=_body(**over), headers=world["op_a"].auth
    )
    assert r.status_code == 201, r.text
    out: dict[str, Any] = r.json()
    return out


def _count(rt: Runtime, model: Any) -> int:
    with rt.sessions() as db:
        return int(db.scalar(select(func.count()).select_from(model)) or 0)


def test_campaign_figures_equal_an_independent_sql_sum_over_its_shows_orders(
    client: TestClient, world: World, rt: Runtime
) -> None:
    host = world["host_a1"].id
    live = make_show(rt, world.brand_a1, host, "冬季专场", status="live", peak=40)
    ended = make_show(rt, world.brand_a1, host, "年货节", status="ended", peak=25)
    outside = make_show(rt, world.brand_a1, host, "不在活动里", status="ended", peak=99)
    upcoming = make_show(rt, world.brand_a1, host, "明晚预告")
    sku = make_sku(rt, world.brand_a1)
    camp = _create(client, world)

    def order(show: str | None, total: int, **kw: Any) -> None:
        seed_order(
            rt,
            world,
            org_id=world.brand_a1,
            base_id=world.base_a,
            show_id=show,
            sku=sku,
            total_fen=total,
            **kw,
        )

    order(live, 12_300)
    order(live, 4_560, status="shipped")
    order(ended, 7_000, status="completed", paid_at=NOW - timedelta(days=1))
    order(ended, 5_000, paid_at=NOW - timedelta(days=3))  # paid before the campaign began
    order(live, 9_900, status="refunded")  # refunded: not GMV
    order(live, 8_800, status="pending_payment")  # unpaid
    order(live, 1_100, status="cancelled")
    order(outside, 50_000)  # a show not in the campaign
    order(None, 3_000)  # outside any show
    r = client.put(
        f"/api/v1/campaigns/{camp['id']}/shows",
        json={"show_ids": [upcoming, ended, live]},
        headers=world["op_a"].auth,
    )
    assert r.status_code == 200, r.text

    got = client.get(f"/api/v1/campaigns/{camp['id']}").json()
    with rt.sessions() as db:
        gmv, n = db.execute(
            text(
                "SELECT COALESCE(SUM(o.total_fen), 0), COUNT(o.id) FROM orders o "
                "JOIN campaign_shows cs ON cs.show_id = o.show_id AND cs.status = 'approved' "
                "JOIN campaigns c ON c.id = cs.campaign_id "
                "WHERE c.id = :cid AND o.paid_at IS NOT NULL "
                "AND o.paid_at >= c.starts_at AND o.paid_at < c.ends_at "
                "AND o.status NOT IN ('pending_payment', 'cancelled', 'expired', 'refunded')"
            ),
            {"cid": camp["id"]},
        ).one()
        viewers = db.scalar(
            text(
                "SELECT COALESCE(SUM(f.peak_viewers), 0) FROM room_figures f "
                "JOIN campaign_shows cs ON cs.show_id = f.show_id WHERE cs.campaign_id = :cid"
            ),
            {"cid": camp["id"]},
        )
    assert got["figures"] == {
        "gmv_fen": int(gmv),
        "orders": int(n),
        "viewers": int(viewers),
        "shows": 3,
        "live_shows": 1,
    }
    assert (int(gmv), int(n), int(viewers)) == (12_300 + 4_560 + 7_000, 3, 65)
    # Live first, then upcoming, then ended; each links to its show page.
    assert [s["id"] for s in got["shows"]] == [live, upcoming, ended]
    assert got["shows"][0]["url"] == f"/shows/{live}"


def test_a_draft_is_seen_only_by_its_base_operators_until_published(
    client: TestClient, world: World, rt: Runtime
) -> None:
    camp = _create(client, world, status="draft")
    url = f"/api/v1/campaigns/{camp['id']}"
    for who in (None, "viewer", "merchant_a1", "op_b"):
        headers = world[who].auth if who else {}
        assert client.get(url, headers=headers).status_code == 404, who
        listed = client.get(f"/api/v1/bases/{world.base_a}/campaigns", headers=headers).json()
        assert listed["items"] == [], who
    assert client.get(url, headers=world["op_a"].auth).status_code == 200
    mine = client.get(f"/api/v1/bases/{world.base_a}/campaigns", headers=world["op_a"].auth)
    assert [c["id"] for c in mine.json()["items"]] == [camp["id"]]
    # Another base's operator cannot publish it (nor learn it exists).
    r = client.patch(url, json={"status": "published"}, headers=world["op_b"].auth)
    assert r.status_code == 404
    r = client.patch(url, json={"status": "published"}, headers=world["op_a"].auth)
    assert r.status_code == 200 and r.json()["status"] == "published"
    assert client.get(url).status_code == 200


def test_only_the_bases_operators_create_and_change_campaigns(
    client: TestClient, world: World, rt: Runtime
) -> None:
    path = f"/api/v1/bases/{world.base_a}/campaigns"
    for who, status in (
        (None, 401),
        ("merchant_a1", 403),
        ("host_a1", 403),
        ("op_b", 403),
        ("mod_a", 403),
    ):
        headers = world[who].auth if who else {}
        assert client.post(path, json=_body(), headers=headers).status_code == status, who
    assert _count(rt, Campaign) == 0
    camp = _create(client, world)
    show = make_show(rt, world.brand_a1, world["host_a1"].id)
    url = f"/api/v1/campaigns/{camp['id']}"
    for who in ("merchant_a1", "op_b"):
        r = client.patch(url, json={"name": "改名"}, headers=world[who].auth)
        assert r.status_code == 403, who
        r = client.put(f"{url}/shows", json={"show_ids": [show]}, headers=world[who].auth)
        assert r.status_code == 403, who
    assert client.get(url).json()["name"] == "老字号美食周"
    assert _count(rt, CampaignShow) == 0


def test_a_show_is_in_one_campaign_and_of_the_campaigns_base(
    client: TestClient, world: World, rt: Runtime
) -> None:
    first = _create(client, world)
    second = _create(client, world, name="618")
    show = make_show(rt, world.brand_a1, world["host_a1"].id)
    other_base = make_show(
        rt,
        world.brand_b1,
        world.add_user("host_b1", "host", base_id=world.base_b, org_id=world.brand_b1).id,
    )
    op = world["op_a"].auth
    ok = client.put(f"/api/v1/campaigns/{first['id']}/shows", json={"show_ids": [show]}, headers=op)
    assert ok.status_code == 200
    r = client.put(f"/api/v1/campaigns/{second['id']}/shows", json={"show_ids": [show]}, headers=op)
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    r = client.put(
        f"/api/v1/campaigns/{second['id']}/shows", json={"show_ids": [other_base]}, headers=op
    )
    assert r.status_code == 422 and r.json()["fields"][0]["loc"] == "body.show_ids"
    assert client.get(f"/api/v1/campaigns/{second['id']}").json()["shows"] == []
    # Emptying the first frees the show for the second.
    client.put(f"/api/v1/campaigns/{first['id']}/shows", json={"show_ids": []}, headers=op)
    r = client.put(f"/api/v1/campaigns/{second['id']}/shows", json={"show_ids": [show]}, headers=op)
    assert r.status_code == 200 and [s["id"] for s in r.json()["shows"]] == [show]


def test_a_merchant_asks_to_join_and_the_operator_decides(
    client: TestClient, world: World, rt: Runtime
) -> None:
    camp = _create(client, world)
    mine = make_show(rt, world.brand_a1, world["host_a1"].id, "甲的专场")
    url = f"/api/v1/campaigns/{camp['id']}/join-requests"
    # Someone else's show: refused; one's own: pending, not yet on the public page.
    r = client.post(url, json={"show_id": mine}, headers=world["merchant_a2"].auth)
    assert r.status_code == 403
    r = client.post(url, json={"show_id": mine}, headers=world["merchant_a1"].auth)
    assert r.status_code == 201 and r.json()["status"] == "pending"
    public = client.get(f"/api/v1/campaigns/{camp['id']}").json()
    assert public["shows"] == [] and "pending_shows" not in public
    ops = client.get(f"/api/v1/campaigns/{camp['id']}", headers=world["op_a"].auth).json()
    assert [s["id"] for s in ops["pending_shows"]] == [mine]
    # The merchant cannot approve its own request; the operator can.
    assert (
        client.post(f"{url}/{mine}/approve", headers=world["merchant_a1"].auth).status_code == 403
    )
    assert client.post(f"{url}/{mine}/approve", headers=world["op_a"].auth).status_code == 200
    assert [s["id"] for s in client.get(f"/api/v1/campaigns/{camp['id']}").json()["shows"]] == [
        mine
    ]
    # A rejected request frees the show.
    other = make_show(rt, world.brand_a1, world["host_a1"].id, "再一场")
    client.post(url, json={"show_id": other}, headers=world["host_a1"].auth)
    assert client.post(f"{url}/{other}/reject", headers=world["op_a"].auth).status_code == 200
    assert client.post(f"{url}/{other}/reject", headers=world["op_a"].auth).status_code == 404
    with rt.sessions() as db:
        assert db.scalar(select(CampaignShow).where(CampaignShow.show_id == other)) is None


def test_bad_input_is_refused_and_changes_nothing(
    client: TestClient, world: World, rt: Runtime
) -> None:
    path = f"/api/v1/bases/{world.base_a}/campaigns"
    op = world["op_a"].auth
    cases = [
        (_body(ends_at=rfc3339(NOW - timedelta(days=3))), "body.ends_at"),
        (_body(ends_at=rfc3339(NOW + timedelta(days=400))), "body.ends_at"),
        (_body(banner_color="red"), "body.banner_color"),
        (_body(status="live"), "body.status"),
        (_body(starts_at="2026-12-01T08:00:00"), "body.starts_at"),
        (_body(name=""), "body.name"),
        (_body(gmv_fen=1), "body.gmv_fen"),
    ]
    for body, loc in cases:
        r = client.post(path, json=body, headers=op)
        assert r.status_code == 422, (loc, r.text)
        assert r.json()["error"] == "validation_failed"
        assert loc in [f["loc"] for f in r.json()["fields"]], (loc, r.json())
    assert (
        client.post(
            path, content=b"{", headers=op | {"content-type": "application/json"}
        ).status_code
        == 400
    )
    assert (
        client.post(path, content=b"x", headers=op | {"content-type": "text/plain"}).status_code
        == 415
    )
    assert client.post("/api/v1/bases/nope/campaigns", json=_body(), headers=op).status_code == 404
    assert _count(rt, Campaign) == 0
    camp = _create(client, world)
    url = f"/api/v1/campaigns/{camp['id']}"
    for patch in ({}, {"status": None}, {"ends_at": rfc3339(NOW - timedelta(days=9))}):
        assert client.patch(url, json=patch, headers=op).status_code == 422, patch
    r = client.put(f"{url}/shows", json={"show_ids": "x"}, headers=op)
    assert r.status_code == 422
    assert client.get(url).json()["ends_at"] == camp["ends_at"]


def test_campaigns_held_counts_published_campaigns_by_their_start(
    client: TestClient, world: World, rt: Runtime
) -> None:
    _create(client, world)
    _create(client, world, status="draft")
    _create(
        client,
        world,
        starts_at=rfc3339(NOW + timedelta(days=40)),
        ends_at=rfc3339(NOW + timedelta(days=41)),
    )
    with rt.sessions() as db:
        assert count_campaigns_held(db, world.base_a, NOW - timedelta(days=3), NOW) == 1
        assert (
            count_campaigns_held(
                db, world.base_a, NOW - timedelta(days=3), NOW + timedelta(days=60)
            )
            == 2
        )
        assert count_campaigns_held(db, world.base_b, NOW - timedelta(days=3), NOW) == 0


def test_a_burst_of_viewers_on_a_campaign_page_is_answered(
    client: TestClient, world: World, rt: Runtime
) -> None:
    camp = _create(client, world)
    show = make_show(rt, world.brand_a1, world["host_a1"].id, status="live")
    client.put(
        f"/api/v1/campaigns/{camp['id']}/shows",
        json={"show_ids": [show]},
        headers=world["op_a"].auth,
    )

    def get(_: int) -> int:
        return client.get(f"/api/v1/campaigns/{camp['id']}").status_code

    # 60 requests from 12 threads: every one answered, none a 500.
    with ThreadPoolExecutor(max_workers=12) as pool:
        statuses = list(pool.map(get, range(60)))
    assert set(statuses) <= {200, 503} and statuses.count(200) >= 1
    page = client.get(f"/campaigns/{camp['id']}")
    assert page.status_code == 200


def test_two_campaigns_racing_for_one_show_give_one_200_and_one_409(
    client: TestClient, world: World, rt: Runtime
) -> None:
    first = _create(client, world)
    second = _create(client, world, name="618")
    show = make_show(rt, world.brand_a1, world["host_a1"].id)

    def claim_first() -> None:
        with rt.sessions() as db, db.begin():
            campaign = service.get_campaign(db, first["id"])
            service.do_set_shows(db, SYSTEM_TESTS, campaign, [show])

    # The second claim has checked that the show is free and is about to write when the
    # first one commits. On SQLite the check reads outside a write lock (a deferred
    # transaction takes it at its first write, the DELETE), so the first claim commits in
    # between there; on PostgreSQL it commits while the second is about to insert. Either
    # way the unique index, not the check, decides.
    at = (
        "INSERT INTO campaign_shows"
        if rt.engine.dialect.name == "postgresql"
        else "DELETE FROM campaign_shows"
    )
    with interleave(rt.engine, at, claim_first) as fired:
        r = client.put(
            f"/api/v1/campaigns/{second['id']}/shows",
            json={"show_ids": [show]},
            headers=world["op_a"].auth,
        )
    assert fired
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    # The index's answer (the check's names the show): the check had passed.
    assert r.json()["detail"] == "A show is already in another campaign."
    with rt.sessions() as db:
        rows = db.scalars(select(CampaignShow).where(CampaignShow.show_id == show)).all()
        assert [row.campaign_id for row in rows] == [first["id"]]


def test_a_merchant_enters_a_show_from_the_campaign_page(
    client: TestClient, world: World, rt: Runtime
) -> None:
    camp = _create(client, world)
    show = make_show(rt, world.brand_a1, world["host_a1"].id, "甲的年货专场")
    csrf = page_login(client, "merchant_a1")
    page = client.get(f"/campaigns/{camp['id']}")
    assert 'data-testid="join-form"' in page.text and "甲的年货专场" in page.text
    r = client.post(
        f"/campaigns/{camp['id']}/join",
        data={"show_id": show, "csrf_token": csrf},
        follow_redirects=False,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?asked=1")
    with rt.sessions() as db:
        link = db.scalar(select(CampaignShow).where(CampaignShow.show_id == show))
        assert link is not None and link.status == "pending"
    # Once asked, the show is no longer offered.
    assert "甲的年货专场" not in client.get(f"/campaigns/{camp['id']}").text
