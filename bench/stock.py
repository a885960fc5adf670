"""Stock reservation under contention (issue 11 item 3). A script, not a test.

    .venv/bin/python bench/stock.py [--db sqlite|postgresql] [--threads 16] [--units 2000]

Many buyers reserve one unit each of the same SKU at once, every reservation its own
transaction on its own connection, through ``catalog.stock.reserve`` (one conditional
UPDATE). Prints reservations/s, p50/p99 per reservation, and checks that exactly
``--units`` were sold and the stock ends at zero (no oversell, no lost update). Figures
only: the hot-item design of the orders issue (one owner per hot item) is what must meet
the flash-sale budget; this is the floor it is compared with.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from livebase.accounts.actors import SystemActor
from livebase.bases import service as bases
from livebase.catalog import service as catalog
from livebase.catalog import stock
from livebase.db import build_engine, build_sessionmaker
from livebase.migrate import upgrade

BENCH = SystemActor("system:bench")
PG_ADMIN = os.environ.get("LIVEBASE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")


def _url(kind: str, tmp: Path) -> str:
    if kind == "sqlite":
        return f"sqlite:///{tmp / 'bench.db'}"
    name = f"livebase_bench_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://") + "/" + name


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--threads", type=int, default=16)
    ap.add_argument("--units", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = _url(args.db, Path(tmp))
        upgrade(url)
        engine = build_engine(url)
        sessions = build_sessionmaker(engine)
        with sessions() as db, db.begin():
            base = bases.do_create_base(db, BENCH, "基地", "朝阳区")
            org = bases.do_create_org(db, BENCH, base.id, "brand", "品牌")
            product = catalog.do_create_product(
                db, BENCH, org.id, "面霜", "", [catalog.SkuSpec({}, 100, args.units)]
            )
            sku_id = product.skus[0].id
        taken: list[float] = []
        refused = 0
        lock = threading.Lock()
        start = threading.Barrier(args.threads)

        def buyer() -> None:
            nonlocal refused
            start.wait()
            while True:
                t0 = time.perf_counter()
                with sessions() as db, db.begin():
                    ok = stock.reserve(db, sku_id, 1)
                dt = time.perf_counter() - t0
                with lock:
                    if not ok:
                        refused += 1
                        return
                    taken.append(dt)

        threads = [threading.Thread(target=buyer) for _ in range(args.threads)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - t0
        with sessions() as db:
            left = stock.current(db, sku_id)
        engine.dispose()
    ms = sorted(d * 1000 for d in taken)
    ok = len(taken) == args.units and left == 0
    print(f"{args.db}, {args.threads} buyers, {args.units} units")
    print(f"  reservations/s: {len(taken) / wall:,.0f}  (wall {wall:.2f} s)")
    print(f"  p50 {statistics.median(ms):.2f} ms  p99 {ms[int(len(ms) * 0.99) - 1]:.2f} ms")
    print(f"  sold {len(taken)}, left {left}, refused {refused}: {'PASS' if ok else 'FAIL'}")
    if args.db == "postgresql":
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "livebase_bench_{os.getpid()}" WITH (FORCE)')


if __name__ == "__main__":
    main()
