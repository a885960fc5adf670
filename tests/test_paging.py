"""Every list pages as DESIGN §4 says: `{items, next_cursor}`, `?limit=` 1–100 (default
20), `?cursor=` the last id seen; a bad limit or a cursor that is not an id of the list's
kind is 422, never the first page, an empty page or everything.

One table names each list: its path, who reads it, the id prefix of its items, and how
to make enough items for three pages of two.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from livebase.bases import service as bases
from tests.conftest import SYSTEM_TESTS, World, product_body

Make = Callable[[TestClient, World], None]


def _post(client: TestClient, world: World, actor: str, path: str, body: dict[str, Any]) -> None:
    r = client.post(path, json=body, headers=world[actor].auth)
    assert r.status_code == 201, r.text


def _bases(client: TestClient, world: World) -> None:
    with world.rt.sessions() as db, db.begin():
        for i in range(3):
            bases.do_create_base(db, SYSTEM_TESTS, f"基地{i}", "海淀区")


def _counters(client: TestClient, world: World) -> None:
    for i in range(5):
        body = {"name": f"提货点{i}", "warehouse_id": world.warehouse_a, "customs_code": "0101"}
        _post(client, world, "op_a", f"/api/v1/bases/{world.base_a}/pickup-counters", body)


def _warehouses(client: TestClient, world: World) -> None:
    for i in range(4):
        body = {"name": f"仓{i}", "customs_code": "0101", "ems_no": f"T0101W00000{i + 2}"}
        _post(client, world, "op_a", f"/api/v1/bases/{world.base_a}/warehouses", body)


def _applications(client: TestClient, world: World) -> None:
    # Three pending at one base is the most one applicant may have there.
    for i, base in enumerate([world.base_a] * 3 + [world.base_b] * 2):
        body = {"org_kind": "brand", "name": f"品牌{i}"}
        _post(client, world, "viewer", f"/api/v1/bases/{base}/applications", body)


def _base_applications(client: TestClient, world: World) -> None:
    for i in range(5):
        founder = world.add_user(f"founder{i}").username
        body = {"org_kind": "agency", "name": f"机构{i}"}
        _post(client, world, founder, f"/api/v1/bases/{world.base_a}/applications", body)


def _products(client: TestClient, world: World) -> None:
    for _ in range(5):
        _post(client, world, "merchant_a1", "/api/v1/products", product_body(world.brand_a1))


def _shows(client: TestClient, world: World) -> None:
    for i in range(5):
        body = {
            "org_id": world.brand_a1,
            "title": f"专场{i}",
            "scheduled_at": "2026-12-01T12:00:00Z",
        }
        _post(client, world, "host_a1", "/api/v1/shows", body)


def _members(client: TestClient, world: World) -> None:
    """The agency has its staff member and a host; three more hosts sign."""
    for i in range(3):
        world.add_user(f"signed{i}", "host", base_id=world.base_a, org_id=world.agency_a)


def _nothing(client: TestClient, world: World) -> None:
    """The world has three organisations in base A already."""


@dataclass(frozen=True)
class Listing:
    name: str
    path: Callable[[World], str]
    actor: str | None
    prefix: str
    make: Make
    total: Callable[[World], int]


LISTS = [
    Listing("bases", lambda w: "/api/v1/bases", None, "base", _bases, lambda w: 5),
    Listing("orgs", lambda w: f"/api/v1/bases/{w.base_a}/orgs", None, "org", _nothing, lambda w: 3),
    Listing(
        "pickup_counters",
        lambda w: f"/api/v1/bases/{w.base_a}/pickup-counters",
        None,
        "pc",
        _counters,
        lambda w: 5,
    ),
    Listing(
        "warehouses",
        lambda w: f"/api/v1/bases/{w.base_a}/warehouses",
        "op_a",
        "wh",
        _warehouses,
        lambda w: 5,
    ),
    Listing(
        "my_applications",
        lambda w: "/api/v1/me/applications",
        "viewer",
        "app",
        _applications,
        lambda w: 5,
    ),
    Listing(
        "base_applications",
        lambda w: f"/api/v1/bases/{w.base_a}/applications",
        "op_a",
        "app",
        _base_applications,
        lambda w: 5,
    ),
    Listing(
        "members",
        lambda w: f"/api/v1/orgs/{w.agency_a}/members",
        "agency_a",
        "rg",
        _members,
        lambda w: 5,
    ),
    Listing("products", lambda w: "/api/v1/products", None, "prd", _products, lambda w: 5),
    Listing("shows", lambda w: "/api/v1/shows", None, "show", _shows, lambda w: 5),
]


def _auth(world: World, actor: str | None) -> dict[str, str]:
    return world[actor].auth if actor else {}


@pytest.mark.parametrize("listing", LISTS, ids=[x.name for x in LISTS])
def test_a_list_pages_through_every_item_once(
    client: TestClient, world: World, listing: Listing
) -> None:
    listing.make(client, world)
    url, headers = listing.path(world), _auth(world, listing.actor)
    everything = client.get(url, params={"limit": 100}, headers=headers).json()
    assert len(everything["items"]) == listing.total(world) and everything["next_cursor"] is None
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        r = client.get(url, params=params, headers=headers)
        assert r.status_code == 200, r.text
        page = r.json()
        assert set(page) == {"items", "next_cursor"} and len(page["items"]) <= 2
        seen += [item["id"] for item in page["items"]]
        pages += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
        assert cursor.startswith(f"{listing.prefix}_")
    assert seen == [item["id"] for item in everything["items"]]
    assert pages == (listing.total(world) + 1) // 2


def test_the_default_page_is_20_items(client: TestClient, world: World) -> None:
    with world.rt.sessions() as db, db.begin():
        for i in range(23):
            bases.do_create_base(db, SYSTEM_TESTS, f"基地{i}", "海淀区")
    page = client.get("/api/v1/bases").json()
    assert len(page["items"]) == 20 and page["next_cursor"] is not None


BAD_PAGING = {
    "limit_0": {"limit": "0"},
    "limit_101": {"limit": "101"},
    "limit_abc": {"limit": "abc"},
    "limit_negative": {"limit": "-1"},
    "cursor_garbage": {"cursor": "zzzz"},
    "cursor_sql": {"cursor": "' OR 1=1 --"},
    "cursor_too_short": {"cursor": "{prefix}_0123"},
    "cursor_of_another_kind": {"cursor": "usr_01jd0000000000000000000000"},
    "cursor_uppercase": {"cursor": "{prefix}_01JD0000000000000000000000"},
}


@pytest.mark.parametrize("bad", BAD_PAGING, ids=list(BAD_PAGING))
@pytest.mark.parametrize("listing", LISTS, ids=[x.name for x in LISTS])
def test_a_bad_limit_or_cursor_is_422_naming_the_parameter(
    client: TestClient, world: World, listing: Listing, bad: str
) -> None:
    params = {k: v.format(prefix=listing.prefix) for k, v in BAD_PAGING[bad].items()}
    r = client.get(listing.path(world), params=params, headers=_auth(world, listing.actor))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["error"] == "validation_failed"
    assert [f["loc"] for f in body["fields"]] == [f"query.{next(iter(params))}"]


def test_a_well_formed_cursor_of_the_right_kind_is_accepted(
    client: TestClient, world: World
) -> None:
    _products(client, world)
    # An id that sorts after every real one: the whole list, newest first.
    r = client.get("/api/v1/products", params={"cursor": "prd_zzzzzzzzzzzzzzzzzzzzzzzzzz"})
    assert r.status_code == 200 and len(r.json()["items"]) == 5
