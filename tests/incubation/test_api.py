"""Host profiles, cohorts and levels over the API: who sees and changes what (agencies
their own hosts only; one base's operator never another's), and bad input refused with
nothing changed."""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient

from livebase.db import Base
from livebase.runtime import Runtime
from tests.conftest import World


def _profile(client: TestClient, world: World, host: str, org_id: str) -> dict[str, Any]:
    r = client.post(
        f"/api/v1/bases/{world.base_a}/hosts",
        json={"org_id": org_id, "user_id": world[host].id, "specialities": ["美妆", "护肤"]},
        headers=world[host].auth,
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def test_profiles_are_seen_by_the_host_their_org_and_the_base_operator_only(
    client: TestClient, world: World
) -> None:
    a1 = _profile(client, world, "host_a1", world.brand_a1)
    ag = _profile(client, world, "host_ag", world.agency_a)
    assert a1["level"]["name"] == "新秀" and a1["avatar"]["initial"]
    url = f"/api/v1/bases/{world.base_a}/hosts"
    seen = {
        who: {i["id"] for i in client.get(url, headers=world[who].auth).json()["items"]}
        for who in ("op_a", "agency_a", "merchant_a1")
    }
    assert seen == {"op_a": {a1["id"], ag["id"]}, "agency_a": {ag["id"]}, "merchant_a1": {a1["id"]}}
    for who in ("op_b", "viewer", "merchant_b1"):
        assert client.get(url, headers=world[who].auth).status_code == 403
    for who in ("op_b", "agency_a", "merchant_a2", "viewer"):
        r = client.get(f"/api/v1/host-profiles/{a1['id']}", headers=world[who].auth)
        assert r.status_code == 404, who
        g = client.get(f"/api/v1/host-profiles/{a1['id']}/growth", headers=world[who].auth)
        assert g.status_code == 404, who
    # A host makes only their own profile; a second one in the same org is a conflict.
    other = client.post(
        url,
        json={"org_id": world.brand_a1, "user_id": world["viewer"].id},
        headers=world["host_a1"].auth,
    )
    assert other.status_code == 403
    again = client.post(
        url,
        json={"org_id": world.brand_a1, "user_id": world["host_a1"].id},
        headers=world["op_a"].auth,
    )
    assert again.status_code == 409


def test_a_profile_is_edited_by_its_host_or_org_staff_and_bad_input_changes_nothing(
    client: TestClient, world: World
) -> None:
    a1 = _profile(client, world, "host_a1", world.brand_a1)
    url = f"/api/v1/host-profiles/{a1['id']}"
    r = client.patch(url, json={"bio": "十年美妆主播"}, headers=world["host_a1"].auth)
    assert r.status_code == 200 and r.json()["bio"] == "十年美妆主播"
    r = client.patch(url, json={"specialities": ["食品"]}, headers=world["merchant_a1"].auth)
    assert r.status_code == 200 and r.json()["specialities"] == ["食品"]
    assert client.patch(url, json={"bio": "x"}, headers=world["op_a"].auth).status_code == 403
    assert client.patch(url, json={"bio": "x"}, headers=world["op_b"].auth).status_code == 404
    bad: list[Any] = [
        {"specialities": ["a"] * 9},
        {"specialities": ["这是一个非常非常长的专长标签"]},
        {"bio": None},
        {"level_rank": 3},
        {},
    ]
    for body in bad:
        r = client.patch(url, json=body, headers=world["host_a1"].auth)
        assert r.status_code == 422, body
        assert r.json()["error"] == "validation_failed"
    after = client.get(url, headers=world["host_a1"].auth).json()
    assert (after["bio"], after["specialities"], after["level"]["rank"]) == (
        "十年美妆主播",
        ["食品"],
        0,
    )


def test_cohorts_are_the_base_operators_and_their_mentors(client: TestClient, world: World) -> None:
    a1 = _profile(client, world, "host_a1", world.brand_a1)
    body = {
        "name": "2026 冬季孵化营",
        "goals": "每人每周 3 场",
        "goal_gmv_fen": 10_000_000,
        "goal_hours": 120,
        "starts_on": "2026-12-01",
        "ends_on": "2027-02-28",
        "mentor_ids": [world["agency_a"].id],
    }
    url = f"/api/v1/bases/{world.base_a}/cohorts"
    assert client.post(url, json=body, headers=world["op_b"].auth).status_code == 403
    assert client.post(url, json=body, headers=world["agency_a"].auth).status_code == 403
    for bad in (
        {"ends_on": "2026-11-01"},
        {"starts_on": "2026-13-01"},
        {"goal_hours": -1},
        {"starts_on": 20261201},
        {"extra": 1},
    ):
        r = client.post(url, json=body | bad, headers=world["op_a"].auth)
        assert r.status_code == 422, bad
    assert client.get(url, headers=world["op_a"].auth).json()["items"] == []
    made = client.post(url, json=body, headers=world["op_a"].auth)
    assert made.status_code == 201, made.text
    cid = made.json()["id"]
    members = f"/api/v1/cohorts/{cid}/members"
    assert (
        client.post(
            members, json={"profile_id": a1["id"]}, headers=world["agency_a"].auth
        ).status_code
        == 403
    )
    assert (
        client.post(members, json={"profile_id": a1["id"]}, headers=world["op_b"].auth).status_code
        == 404
    )
    assert (
        client.post(members, json={"profile_id": a1["id"]}, headers=world["op_a"].auth).status_code
        == 201
    )
    assert (
        client.post(members, json={"profile_id": a1["id"]}, headers=world["op_a"].auth).status_code
        == 409
    )
    assert (
        client.post(members, json={"profile_id": "hp_nope"}, headers=world["op_a"].auth).status_code
        == 422
    )
    # The mentor reads the cohort (and now the member's profile); another base's operator
    # does not learn it exists.
    seen = client.get(f"/api/v1/cohorts/{cid}", headers=world["agency_a"].auth).json()
    assert [m["id"] for m in seen["members"]] == [a1["id"]]
    assert client.get(f"/api/v1/cohorts/{cid}", headers=world["op_b"].auth).status_code == 404
    patched = client.patch(
        f"/api/v1/cohorts/{cid}", json={"goal_hours": 150}, headers=world["op_a"].auth
    )
    assert patched.json()["goal_hours"] == 150
    bad = client.patch(
        f"/api/v1/cohorts/{cid}", json={"ends_on": "2026-01-01"}, headers=world["op_a"].auth
    )
    assert bad.status_code == 422
    assert (
        client.get(f"/api/v1/cohorts/{cid}", headers=world["op_a"].auth).json()["ends_on"]
        == "2027-02-28"
    )
    r = client.delete(f"{members}/{a1['id']}", headers=world["op_a"].auth)
    assert r.status_code == 204
    board = client.get(f"/api/v1/bases/{world.base_a}/leaderboard?cohort_id={cid}")
    assert board.status_code == 200 and board.json()["items"] == []
    assert (
        client.get(f"/api/v1/bases/{world.base_b}/leaderboard?cohort_id={cid}").status_code == 404
    )


def test_levels_are_public_and_set_by_the_operator_within_the_rules(
    client: TestClient, world: World
) -> None:
    url = f"/api/v1/bases/{world.base_a}/levels"
    assert [lv["name"] for lv in client.get(url).json()["items"]] == [
        "新秀",
        "成长",
        "优秀",
        "金牌",
    ]
    good = {
        "levels": [
            {"name": "新人"},
            {"name": "达人", "min_hours": 5, "min_gmv_fen": 100, "min_shows": 2},
        ]
    }
    assert client.put(url, json=good, headers=world["op_b"].auth).status_code == 403
    assert client.put(url, json=good, headers=world["host_a1"].auth).status_code == 403
    bad: list[Any] = [
        {"levels": []},
        {"levels": [{"name": "新人", "min_hours": 1}]},
        {"levels": [{"name": "A"}, {"name": "B", "min_shows": 5}, {"name": "C", "min_shows": 4}]},
        {"levels": [{"name": "A"}, {"name": "A"}]},
        {"levels": [{"name": "A", "min_gmv_fen": 1.5}]},
    ]
    for body in bad:
        assert client.put(url, json=body, headers=world["op_a"].auth).status_code == 422, body
    assert len(client.get(url).json()["items"]) == 4
    r = client.put(url, json=good, headers=world["op_a"].auth)
    assert r.status_code == 200 and [lv["name"] for lv in r.json()["items"]] == ["新人", "达人"]
    other = client.get(f"/api/v1/bases/{world.base_b}/levels").json()["items"]
    assert other[0]["name"] == "新秀"


def test_the_leaderboard_refuses_a_bad_period(client: TestClient, world: World) -> None:
    url = f"/api/v1/bases/{world.base_a}/leaderboard"
    for q in (
        "from=yesterday",
        "from=2026-12-02T00:00:00Z&to=2026-12-01T00:00:00Z",
        "by=likes",
        "limit=0",
        "from=2000-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
    ):
        r = client.get(f"{url}?{q}")
        assert r.status_code == 422 and r.json()["error"] == "validation_failed", q
    assert client.get("/api/v1/bases/base_nope/leaderboard").status_code == 404


def test_the_migration_makes_exactly_the_incubation_tables(rt: Runtime) -> None:
    # By name: the campaigns feature has tables of its own about brand incubation.
    ours = {
        f"incubation_{n}"
        for n in (
            "host_profiles",
            "cohorts",
            "cohort_mentors",
            "cohort_members",
            "levels",
            "promotions",
            "show_rollups",
        )
    }
    assert ours <= set(Base.metadata.tables)
    with rt.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)

    def about_us(d: Any) -> bool:
        text_ = repr(d)
        return any(name in text_ for name in ours)

    assert [d for d in diff if about_us(d)] == []


