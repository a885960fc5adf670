"""The base's host leaderboard, naive (shows joined to every order) against the rollup
(one grouped query over ``incubation_show_rollups``), on generated data.

    PYTHONPATH=src python -P bench/incubation_leaderboard.py                 # small: < 1 min
    PYTHONPATH=src python -P bench/incubation_leaderboard.py --orders 1000000 --shows 20000 \
        --hosts 2000                                                      # the issue's year
    PYTHONPATH=src python -P bench/incubation_leaderboard.py --pg postgresql://postgres@127.0.0.1/postgres

(``-P``: bench/http.py would otherwise shadow the standard library's ``http``.)
SQLite goes to a fresh file in a temporary directory; with ``--pg`` the script creates
(and afterwards drops) a database of its own, ``livebase_bench_incubation``, on that
server. Rows are generated with bulk inserts straight into the tables (a benchmark's
fixture, not a way to write data); the rollup is filled by the same
``figures.do_refresh_rollups`` the recurring job runs, and its time is printed too.
Prints the median of ``--repeat`` runs of each query over the whole year and over one
month, and checks that both give the same board (the invariant).
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, insert, select

from livebase.accounts.models import User
from livebase.bases.models import LiveBase, Organisation
from livebase.db import build_engine, build_sessionmaker, new_id
from livebase.incubation import figures
from livebase.migrate import upgrade
from livebase.orders.models import Address, Order
from livebase.shows.models import Show

BENCH_DB = "livebase_bench_incubation"
YEAR = datetime(2026, 1, 1, tzinfo=UTC)
# Rows per INSERT statement: well inside SQLite's and psycopg's bound-parameter limits.
BATCH = 2_000
# Paid and kept, mostly; some refunded, cancelled or never paid (they must not count).
STATUSES = ["paid"] * 6 + ["completed"] * 2 + ["refunded", "cancelled", "pending_payment"]


@contextmanager
def database(pg: str | None) -> Iterator[str]:
    if pg is None:
        with tempfile.TemporaryDirectory() as tmp:
            yield f"sqlite:///{Path(tmp) / 'bench.db'}"
        return
    with psycopg.connect(pg, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{BENCH_DB}"')
    try:
        yield pg.rsplit("/", 1)[0] + f"/{BENCH_DB}"
    finally:
        with psycopg.connect(pg, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')


def _insert(engine: Engine, model: Any, rows: list[dict[str, Any]]) -> None:
    with engine.begin() as conn:
        for i in range(0, len(rows), BATCH):
            conn.execute(insert(model), rows[i : i + BATCH])


def generate(engine: Engine, shows: int, orders: int, hosts: int, seed: int) -> str:
    rng = random.Random(seed)
    now = datetime.now(UTC)
    base_id = new_id("base")
    _insert(
        engine,
        LiveBase,
        [
            {
                "id": base_id,
                "name": "基准基地",
                "district": "朝阳区",
                "description": "",
                "created_at": now,
            }
        ],
    )
    n_orgs = max(1, hosts // 10)
    org_ids = [new_id("org") for _ in range(n_orgs)]
    _insert(
        engine,
        Organisation,
        [
            {
                "id": o,
                "base_id": base_id,
                "kind": "agency",
                "name": f"机构{i}",
                "description": "",
                "incubated": False,
                "created_at": now,
            }
            for i, o in enumerate(org_ids)
        ],
    )
    host_ids = [new_id("usr") for _ in range(hosts)]
    buyer_ids = [new_id("usr") for _ in range(max(10, orders // 50))]
    _insert(
        engine,
        User,
        [
            {
                "id": u,
                "username": f"u{i}",
                "display_name": f"用户{i}",
                "password_hash": "x",
                "is_active": True,
                "created_at": now,
            }
            for i, u in enumerate(host_ids + buyer_ids)
        ],
    )
    address_ids = [new_id("adr") for _ in buyer_ids]
    _insert(
        engine,
        Address,
        [
            {
                "id": a,
                "user_id": u,
                "name": "买家",
                "phone": "13800000000",
                "province": "北京市",
                "city": "北京市",
                "district": "朝阳区",
                "detail": "1号",
                "created_at": now,
            }
            for a, u in zip(address_ids, buyer_ids, strict=True)
        ],
    )
    show_rows = []
    for i in range(shows):
        host = rng.randrange(hosts)
        started = YEAR + timedelta(seconds=rng.randrange(365 * 24 * 3600))
        show_rows.append(
            {
                "id": new_id("show"),
                "org_id": org_ids[host % n_orgs],
                "base_id": base_id,
                "host_id": host_ids[host],
                "title": f"专场{i}",
                "cover_ocr_status": "unchecked",
                "scheduled_at": started,
                "status": "ended",
                "public_id": f"p{i:010d}",
                "stream_key": "k",
                "started_at": started,
                "ended_at": started + timedelta(minutes=rng.randrange(30, 240)),
                "created_at": now,
            }
        )
    _insert(engine, Show, show_rows)
    order_rows = []
    for _ in range(orders):
        show = show_rows[rng.randrange(shows)]
        b = rng.randrange(len(buyer_ids))
        status = rng.choice(STATUSES)
        total = rng.randrange(1_000, 50_000)
        order_rows.append(
            {
                "id": new_id("ord"),
                "buyer_id": buyer_ids[b],
                "org_id": show["org_id"],
                "base_id": base_id,
                "show_id": show["id"],
                "status": status,
                "goods_fen": total,
                "discount_fen": 0,
                "freight_fen": 0,
                "total_fen": total,
                "address_id": address_ids[b],
                "pay_by": show["started_at"],
                "paid_at": None
                if status in ("cancelled", "pending_payment")
                else show["started_at"] + timedelta(minutes=5),
                "created_at": show["started_at"],
                "updated_at": show["started_at"],
            }
        )
        if len(order_rows) >= 50_000:
            _insert(engine, Order, order_rows)
            order_rows = []
    _insert(engine, Order, order_rows)
    return base_id


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times), out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--orders", type=int, default=30_000)
    ap.add_argument("--shows", type=int, default=2_000)
    ap.add_argument("--hosts", type=int, default=200)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--seed", type=int, default=16)
    ap.add_argument("--pg", help="a PostgreSQL server URL (its admin database)")
    args = ap.parse_args()
    with database(args.pg) as url:
        upgrade(url)
        engine = build_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        t = time.perf_counter()
        base_id = generate(engine, args.shows, args.orders, args.hosts, args.seed)
        print(
            f"{engine.dialect.name}: {args.shows} shows, {args.orders} orders, "
            f"{args.hosts} hosts generated in {time.perf_counter() - t:.1f} s"
        )
        sessions = build_sessionmaker(engine)
        with sessions() as db, db.begin():
            t = time.perf_counter()
            ids = list(db.scalars(select(Show.id)))
            written = figures.do_refresh_rollups(db, show_ids=ids)
            print(f"rollup: {written} shows in {time.perf_counter() - t:.1f} s")
        periods = {
            "year": (YEAR, YEAR + timedelta(days=365)),
            "month": (YEAR + timedelta(days=150), YEAR + timedelta(days=181)),
        }
        ok = True
        with sessions() as db:
            db.execute(select(Show.id).limit(1))  # warm the connection
            for name, (start, end) in periods.items():
                for by in ("gmv", "hours"):
                    naive_ms, naive = timed(
                        lambda s=start, e=end, b=by: figures.leaderboard_naive(
                            db, base_id, s, e, b, limit=20
                        ),
                        args.repeat,
                    )
                    roll_ms, roll = timed(
                        lambda s=start, e=end, b=by: figures.leaderboard(
                            db, base_id, s, e, b, limit=20
                        ),
                        args.repeat,
                    )
                    same = [(r.host_id, r.gmv_fen, r.orders, r.live_seconds) for r in roll] == [
                        (r.host_id, r.gmv_fen, r.orders, r.live_seconds) for r in naive
                    ]
                    ok = ok and same
                    print(
                        f"{name:5} by={by:5}  naive {naive_ms:9.1f} ms   rollup "
                        f"{roll_ms:7.1f} ms   x{naive_ms / max(roll_ms, 0.001):6.1f}   "
                        f"same board: {same}"
                    )
        engine.dispose()
        print("invariant (rollup board == naive board):", "PASS" if ok else "FAIL")
        if not ok:
            raise SystemExit(1)


if __name__ == "__main__":
    main()
