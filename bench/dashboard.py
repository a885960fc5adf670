"""Base dashboard benchmark (issue 16). A script, not a test.

    .venv/bin/python bench/dashboard.py [--db sqlite|postgresql] [--orders 1000000]
                                        [--requests 200] [--naive-requests 5] [--seed 16]

1. Generates a year of one base's records: 200 brands (a quarter incubated, launched over
   the year), 2,000 hosts, 20,000 shows (ended, 1–4 h) and N orders (paid, shipped,
   completed, a share refunded or never paid) over the last twelve months, bulk-loaded
   (COPY on PostgreSQL, executemany on SQLite).
2. Runs the rollup job once with an unbounded budget (as a few 30 s runs would) and times it.
3. Starts the real server (``livebase serve`` on a free port) on that database, and from a
   separate load process times ``GET /api/v1/bases/{id}/dashboard`` (the rollups) and the
   naive path beside it (``?source=live``: every figure counted from the records by the
   same counters), printing p50 and p99 of each.
4. Checks the invariant: every monthly figure of the dashboard equals a direct SQL sum
   over the generated rows (GMV, paid orders, shows held).

Budget (DESIGN §9): the dashboard answers in ≤ 200 ms over a year with 1,000,000 orders.
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run as a script, bench/ comes first on sys.path and bench/http.py would shadow the
# standard library's `http` package.
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import json
import os
import random
import secrets
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from livebase.accounts.actors import SystemActor  # noqa: E402
from livebase.accounts.models import User  # noqa: E402
from livebase.accounts.service import do_grant, do_issue_token, do_register  # noqa: E402
from livebase.bases import service as bases  # noqa: E402
from livebase.bases.models import Organisation  # noqa: E402
from livebase.dashboard import months, rollup  # noqa: E402
from livebase.db import build_engine, build_sessionmaker, new_id, utcnow  # noqa: E402
from livebase.migrate import upgrade  # noqa: E402
from livebase.settings import Settings  # noqa: E402

PG_ADMIN = os.environ.get("LIVEBASE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
BENCH = SystemActor("system:bench")
BRANDS, HOSTS, SHOWS = 200, 2_000, 20_000
BUDGET_MS = 200.0
CHUNK = 50_000
# Order states and their shares: most paid orders move on; some are refunded, some never paid.
STATES = [
    ("completed", 50),
    ("shipped", 20),
    ("paid", 12),
    ("refund_requested", 2),
    ("refunded", 6),
    ("expired", 6),
    ("cancelled", 4),
]
UNPAID = ("pending_payment", "cancelled", "expired", "refunded")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def database(kind: str, work: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{work / 'bench.db'}"
        return
    import psycopg

    name = f"livebase_bench_dash_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _copy(engine: Any, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """Bulk load: COPY on PostgreSQL, executemany on SQLite."""
    if engine.dialect.name == "postgresql":
        raw = engine.raw_connection()
        try:
            with raw.cursor() as cur:
                cols = ", ".join(columns)
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            raw.commit()
        finally:
            raw.close()
        return
    marks = ", ".join("?" for _ in columns)
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)
        raw.commit()
    finally:
        raw.close()


def _ts(at: datetime, sqlite: bool) -> Any:
    # SQLite keeps UTCDateTime as naive UTC text, as the app's type writes it.
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f") if sqlite else at


def generate(url: str, n_orders: int, seed: int) -> tuple[str, str]:
    """The year of one base; returns (base id, an operator's API token)."""
    rng = random.Random(seed)
    engine = build_engine(Settings(database_url=url, secret_key="x" * 40).sqlalchemy_url)
    sessions = build_sessionmaker(engine)
    sqlite = engine.dialect.name == "sqlite"
    now = utcnow()
    year_ago = now - timedelta(days=365)
    with sessions() as db, db.begin():
        base = bases.do_create_base(db, BENCH, "基准基地", "朝阳区")
        wh = bases.do_create_warehouse(db, BENCH, base.id, "仓", "0101", "T0101W000001")
        counter = bases.do_create_pickup_counter(db, BENCH, base.id, "柜台", wh.id, "0101")
        op = do_register(db, "bench_operator", "bench-password-1", "运营")
        do_grant(db, BENCH, op, "operator", base_id=base.id)
        token, _ = do_issue_token(db, op, kind="api", ttl_seconds=24 * 3600)
        bases.do_set_target(db, BENCH, base.id, "gmv_fen", str(now.year), 10**12, 10**9)
        bases.do_set_target(db, BENCH, base.id, "shows_held", str(now.year), 25_000)
        bases.do_set_target(
            db, BENCH, base.id, "brands_incubated", f"{now.year - 1}-{now.year}", 80
        )
        brand_rows = []
        for i in range(BRANDS):
            launched = year_ago + timedelta(seconds=rng.randrange(365 * 86400))
            brand_rows.append(
                {
                    "id": new_id("org"),
                    "base_id": base.id,
                    "kind": "brand",
                    "name": f"品牌{i:03d}",
                    "incubated": i % 4 == 0,
                    "launched_at": launched if i % 2 == 0 else None,
                }
            )
        db.execute(insert(Organisation), brand_rows)
        host_rows = [
            {
                "id": new_id("usr"),
                "username": f"bench_host_{i:04d}",
                "display_name": f"主播{i}",
                "password_hash": "!",  # cannot sign in
            }
            for i in range(HOSTS)
        ]
        db.execute(insert(User), host_rows)
        base_id, counter_id, buyer = base.id, counter.id, op.id
    brands = [b["id"] for b in brand_rows]
    hosts = [h["id"] for h in host_rows]
    t0 = time.perf_counter()
    show_cols = [
        "id", "org_id", "base_id", "host_id", "title", "cover_ocr_status", "scheduled_at",
        "status", "public_id", "stream_key", "started_at", "ended_at", "created_at",
    ]  # fmt: skip
    shows, show_ids = [], []
    for i in range(SHOWS):
        started = year_ago + timedelta(seconds=rng.randrange(365 * 86400))
        if started > now - timedelta(hours=5):
            started -= timedelta(hours=5)
        ended = started + timedelta(minutes=rng.randrange(60, 241))
        sid = new_id("show")
        show_ids.append(sid)
        shows.append(
            (
                sid, rng.choice(brands), base_id, rng.choice(hosts), f"直播 {i}", "ok",
                _ts(started, sqlite), "ended", secrets.token_hex(8), "k",
                _ts(started, sqlite), _ts(ended, sqlite), _ts(started, sqlite),
            )
        )  # fmt: skip
    _copy(engine, "shows", show_cols, shows)
    order_cols = [
        "id", "buyer_id", "org_id", "base_id", "show_id", "status", "goods_fen", "discount_fen",
        "freight_fen", "total_fen", "pickup_counter_id", "pay_by", "paid_at", "updated_at",
        "created_at",
    ]  # fmt: skip
    states = [s for s, w in STATES for _ in range(w)]
    made = 0
    while made < n_orders:
        rows = []
        for _ in range(min(CHUNK, n_orders - made)):
            at = year_ago + timedelta(seconds=rng.randrange(365 * 86400 - 120))
            state = rng.choice(states)
            total = rng.randrange(990, 99_900)
            paid = (
                None
                if state in ("expired", "cancelled")
                else _ts(at + timedelta(minutes=1), sqlite)
            )
            rows.append(
                (
                    new_id("ord"), buyer, rng.choice(brands), base_id, rng.choice(show_ids),
                    state, total, 0, 0, total, counter_id, _ts(at + timedelta(minutes=15), sqlite),
                    paid, _ts(at, sqlite), _ts(at, sqlite),
                )
            )  # fmt: skip
        _copy(engine, "orders", order_cols, rows)
        made += len(rows)
    if not sqlite:
        with engine.begin() as conn:
            conn.execute(text("ANALYZE orders"))
            conn.execute(text("ANALYZE shows"))
    print(f"generated {SHOWS:,} shows and {n_orders:,} orders in {time.perf_counter() - t0:.1f} s")
    t0 = time.perf_counter()
    with sessions() as db, db.begin():
        calls = rollup.do_rollup(db, budget=100_000)
    full = time.perf_counter() - t0
    t0 = time.perf_counter()
    with sessions() as db, db.begin():
        hot = rollup.do_rollup(db)  # a steady-state run: hot months and a stale sweep
    print(
        f"rollup: first full run {calls} counter calls in {full:.1f} s; "
        f"a steady run {hot} calls in {time.perf_counter() - t0:.2f} s"
    )
    engine.dispose()
    return base_id, token


LOAD = r"""
import json, sys, time, httpx
url, token, n, naive = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
h = {"Authorization": "Bearer " + token}
out = {}
with httpx.Client(base_url=url, timeout=120) as c:
    for name, path, count in (("rollup", "", n), ("naive", "?source=live", naive)):
        c.get("/api/v1/bases/" + sys.argv[5] + "/dashboard" + path, headers=h)  # warm
        times = []
        for _ in range(count):
            t = time.perf_counter()
            r = c.get("/api/v1/bases/" + sys.argv[5] + "/dashboard" + path, headers=h)
            times.append((time.perf_counter() - t) * 1000)
            assert r.status_code == 200, r.text
        out[name] = sorted(times)
    out["body"] = c.get("/api/v1/bases/" + sys.argv[5] + "/dashboard", headers=h).json()
print(json.dumps(out))
"""


def _pct(xs: list[float], p: float) -> float:
    return xs[min(len(xs) - 1, int(p * len(xs)))]


def serve_and_measure(url: str, base_id: str, token: str, work: Path, a: Any) -> dict[str, Any]:
    port = _free_port()
    server = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEBASE_")}
    env.update(
        LIVEBASE_DEMO="1",
        LIVEBASE_DATA_DIR=str(work),
        LIVEBASE_DATABASE_URL=url,
        LIVEBASE_PUBLIC_URL=server,
        LIVEBASE_LOG_LEVEL="WARNING",
        LIVEBASE_LOG_JSON="1",
        PYTHONPATH=str(ROOT / "src"),
    )
    livebase = Path(sys.executable).parent / "livebase"
    cmd = [str(livebase)] if livebase.exists() else [sys.executable, "-m", "livebase.cli"]
    log = (work / "serve.log").open("wb")
    proc = subprocess.Popen(
        [*cmd, "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        import httpx

        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"{server}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError((work / "serve.log").read_text()[-3000:])
            time.sleep(0.2)
        args = [server, token, str(a.requests), str(a.naive_requests), base_id]
        done = subprocess.run(
            [sys.executable, "-c", LOAD, *args], capture_output=True, text=True, check=True
        )
        result: dict[str, Any] = json.loads(done.stdout)
        return result
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def check_invariant(url: str, base_id: str, body: dict[str, Any]) -> list[str]:
    engine = build_engine(Settings(database_url=url, secret_key="x" * 40).sqlalchemy_url)
    bad = []
    sqls = {
        "gmv_fen": "SELECT COALESCE(SUM(total_fen), 0) FROM orders WHERE base_id = :b AND "
        "paid_at >= :s AND paid_at < :e AND status NOT IN "
        "('pending_payment', 'cancelled', 'expired', 'refunded')",
        "orders_paid": "SELECT COUNT(*) FROM orders WHERE base_id = :b AND paid_at >= :s AND "
        "paid_at < :e AND status NOT IN ('pending_payment', 'cancelled', 'expired', 'refunded')",
        "shows_held": "SELECT COUNT(*) FROM shows WHERE base_id = :b AND status = 'ended' AND "
        "started_at >= :s AND started_at < :e",
    }
    sqlite = engine.dialect.name == "sqlite"
    with engine.connect() as conn:
        for m in body["metrics"]:
            if m["metric"] not in sqls:
                continue
            for point in m["months"]:
                s, e = months.start(point["month"]), months.end(point["month"])
                params = {"b": base_id, "s": _ts(s, sqlite), "e": _ts(e, sqlite)}
                direct = int(conn.execute(text(sqls[m["metric"]]), params).scalar() or 0)
                if direct != point["value"]:
                    bad.append(f"{m['metric']} {point['month']}: {point['value']} != {direct}")
    engine.dispose()
    return bad


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    p.add_argument("--orders", type=int, default=1_000_000)
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--naive-requests", type=int, default=5)
    p.add_argument("--seed", type=int, default=16)
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-dash-") as tmp, database(a.db, Path(tmp)) as url:
        work = Path(tmp)
        upgrade(Settings(database_url=url, secret_key="x" * 40).sqlalchemy_url)
        base_id, token = generate(url, a.orders, a.seed)
        out = serve_and_measure(url, base_id, token, work, a)
        print(f"\n{a.db}, {a.orders:,} orders, {SHOWS:,} shows, {BRANDS} brands, {HOSTS:,} hosts")
        print(f"{'GET /api/v1/bases/{id}/dashboard':40} {'n':>5} {'p50 ms':>9} {'p99 ms':>9}")
        for name in ("rollup", "naive"):
            xs = out[name]
            print(f"{name:40} {len(xs):5d} {_pct(xs, 0.5):9.1f} {_pct(xs, 0.99):9.1f}")
        p99 = _pct(out["rollup"], 0.99)
        ratio = _pct(out["naive"], 0.5) / max(_pct(out["rollup"], 0.5), 1e-9)
        verdict = "PASS" if p99 <= BUDGET_MS else "FALL SHORT"
        print(f"budget: p99 {p99:.1f} ms vs {BUDGET_MS:.0f} ms: {verdict}")
        print(f"naive / rollup (p50): {ratio:.0f}x")
        bad = check_invariant(url, base_id, out["body"])
        checked = sum(len(m["months"]) for m in out["body"]["metrics"])
        print(f"invariant: dashboard months equal direct SQL sums: {'OK' if not bad else 'BROKEN'}")
        print(f"  ({checked} monthly figures returned; GMV, paid orders and shows checked)")
        for line in bad[:10]:
            print("  ", line)
        if bad:
            sys.exit(1)


if __name__ == "__main__":
    main()
