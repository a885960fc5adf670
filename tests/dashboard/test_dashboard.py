"""The base dashboard: figures equal to independent sums, access, bad input, exports,
targets, forecast and the pages."""

from __future__ import annotations

import csv
import io
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import bindparam, select, text

from livebase.accounts.service import do_issue_token, user_by_username
from livebase.bases import service as bases
from livebase.dashboard import months, rollup, service
from livebase.dashboard.models import MetricMonth
from livebase.dashboard.registry import names
from livebase.http import SESSION_COOKIE
from livebase.runtime import Runtime
from tests.conftest import SYSTEM_TESTS, World
from tests.dashboard.seed import UNPAID_STATES, Seeded, seed

CORE = ("gmv_fen", "orders_paid", "shows_held", "live_hours", "brands_incubated")


@pytest.fixture
def seeded(world: World) -> Seeded:
    s = seed(world)
    with world.rt.sessions() as db, db.begin():
        bases.do_set_target(db, SYSTEM_TESTS, world.base_a, "gmv_fen", str(s.now.year), 10**6, 500)
        bases.do_set_target(
            db, SYSTEM_TESTS, world.base_a, "brands_incubated", f"{s.now.year - 1}-{s.now.year}", 5
        )
        bases.do_set_target(db, SYSTEM_TESTS, world.base_a, "shows_held", str(s.now.year), 3)
        # Enough budget to fill every kept month in one run, as after a few 30 s runs.
        rollup.do_rollup(db, budget=10_000)
    return s


def _sql_gmv(rt: Runtime, base_id: str, month: str) -> int:
    """GMV of a month by a hand-written statement, independent of the counters."""
    with rt.engine.connect() as conn:
        value = conn.execute(
            text(
                "SELECT COALESCE(SUM(total_fen), 0) FROM orders WHERE base_id = :b "
                "AND paid_at >= :s AND paid_at < :e AND status NOT IN :bad"
            ).bindparams(bindparam("bad", expanding=True)),
            {
                "b": base_id,
                "s": months.start(month),
                "e": months.end(month),
                "bad": list(UNPAID_STATES),
            },
        ).scalar()
    return int(value or 0)


def test_the_core_metrics_are_in_the_registry_and_others_may_join() -> None:
    assert set(CORE) | {"new_brands_launched"} <= set(names())
    assert len(names()) == len(set(names()))


def test_every_dashboard_figure_equals_an_independent_sum_after_the_rollup(
    client: TestClient, world: World, seeded: Seeded
) -> None:
    r = client.get(f"/api/v1/bases/{world.base_a}/dashboard", headers=world["op_a"].auth)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["rolled_up_at"] is not None  # read from the rollups, not counted live
    by_metric = {m["metric"]: m for m in body["metrics"]}
    assert set(by_metric) == set(names())  # every registry metric, whoever declared it
    for name in (*CORE, "new_brands_launched"):
        for point in by_metric[name]["months"]:
            assert point["value"] == seeded.expected.get((name, point["month"]), 0), (name, point)
    for back in range(6):
        month = seeded.month(back)
        assert _sql_gmv(world.rt, world.base_a, month) == seeded.expected[("gmv_fen", month)]
    year = seeded.now.year
    ytd = sum(
        v for (m, month), v in seeded.expected.items() if m == "gmv_fen" and month[:4] == str(year)
    )
    assert by_metric["gmv_fen"]["ytd"] == ytd
    # The same figures counted live, and the targets of the public base page, agree.
    live = client.get(
        f"/api/v1/bases/{world.base_a}/dashboard?source=live", headers=world["op_a"].auth
    ).json()
    assert [m["months"] for m in live["metrics"]] == [m["months"] for m in body["metrics"]]
    public = client.get(f"/api/v1/bases/{world.base_a}").json()["targets"]
    assert {(t["metric"], t["period"], t["actual"]) for t in public} == {
        (t["metric"], t["period"], t["actual"]) for t in body["targets"]
    }
    gmv = next(t for t in body["targets"] if t["metric"] == "gmv_fen")
    assert gmv["actual"] == 500 + ytd and gmv["reported"] == 500