def test_a_host_photo_is_uploaded_by_its_host_checked_for_text_and_held_until_approved(
    client: TestClient, world: World, rt: Runtime
) -> None:
    from livebase.jobs import service as jobs
    from tests.compliance.test_ocr import picture
    from tests.conftest import png_bytes

    a1 = _profile(client, world, "host_a1", world.brand_a1)
    url = f"/api/v1/host-profiles/{a1['id']}/photo"

    def send(who: str, data: bytes, kind: str = "image/png") -> Any:
        return client.post(url, headers=world[who].auth, files={"file": ("p.png", data, kind)})

    # The wrong people, and what is not an image, change nothing.
    # The base's operator sees the profile but does not set the host's picture; others
    # do not see it at all.
    assert send("op_a", png_bytes()).status_code == 403
    for who in ("host_ag", "merchant_a2", "op_b", "viewer"):
        assert send(who, png_bytes()).status_code == 404, who
    r = send("host_a1", b"not a picture at all")
    assert r.status_code == 415 and r.json()["error"] == "unsupported_media_type", r.text
    r = client.post(url, headers=world["host_a1"].auth, json={"file": "x"})
    assert r.status_code == 415, r.text
    assert (
        client.get(f"/api/v1/host-profiles/{a1['id']}", headers=world["op_a"].auth).json()[
            "avatar"
        ]["photo_url"]
        is None
    )

    # A clean photo is shown at once, and on the public leaderboard's profile too.
    r = send("merchant_a1", png_bytes((64, 64)))  # the brand's staff may set it
    assert r.status_code == 201, r.text
    clean = r.json()["avatar"]["photo_url"]
    assert clean.startswith(f"/uploads/hosts/{a1['id']}/")
    assert client.get(clean).status_code == 200
    jobs.run_due(rt.sessions, rt.jobs)
    got = client.get(f"/api/v1/host-profiles/{a1['id']}", headers=world["op_a"].auth).json()
    assert got["avatar"]["photo_url"] == clean

    # A photo with a contact written on it is held for review (the profile stays).
    r = send("host_a1", picture("加V: abc123"))
    assert r.status_code == 201, r.text
    written = r.json()["avatar"]["photo_url"]
    jobs.run_due(rt.sessions, rt.jobs)
    got = client.get(f"/api/v1/host-profiles/{a1['id']}", headers=world["host_a1"].auth).json()
    assert got["avatar"]["photo_url"] is None and got["avatar"]["initial"]
    queue = client.get("/api/v1/moderation/queue", headers=world["mod_a"].auth).json()["items"]
    [item] = [i for i in queue if i["subject_type"] == "host_photo"]
    assert item["subject_id"] == a1["id"] and item["image_url"] == written
    r = client.post(f"/api/v1/moderation/items/{item['id']}/approve", headers=world["mod_a"].auth)
    assert r.status_code == 200, r.text
    got = client.get(f"/api/v1/host-profiles/{a1['id']}", headers=world["host_a1"].auth).json()
    assert got["avatar"]["photo_url"] == written
