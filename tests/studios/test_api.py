"""Studios and bookings over the API: who may do what (a role matrix whose refusals
change nothing), bad input, cancelling, binding a show."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from livebase.app import create_app
from livebase.runtime import Runtime
from tests.conftest import World, _empty, build_world
from tests.dbstate import snapshot
from tests.studios.helpers import iso, local, make_studio, tomorrow

MINE = ("studios", "studio_bookings", "audit_records", "shows")


def _mine(rt: Runtime) -> dict[str, Any]:
    snap = snapshot(rt)
    return {name: snap[name] for name in MINE}


@dataclass
class Env:
    rt: Runtime
    client: TestClient
    world: World
    ids: dict[str, str] = field(default_factory=dict)

    def call(self, who: str | None, method: str, path: str, body: Any = None) -> Any:
        headers = self.world[who].auth if who else {}
        path = path.format(**self.ids)
        return self.client.request(method, path, json=body, headers=headers)


@pytest.fixture(scope="module")
def env(backend: Runtime) -> Iterator[Env]:
    """One world per backend: base A's studio with brand A1's booking tomorrow 10–12."""
    _empty(backend)
    world = build_world(backend)
    with TestClient(create_app(runtime=backend)) as client:
        e = Env(backend, client, world)
        e.ids["base_a"], e.ids["base_b"] = world.base_a, world.base_b
        e.ids["studio"] = make_studio(backend, world.base_a)
        e.ids["studio_b"] = make_studio(backend, world.base_b, "顺义一号")
        day = tomorrow()
        e.ids["day"] = day.isoformat()
        r = e.call(
            "merchant_a1",
            "POST",
            "/api/v1/studios/{studio}/bookings",
            {"starts_at": iso(local(day, 10)), "ends_at": iso(local(day, 12))},
        )
        assert r.status_code == 201, r.text
        e.ids["booking"] = r.json()["id"]
        yield e
    _empty(backend)


def _slot(hh: int, hours: int = 1) -> dict[str, str]:
    day = tomorrow()
    return {"starts_at": iso(local(day, hh)), "ends_at": iso(local(day, hh + hours))}


STUDIO_BODY = {
    "name": "三号直播间",
    "capacity": 3,
    "opening_hours": {"mon": {"open": "09:00", "close": "18:00"}},
}
# (who, method, path, body, status): every row is refused and changes nothing.
REFUSED = [
    # Another base's operator: cannot create here, cannot even see the studio or booking.
    ("op_b", "POST", "/api/v1/bases/{base_a}/studios", STUDIO_BODY, 403),
    ("op_b", "GET", "/api/v1/studios/{studio}", None, 404),
    ("op_b", "PATCH", "/api/v1/studios/{studio}", {"capacity": 99}, 404),
    ("op_b", "GET", "/api/v1/bases/{base_a}/studios", None, 403),
    ("op_b", "GET", "/api/v1/studios/{studio}/bookings", None, 404),
    ("op_b", "POST", "/api/v1/studios/{studio}/bookings", _slot(14), 404),
    ("op_b", "GET", "/api/v1/bookings/{booking}", None, 404),
    ("op_b", "DELETE", "/api/v1/bookings/{booking}", None, 404),
    ("op_b", "GET", "/api/v1/bases/{base_a}/studio-usage", None, 403),
    # Another base's merchant.
    ("merchant_b1", "POST", "/api/v1/studios/{studio}/bookings", _slot(14), 404),
    ("merchant_b1", "GET", "/api/v1/studios/{studio}", None, 404),
    # Another organisation of the same base: sees the studio, not A1's booking.
    ("merchant_a2", "PATCH", "/api/v1/studios/{studio}", {"capacity": 99}, 403),
    ("merchant_a2", "POST", "/api/v1/bases/{base_a}/studios", STUDIO_BODY, 403),
    ("merchant_a2", "GET", "/api/v1/bookings/{booking}", None, 404),
    ("merchant_a2", "DELETE", "/api/v1/bookings/{booking}", None, 404),
    ("merchant_a2", "POST", "/api/v1/bookings/{booking}/show", {"show_id": None}, 404),
    ("merchant_a2", "GET", "/api/v1/bases/{base_a}/studio-usage", None, 403),
    ("merchant_a2", "POST", "/api/v1/studios/{studio}/bookings", _slot(11), 409),
    # A host of A1 sees its organisation's booking but neither books nor cancels.
    ("host_a1", "POST", "/api/v1/studios/{studio}/bookings", _slot(14), 403),
    ("mod_a", "POST", "/api/v1/studios/{studio}/bookings", _slot(14), 403),
    ("host_a1", "DELETE", "/api/v1/bookings/{booking}", None, 403),
    ("host_a1", "POST", "/api/v1/bookings/{booking}/show", {"show_id": None}, 403),
    # A moderator of the base sees, but does not run studios.
    ("mod_a", "PATCH", "/api/v1/studios/{studio}", {"capacity": 99}, 403),
    ("mod_a", "GET", "/api/v1/bases/{base_a}/studio-usage", None, 403),
    # A plain viewer, and nobody.
    ("viewer", "GET", "/api/v1/studios/{studio}", None, 404),
    ("viewer", "POST", "/api/v1/studios/{studio}/bookings", _slot(14), 404),
    ("viewer", "POST", "/api/v1/bases/{base_a}/studios", STUDIO_BODY, 403),
    ("viewer", "GET", "/api/v1/bases/{base_a}/studios", None, 403),
    (None, "GET", "/api/v1/studios/{studio}", None, 401),
    (None, "POST", "/api/v1/studios/{studio}/bookings", _slot(14), 401),
]


@pytest.mark.parametrize(
    ("who", "method", "path", "body", "status"),
    REFUSED,
    ids=[f"{r[0]}-{r[1]}-{r[2].split('/')[-1]}-{i}" for i, r in enumerate(REFUSED)],
)
def test_role_matrix_refusals_change_nothing(
    env: Env, who: str | None, method: str, path: str, body: Any, status: int
) -> None:
    before = _mine(env.rt)
    r = env.call(who, method, path, body)
    assert r.status_code == status, r.text
    assert set(r.json()) >= {"error", "detail"}
    assert _mine(env.rt) == before


def test_base_people_read_and_another_orgs_booking_is_only_taken(env: Env) -> None:
    for who in ("op_a", "mod_a", "merchant_a1", "merchant_a2", "agency_a", "host_ag", "admin"):
        assert env.call(who, "GET", "/api/v1/studios/{studio}").status_code == 200, who
    day = env.ids["day"]
    q = f"?from={day}T00:00:00%2B08:00&to={day}T23:59:00%2B08:00"
    (own,) = env.call("merchant_a1", "GET", "/api/v1/studios/{studio}/bookings" + q).json()["items"]
    assert own["mine"] is True and own["org_id"] == env.world.brand_a1
    (other,) = env.call("merchant_a2", "GET", "/api/v1/studios/{studio}/bookings" + q).json()[
        "items"
    ]
    assert other["mine"] is False and "org_id" not in other and "booked_by" not in other
    (staff,) = env.call("op_a", "GET", "/api/v1/studios/{studio}/bookings" + q).json()["items"]
    assert staff["org_id"] == env.world.brand_a1
    listed = env.call("merchant_a2", "GET", "/api/v1/bases/{base_a}/studios").json()["items"]
    assert [s["id"] for s in listed] == [env.ids["studio"]]


BAD = [
    ("misaligned_start", {"starts_at": "T10:15", "ends_at": "T11:00"}, 422, "body.starts_at"),
    ("seconds", {"starts_at": "T10:00:30", "ends_at": "T11:00"}, 422, "body.starts_at"),
    ("misaligned_end", {"starts_at": "T14:00", "ends_at": "T14:45"}, 422, "body.ends_at"),
    ("end_before_start", {"starts_at": "T15:00", "ends_at": "T14:00"}, 422, "body.ends_at"),
    ("end_equals_start", {"starts_at": "T15:00", "ends_at": "T15:00"}, 422, "body.ends_at"),
    ("before_opening", {"starts_at": "T07:00", "ends_at": "T09:00"}, 422, "body.starts_at"),
    ("too_long", {"starts_at": "T08:00", "ends_at": "T20:30"}, 422, "body.ends_at"),
    ("past", {"starts_at": "-2T10:00", "ends_at": "-2T11:00"}, 422, "body.starts_at"),
    ("too_far", {"starts_at": "+400T10:00", "ends_at": "+400T11:00"}, 422, "body.starts_at"),
    ("no_offset", {"starts_at": "naive", "ends_at": "T11:00"}, 422, "body.starts_at"),
    ("unknown_field", {"starts_at": "T16:00", "ends_at": "T17:00", "status": "x"}, 422, None),
    ("org_of_other_base", {"starts_at": "T16:00", "ends_at": "T17:00", "org_id": "B1"}, 422,
     "body.org_id"),
]  # fmt: skip


def _times(spec: dict[str, str], env: Env) -> dict[str, str]:
    """ "T10:15" is tomorrow at 10:15 Beijing time, "-2T10:00" two days before it,
    "T10:00:30" has seconds, "naive" has no offset."""
    out = dict(spec)
    for key in ("starts_at", "ends_at"):
        if spec[key] == "naive":
            out[key] = f"{tomorrow().isoformat()}T10:00:00"
            continue
        shift, _, hhmm = spec[key].partition("T")
        h, m, *sec = (int(p) for p in hhmm.split(":"))
        at = local(tomorrow() + timedelta(days=int(shift or 0)), h, m)
        out[key] = iso(at + timedelta(seconds=sec[0] if sec else 0))
    if out.get("org_id") == "B1":
        out["org_id"] = env.world.brand_b1
    return out


@pytest.mark.parametrize(("label", "spec", "status", "loc"), BAD, ids=[b[0] for b in BAD])
def test_bad_slots_are_refused_with_the_field_named_and_change_nothing(
    env: Env, label: str, spec: dict[str, str], status: int, loc: str | None
) -> None:
    before = _mine(env.rt)
    r = env.call("merchant_a1", "POST", "/api/v1/studios/{studio}/bookings", _times(spec, env))
    assert r.status_code == status, r.text
    body = r.json()
    assert body["error"] == "validation_failed"
    if loc:
        assert loc in [f["loc"] for f in body["fields"]], body
    assert _mine(env.rt) == before


def test_an_unknown_studio_or_booking_is_404(env: Env) -> None:
    r = env.call("merchant_a1", "POST", "/api/v1/studios/std_nope/bookings", _slot(14))
    assert r.status_code == 404 and r.json()["error"] == "not_found"
    assert env.call("op_a", "GET", "/api/v1/bookings/bkg_nope").status_code == 404
    assert env.call("op_a", "PATCH", "/api/v1/studios/std_nope", {"capacity": 2}).status_code == 404


BAD_STUDIOS = [
    ("close_before_open", {"opening_hours": {"mon": {"open": "18:00", "close": "09:00"}}}),
    ("quarter_hour", {"opening_hours": {"tue": {"open": "09:15", "close": "18:00"}}}),
    ("past_midnight", {"opening_hours": {"wed": {"open": "09:00", "close": "24:30"}}}),
    ("no_weekday", {"opening_hours": {"someday": {"open": "09:00", "close": "18:00"}}}),
    ("zero_capacity", {"capacity": 0}),
    ("capacity_string", {"capacity": "6"}),
    ("no_name", {"name": " "}),
    ("equipment_not_list", {"equipment": "绿幕"}),
]


@pytest.mark.parametrize(("label", "over"), BAD_STUDIOS, ids=[b[0] for b in BAD_STUDIOS])
def test_bad_studios_are_refused_and_change_nothing(env: Env, label: str, over: Any) -> None:
    before = _mine(env.rt)
    body = {**STUDIO_BODY, **over}
    r = env.call("op_a", "POST", "/api/v1/bases/{base_a}/studios", body)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "validation_failed"
    r = env.call("op_a", "PATCH", "/api/v1/studios/{studio}", over)
    assert r.status_code == 422, r.text
    assert _mine(env.rt) == before
