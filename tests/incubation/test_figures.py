"""Growth figures, the per-show rollup, the leaderboard, the promotion rule and the
hosts_incubated metric, each checked against an independent SQL sum over seeded data."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import text

from livebase.incubation import figures, promotions
from livebase.incubation import service as incubation
from livebase.incubation.models import HostProfile, ShowRollup
from livebase.runtime import Runtime
from livebase.schemas import rfc3339
from tests.conftest import SYSTEM_TESTS, World
from tests.incubation.helpers import T0, Buyers, add_orders, held_show

FROM = rfc3339(T0 - timedelta(hours=12))
TO = rfc3339(T0 + timedelta(days=9))


def _seed(rt: Runtime, world: World) -> dict[str, list[str]]:
    """Host A1 (brand A1): two shows; host AG (agency): one show; plus host A1's show of
    twenty days before, which the period's board leaves out."""
    buyers = Buyers(rt, 4)
    a1, ag = world["host_a1"].id, world["host_ag"].id
    s1 = held_show(rt, world.brand_a1, a1, T0, 90, peak=40, watch_seconds=3600 * 20)
    s2 = held_show(rt, world.brand_a1, a1, T0 + timedelta(days=3), 30, peak=10, watch_seconds=900)
    s3 = held_show(rt, world.agency_a, ag, T0 + timedelta(days=5), 120, peak=100)
    old = held_show(rt, world.brand_a1, a1, T0 - timedelta(days=20), 60)
    add_orders(
        rt,
        world,
        s1,
        world.brand_a1,
        buyers,
        [
            (10_000, "paid"),
            (5_000, "shipped"),
            (7_000, "refunded"),
            (2_000, "pending_payment"),
            (3_000, "completed"),
        ],
    )
    add_orders(rt, world, s2, world.brand_a1, buyers, [(1_500, "paid"), (800, "cancelled")])
    # The agency sells brand A2's goods: the order is the brand's, the show the agency's.
    add_orders(rt, world, s3, world.brand_a2, buyers, [(50_000, "paid"), (25_000, "declared")])
    add_orders(rt, world, old, world.brand_a1, buyers, [(99_999, "paid")])
    with rt.sessions() as db, db.begin():
        figures.do_refresh_rollups(db)  # the recurring job's pass: November's shows
    return {"a1": [s1, s2], "ag": [s3], "old": [old]}


INDEPENDENT = text(
    "SELECT s.host_id, COUNT(o.id), COALESCE(SUM(o.total_fen), 0) FROM shows s"
    " JOIN orders o ON o.show_id = s.id"
    " WHERE s.base_id = :base AND s.started_at >= :start AND s.started_at < :end"
    " AND o.paid_at IS NOT NULL"
    " AND o.status NOT IN ('pending_payment', 'cancelled', 'expired', 'refunded')"
    " GROUP BY s.host_id"
)


def test_rollup_figures_equal_an_independent_sql_sum_over_the_orders(
    rt: Runtime, world: World, client: TestClient
) -> None:
    _seed(rt, world)
    start, end = T0 - timedelta(hours=12), T0 + timedelta(days=9)
    with rt.engine.connect() as conn:
        params = {"base": world.base_a, "start": start, "end": end}
        if rt.engine.dialect.name == "sqlite":  # stored naive UTC there
            params |= {"start": start.replace(tzinfo=None), "end": end.replace(tzinfo=None)}
        expected = {h: (int(n), int(g)) for h, n, g in conn.execute(INDEPENDENT, params)}
    assert expected == {world["host_a1"].id: (4, 19_500), world["host_ag"].id: (2, 75_000)}
    with rt.sessions() as db:
        board = figures.leaderboard(db, world.base_a, start, end, "gmv")
        naive = figures.leaderboard_naive(db, world.base_a, start, end, "gmv")
    assert {r.host_id: (r.orders, r.gmv_fen) for r in board} == expected
    assert [(r.host_id, r.orders, r.gmv_fen, r.shows, r.live_seconds) for r in board] == [
        (r.host_id, r.orders, r.gmv_fen, r.shows, r.live_seconds) for r in naive
    ]
    # The API ranks by GMV by default; by hours the agency host (120 min) leads too, by
    # orders host A1 (4 orders) does.
    url = f"/api/v1/bases/{world.base_a}/leaderboard?from={FROM}&to={TO}"
    items = client.get(url).json()["items"]
    assert [(i["display_name"], i["gmv_fen"], i["orders"], i["hours"]) for i in items] == [
        ("host_ag", 75_000, 2, 2.0),
        ("host_a1", 19_500, 4, 2.0),
    ]
    by_orders = client.get(url + "&by=orders").json()["items"]
    assert [i["display_name"] for i in by_orders] == ["host_a1", "host_ag"]
    # Another base's board has none of base A's hosts.
    other = client.get(f"/api/v1/bases/{world.base_b}/leaderboard?from={FROM}&to={TO}").json()
    assert other["items"] == []