def test_the_rollup_recomputes_a_hot_month_after_a_refund(
    client: TestClient, world: World, seeded: Seeded, rt: Runtime
) -> None:
    month = seeded.month(0)
    with rt.sessions() as db, db.begin():
        before = db.scalar(
            select(MetricMonth.value).where(
                MetricMonth.base_id == world.base_a,
                MetricMonth.metric == "gmv_fen",
                MetricMonth.month == month,
            )
        )
        assert before == seeded.expected[("gmv_fen", month)]
        db.execute(
            text("UPDATE orders SET status = 'refunded' WHERE base_id = :b AND status = 'paid'"),
            {"b": world.base_a},
        )
        rollup.rollup_job(db, {})  # the recurring job's handler, default budget
    got = client.get(f"/api/v1/bases/{world.base_a}/dashboard", headers=world["op_a"].auth)
    point = next(m for m in got.json()["metrics"] if m["metric"] == "gmv_fen")["months"][-1]
    assert point == {"month": month, "value": _sql_gmv(rt, world.base_a, month)}


def test_forecast_extrapolates_the_last_three_full_months(world: World, seeded: Seeded) -> None:
    with world.rt.sessions() as db:
        dash = service.build(db, bases.get_base(db, world.base_a))
        fig = next(f for f in dash.figures if f.metric.name == "gmv_fen")
        pace = sum(seeded.expected[("gmv_fen", seeded.month(b))] for b in (1, 2, 3)) / 3
        assert fig.pace == pytest.approx(pace)
        (t,) = fig.targets
        left = (datetime(seeded.now.year + 1, 1, 1, tzinfo=UTC) - dash.as_of).total_seconds()
        assert t.projected == t.actual + round(pace * left / service.MONTH_SECONDS)
        assert t.status == (
            "met" if t.actual >= t.target else "on_track" if t.projected >= t.target else "behind"
        )
        shows = next(f for f in dash.figures if f.metric.name == "shows_held").targets[0]
        assert shows.status == "met"  # 3 shows were the target; more were held
        # A past month's export counts up to that month only, and its pace is the three
        # months ending with it.
        m = seeded.month(2)
        past = service.build(db, bases.get_base(db, world.base_a), through=m)
        pfig = next(f for f in past.figures if f.metric.name == "gmv_fen")
        assert pfig.month_value == seeded.expected[("gmv_fen", m)]
        assert pfig.pace == pytest.approx(
            sum(seeded.expected[("gmv_fen", seeded.month(b))] for b in (2, 3, 4)) / 3
        )


@pytest.mark.parametrize("who", ["op_b", "merchant_a1", "mod_a", "viewer"])
def test_only_the_bases_operators_see_its_dashboard_and_nothing_leaks(
    client: TestClient, world: World, seeded: Seeded, who: str
) -> None:
    auth = world[who].auth
    month = seeded.month(0)
    for path in ("dashboard", f"dashboard.csv?month={month}", f"dashboard.xlsx?month={month}"):
        r = client.get(f"/api/v1/bases/{world.base_a}/{path}", headers=auth)
        assert r.status_code == 403 and r.json()["error"] == "forbidden", (path, r.text)
        assert str(seeded.expected[("gmv_fen", month)]) not in r.text
    r = client.put(
        f"/api/v1/bases/{world.base_a}/targets",
        json={"targets": [{"metric": "gmv_fen", "period": "2030", "target": 1}]},
        headers=auth,
    )
    assert r.status_code == 403
    with world.rt.sessions() as db:
        assert len(bases.targets_of(db, world.base_a)) == 3  # nothing changed
    assert client.get(f"/api/v1/bases/{world.base_a}/dashboard").status_code == 401
    assert (
        client.get("/api/v1/bases/base_nope/dashboard", headers=world["admin"].auth).status_code
        == 404
    )
    # The admin sees every base's.
    assert (
        client.get(
            f"/api/v1/bases/{world.base_a}/dashboard", headers=world["admin"].auth
        ).status_code
        == 200
    )


