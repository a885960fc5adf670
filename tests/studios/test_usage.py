"""Usage per studio and per organisation, and the dashboard metric, against sums worked
out independently (by hand and in plain SQL) over seeded bookings."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import text, update

from livebase.app import create_app
from livebase.features import load
from livebase.runtime import Runtime
from livebase.shows import service as shows
from livebase.shows.models import Show
from livebase.studios import service as studios
from tests.conftest import SYSTEM_TESTS, World
from tests.studios.helpers import iso, local, make_studio

DAY0 = date(2026, 6, 1)  # a Monday; bookings are made "as of" ten days before it
AS_OF = local(DAY0 - timedelta(days=10), 9)
START, END = local(DAY0, 0), local(DAY0 + timedelta(days=7), 0)


def _seed(rt: Runtime, w: World) -> dict[str, str]:
    s1 = make_studio(rt, w.base_a, "一号")
    s2 = make_studio(rt, w.base_a, "二号")
    s3 = make_studio(rt, w.base_b, "顺义")
    d = lambda n: DAY0 + timedelta(days=n)  # noqa: E731
    slots = [  # (key, studio, org, day, start (h, m), end (h, m))
        ("a1_mon", s1, w.brand_a1, 0, (10, 0), (12, 0)),
        ("a2_tue", s1, w.brand_a2, 1, (14, 0), (15, 30)),
        ("ag_mon", s2, w.agency_a, 0, (10, 0), (13, 0)),
        ("a1_sun", s2, w.brand_a1, 6, (20, 0), (24, 0)),
        ("cancelled", s1, w.brand_a2, 2, (10, 0), (12, 0)),
        ("before", s1, w.brand_a1, -1, (10, 0), (11, 0)),
        ("after", s1, w.brand_a1, 7, (10, 0), (11, 0)),
        ("base_b", s3, w.brand_b1, 0, (10, 0), (12, 0)),
    ]
    ids = {"s1": s1, "s2": s2}
    with rt.sessions() as db, db.begin():
        for key, sid, org, n, (h0, m0), (h1, m1) in slots:
            studio = studios.get_studio(db, sid)
            b = studios.do_book(
                db,
                SYSTEM_TESTS,
                studio,
                org,
                local(d(n), h0, m0),
                local(d(n), 0) + timedelta(hours=h1, minutes=m1),
                now=AS_OF,
            )
            ids[key] = b.id
        studios.do_cancel(db, SYSTEM_TESTS, db.get(type(b), ids["cancelled"]), now=AS_OF)  # type: ignore[arg-type]
        # Shows made in two of the slots, live for 1.5 h inside the first and from before
        # the second's start (only the hour inside it counts).
        for key, org, host, at, live_from, live_to in (
            (
                "a1_mon",
                w.brand_a1,
                w["host_a1"].id,
                local(d(0), 10, 30),
                local(d(0), 10, 15),
                local(d(0), 11, 45),
            ),
            (
                "ag_mon",
                w.agency_a,
                w["host_ag"].id,
                local(d(0), 10, 0),
                local(d(0), 9, 0),
                local(d(0), 11, 0),
            ),
        ):
            show = shows.do_create_show(db, SYSTEM_TESTS, org, "专场", at, host)
            booking = studios.check_see_booking(db, _admin(db, w), ids[key])
            studios.do_bind_show(db, SYSTEM_TESTS, booking, show.id)
            db.execute(
                update(Show)
                .where(Show.id == show.id)
                .values(status="ended", started_at=live_from, ended_at=live_to)
            )
    return ids


def _admin(db, w: World):  # type: ignore[no-untyped-def]
    from livebase.accounts.service import Principal, get_user, grants_of

    user = get_user(db, w["admin"].id)
    return Principal(user, grants_of(db, user.id))


def _sql_seconds(rt: Runtime, base_id: str) -> float:
    seconds = {
        "postgresql": "EXTRACT(EPOCH FROM ends_at - starts_at)",
        "sqlite": "CAST(strftime('%s', ends_at) AS INTEGER)"
        " - CAST(strftime('%s', starts_at) AS INTEGER)",
    }[rt.engine.dialect.name]
    with rt.engine.connect() as conn:
        return float(
            conn.execute(
                text(
                    f"SELECT COALESCE(SUM({seconds}), 0) FROM studio_bookings "
                    "WHERE base_id = :b AND status = 'active' "
                    "AND starts_at >= :s AND starts_at < :e"
                ),
                {"b": base_id, "s": _stored(rt, START), "e": _stored(rt, END)},
            ).scalar_one()
        )


def _stored(rt: Runtime, at: object) -> object:
    from livebase.db import UTCDateTime

    value = UTCDateTime().process_bind_param(at, rt.engine.dialect)  # type: ignore[arg-type]
    # SQLite keeps the text SQLAlchemy writes; compare as that text.
    return value.strftime("%Y-%m-%d %H:%M:%S.%f") if rt.engine.dialect.name == "sqlite" else value  # type: ignore[union-attr]


def test_studio_hours_booked_equals_an_independent_sql_sum(rt: Runtime, world: World) -> None:
    _seed(rt, world)
    (spec, counter, _) = next(
        m for lf in load() for m in lf.metrics if m[0].name == "studio_hours_booked"
    )
    assert spec.unit == "hours" and not spec.cumulative
    sql = _sql_seconds(rt, world.base_a)
    assert sql == (2 + 1.5 + 3 + 4) * 3600  # by hand: the four active slots starting inside
    with rt.sessions() as db:
        assert counter(db, world.base_a, START, END) == int(sql // 3600) == 10
        # Half-open: a booking starting at END belongs to the next period.
        assert counter(db, world.base_a, END, END + timedelta(days=1)) == 1


def test_usage_per_studio_and_org_through_the_api(rt: Runtime, world: World) -> None:
    _seed(rt, world)
    with TestClient(create_app(runtime=rt)) as client:
        r = client.get(
            f"/api/v1/bases/{world.base_a}/studio-usage",
            params={"from": iso(START), "to": iso(END)},
            headers=world["op_a"].auth,
        )
        assert r.status_code == 200, r.text
        u = r.json()
        bad = client.get(
            f"/api/v1/bases/{world.base_a}/studio-usage",
            params={"from": iso(END), "to": iso(START)},
            headers=world["op_a"].auth,
        )
        assert bad.status_code == 422 and bad.json()["fields"][0]["loc"] == "query.to"
    by_studio = {s["name"]: s for s in u["studios"]}
    assert {k: by_studio["一号"][k] for k in ("hours_booked", "hours_used", "open_hours")} == {
        "hours_booked": 3.5,
        "hours_used": 1.5,
        "open_hours": 16 * 7,
    }
    assert by_studio["一号"]["utilisation_pct"] == round(100 * 3.5 / 112, 1)
    assert (by_studio["二号"]["hours_booked"], by_studio["二号"]["hours_used"]) == (7.0, 1.0)
    orgs = {o["id"]: (o["hours_booked"], o["hours_used"]) for o in u["orgs"]}
    assert orgs == {
        world.brand_a1: (6.0, 1.5),
        world.brand_a2: (1.5, 0.0),
        world.agency_a: (3.0, 1.0),
    }
    assert u["total"] == {"hours_booked": 10.5, "hours_used": 2.5}