def test_growth_from_the_records_matches_the_rollup_and_counts_compliance(
    rt: Runtime, world: World, client: TestClient
) -> None:
    ids = _seed(rt, world)
    host = world["host_a1"]
    made = client.post(
        f"/api/v1/bases/{world.base_a}/hosts",
        json={"org_id": world.brand_a1, "user_id": host.id},
        headers=host.auth,
    )
    assert made.status_code == 201, made.text
    g = client.get(
        f"/api/v1/host-profiles/{made.json()['id']}/growth?from={FROM}&to={TO}", headers=host.auth
    ).json()
    assert (g["shows"], g["live_seconds"], g["orders"], g["gmv_fen"]) == (2, 7200, 4, 19_500)
    assert g["peak_viewers"] == 40
    # Time-weighted: (20 h + 15 min of watching) over 2 h live.
    assert g["avg_viewers"] == round((3600 * 20 + 900) / 7200, 1)
    # Buyers per show (2 distinct with kept orders in show 1, 1 in show 2) over the peaks
    # (40 + 10): 3 / 50.
    assert g["buyers"] == 3 and g["conversion_bp"] == 600
    assert g["compliance"] == {
        "scripts_held": 0,
        "scripts_rejected": 0,
        "scripts_blocked": 0,
        "chat_held": 0,
    }
    with rt.sessions() as db:
        rows = {r.show_id: r for r in db.query(ShowRollup).all()}
    assert sum(rows[s].gmv_fen for s in ids["a1"]) == g["gmv_fen"]


def test_ending_a_show_writes_its_rollup_at_once(
    rt: Runtime, world: World, client: TestClient
) -> None:
    host = world["host_a1"]
    show = client.post(
        "/api/v1/shows",
        json={"org_id": world.brand_a1, "title": "上新", "scheduled_at": FROM},
        headers=host.auth,
    ).json()
    client.post(f"/api/v1/shows/{show['id']}/start", headers=host.auth)
    assert client.post(f"/api/v1/shows/{show['id']}/end", headers=host.auth).status_code == 200
    with rt.sessions() as db:
        row = db.get(ShowRollup, show["id"])
        assert row is not None and row.host_id == host.id and row.ended_at is not None


def test_the_rule_promotes_records_why_and_never_demotes(rt: Runtime, world: World) -> None:
    _seed(rt, world)
    levels = [
        incubation.LevelSpec(0, "新秀", "Rookie", 0, 0, 0),
        incubation.LevelSpec(1, "成长", "Rising", 1, 10_000, 2),
        incubation.LevelSpec(2, "优秀", "Excellent", 2, 50_000, 3),
    ]
    with rt.sessions() as db, db.begin():
        incubation.do_set_levels(db, SYSTEM_TESTS, world.base_a, levels)
        done = promotions.do_promote_hosts(db, SYSTEM_TESTS, world.base_a)
    # Host A1: 3 shows (the older one too: the whole record), 3 h, GMV 119,499 → 优秀.
    # The agency host: 1 show → stays 新秀. Profiles were made for both.
    assert [(p.from_name, p.to_name) for p in done] == [("新秀", "优秀")]
    assert "shows 3 >= 3" in done[0].reason
    with rt.sessions() as db, db.begin():
        # Stricter thresholds and a second run: nobody is lowered, nothing is recorded.
        stricter = [
            levels[0],
            *[incubation.LevelSpec(i, f"L{i}", "", 99, 10**9, 99) for i in (1, 2)],
        ]
        incubation.do_set_levels(db, SYSTEM_TESTS, world.base_a, stricter)
        assert promotions.do_promote_hosts(db, SYSTEM_TESTS, world.base_a) == []
        profile = incubation.find_profile(db, world.brand_a1, world["host_a1"].id)
        assert profile is not None and profile.level_rank == 2
        levels_now = incubation.levels_of(db, world.base_a)
        totals = figures.lifetime_totals(db, world.base_a)
        assert promotions.below_level(
            levels_now, profile, totals[(profile.org_id, profile.user_id)]
        )
        agency = incubation.find_profile(db, world.agency_a, world["host_ag"].id)
        assert agency is not None and agency.level_rank == 0


LAST = (T0 - timedelta(days=5)).date()


def test_hosts_incubated_counts_promoted_hosts_and_finished_cohort_members(
    rt: Runtime, world: World
) -> None:
    _seed(rt, world)
    with rt.sessions() as db, db.begin():
        levels = [
            incubation.LevelSpec(0, "新秀", "", 0, 0, 0),
            incubation.LevelSpec(1, "成长", "", 1, 1, 1),
        ]
        incubation.do_set_levels(db, SYSTEM_TESTS, world.base_a, levels)
        promotions.do_promote_hosts(db, SYSTEM_TESTS, world.base_a, now=T0)  # both promoted
        cohort = incubation.do_create_cohort(
            db,
            SYSTEM_TESTS,
            world.base_a,
            incubation.CohortSpec("冬季营", "", None, None, LAST - timedelta(days=30), LAST, []),
        )
        ag = incubation.find_profile(db, world.agency_a, world["host_ag"].id)
        assert ag is not None
        incubation.do_add_member(db, SYSTEM_TESTS, cohort, ag.id)
    count = figures.count_hosts_incubated
    with rt.sessions() as db:
        before = T0 - timedelta(days=60)
        # LAST is the cohort's last day (Beijing): finished from the next day 00:00 +08:00,
        # 16:00 UTC of LAST.
        over = datetime.combine(LAST, time(16, 0), UTC)
        assert count(db, world.base_a, before, over - timedelta(seconds=1)) == 0
        assert count(db, world.base_a, before, over) == 1
        # Promoted at T0: the agency host counts once although both rules hold.
        assert count(db, world.base_a, before, T0 + timedelta(seconds=1)) == 2
        assert count(db, world.base_b, before, T0 + timedelta(days=60)) == 0
        assert db.query(HostProfile).count() == 2