@pytest.mark.parametrize(
    "query", ["month=2025-13", "month=2025-1", "month=abcd-ef", "month=1800-01", "month=2025-01x"]
)
def test_a_bad_month_is_422_naming_the_field(client: TestClient, world: World, query: str) -> None:
    for ext in ("csv", "xlsx"):
        r = client.get(
            f"/api/v1/bases/{world.base_a}/dashboard.{ext}?{query}", headers=world["op_a"].auth
        )
        assert r.status_code == 422, r.text
        assert r.json()["error"] == "validation_failed" and "month" in r.text


@pytest.mark.parametrize(
    ("item", "loc"),
    [
        ({"metric": "nope", "period": "2025", "target": 1}, "metric"),
        ({"metric": "gmv_fen", "period": "2025-2020", "target": 1}, "period"),
        ({"metric": "gmv_fen", "period": "20x5", "target": 1}, "period"),
        ({"metric": "gmv_fen", "period": "2020-2040", "target": 1}, "period"),
        ({"metric": "gmv_fen", "period": "2025", "target": -1}, "target"),
        ({"metric": "gmv_fen", "period": "2025", "target": 1, "extra": 1}, "extra"),
    ],
)
def test_bad_targets_are_refused_and_change_nothing(
    client: TestClient, world: World, item: dict[str, object], loc: str
) -> None:
    with world.rt.sessions() as db, db.begin():
        bases.do_set_target(db, SYSTEM_TESTS, world.base_a, "shows_held", "2026", 9)
    good = {"metric": "gmv_fen", "period": "2026", "target": 5}
    r = client.put(
        f"/api/v1/bases/{world.base_a}/targets",
        json={"targets": [good, item]},
        headers=world["op_a"].auth,
    )
    assert r.status_code == 422 and r.json()["error"] == "validation_failed", r.text
    assert loc in str(r.json().get("fields"))
    with world.rt.sessions() as db:
        assert [(t.metric, t.period, t.target) for t in bases.targets_of(db, world.base_a)] == [
            ("shows_held", "2026", 9)
        ]
    r = client.get(f"/api/v1/bases/{world.base_a}/dashboard?year=1800", headers=world["op_a"].auth)
    assert r.status_code == 422


def test_the_operator_sets_the_targets_of_the_plan(client: TestClient, world: World) -> None:
    auth = world["op_a"].auth
    first = [
        {"metric": "gmv_fen", "period": "2026", "target": 10**9, "reported": 7},
        {"metric": "live_hours", "period": "2025-2026", "target": 100},
    ]
    r = client.put(f"/api/v1/bases/{world.base_a}/targets", json={"targets": first}, headers=auth)
    assert r.status_code == 200, r.text
    assert {(t["metric"], t["period"]) for t in r.json()["targets"]} == {
        ("gmv_fen", "2026"),
        ("live_hours", "2025-2026"),
    }
    # PUT is the whole set: a target left out is removed.
    r = client.put(
        f"/api/v1/bases/{world.base_a}/targets", json={"targets": first[:1]}, headers=auth
    )
    public = client.get(f"/api/v1/bases/{world.base_a}").json()["targets"]
    assert [(t["metric"], t["period"], t["target"], t["actual"]) for t in public] == [
        ("gmv_fen", "2026", 10**9, 7)
    ]


def test_the_month_exports_parse_with_one_row_per_metric(
    client: TestClient, world: World, seeded: Seeded
) -> None:
    month = seeded.month(1)
    auth = world["op_a"].auth
    r = client.get(f"/api/v1/bases/{world.base_a}/dashboard.csv?month={month}", headers=auth)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [row["metric"] for row in rows] == list(names())
    gmv = next(row for row in rows if row["metric"] == "gmv_fen")
    assert int(gmv["actual_month"]) == seeded.expected[("gmv_fen", month)]
    assert gmv["target_period"] == month[:4] and gmv["forecast"] != ""
    r = client.get(f"/api/v1/bases/{world.base_a}/dashboard.xlsx?month={month}", headers=auth)
    assert r.status_code == 200 and "spreadsheetml" in r.headers["content-type"]
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = list(sheet.iter_rows(values_only=True))
    header, data = values[1], values[2:]
    assert header[0] == "metric" and [row[0] for row in data] == list(names())
    xgmv = next(row for row in data if row[0] == "gmv_fen")
    assert xgmv[header.index("actual_month")] == seeded.expected[("gmv_fen", month)]


def test_the_public_summary_shows_public_figures_only(
    client: TestClient, world: World, seeded: Seeded
) -> None:
    r = client.get(f"/bases/{world.base_a}/summary?lang=en")
    assert r.status_code == 200
    assert 'data-metric="gmv_fen"' in r.text and 'data-metric="shows_held"' in r.text
    assert 'data-metric="orders_paid"' not in r.text  # the base's own business
    assert r.text.count('data-testid="dash-target"') == 3
    assert r.text.count('class="mchart"') >= 4
    assert client.get("/bases/base_nope/summary").status_code == 404


def test_a_burst_on_the_public_summary_is_answered(
    client: TestClient, world: World, seeded: Seeded
) -> None:
    # Bounded: 40 requests from 8 threads; each answered, none an error.
    def one(_: int) -> int:
        return client.get(f"/bases/{world.base_a}/summary").status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(one, range(40), timeout=60))
    assert set(codes) <= {200, 503} and codes.count(200) >= 1


def _sign_in(client: TestClient, rt: Runtime, username: str) -> None:
    with rt.sessions() as db, db.begin():
        user = user_by_username(db, username)
        assert user is not None
        raw, _ = do_issue_token(db, user, kind="session", ttl_seconds=3600)
    client.cookies.set(SESSION_COOKIE, raw)


def test_the_ops_pages_for_operators_and_admins(
    client: TestClient, world: World, seeded: Seeded, rt: Runtime
) -> None:
    with rt.sessions() as db, db.begin():
        third = bases.do_create_base(db, SYSTEM_TESTS, "朝阳二号基地", "朝阳区").id
    _sign_in(client, rt, "op_a")
    hub = client.get("/ops?lang=en")
    assert hub.status_code == 200 and 'href="/ops"' in hub.text  # the nav link
    for card in ("dashboard", "studios", "hosts", "training", "campaigns", "brands", "scenes"):
        assert f'data-testid="hub-{card}"' in hub.text
    assert "/operator/applications" in hub.text and "/moderation" in hub.text
    dash = client.get(f"/ops/dashboard?base_id={world.base_a}")
    assert dash.status_code == 200
    assert dash.text.count('data-testid="dash-metric"') == len(names())
    assert dash.text.count('class="mchart"') == len(names())
    assert "dashboard.xlsx?month=" in dash.text
    assert client.get(f"/ops/dashboard?base_id={world.base_b}").status_code == 403
    # The district: an operator sees the base they run, the admin every base of it.
    district = client.get("/ops/district?district=朝阳区")
    assert district.status_code == 200
    assert f'data-base="{world.base_a}"' in district.text and third not in district.text
    assert client.get("/ops/district?district=朝阳区&month=2025-13").status_code == 422
    _sign_in(client, rt, "admin")
    district = client.get("/ops/district?district=朝阳区")
    assert (
        f'data-base="{world.base_a}"' in district.text and f'data-base="{third}"' in district.text
    )
    assert world.base_b not in district.text
    _sign_in(client, rt, "merchant_a1")
    assert client.get("/ops").status_code == 403
    assert client.get("/ops/dashboard").status_code == 403
    assert 'href="/ops"' not in client.get("/me/orders").text
