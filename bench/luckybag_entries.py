"""Lucky-bag chat entries: what the room pays per accepted line, and how fast entries land.

Not an HTTP benchmark: the entry path has no request of its own. The room socket
dispatches ``ChatAccepted`` on its own thread; this measures, in one run on one database:

- **recorder** (the product): ``rt.events.publish(ChatAccepted)`` → ``EntryRecorder.on_chat``
  (a bounded queue) and its writer thread (batches: one bag query, one multi-row upsert).
  Reported: the caller's cost per line (what the room's loop pays) and entries/s until
  ``flush()`` returns.
- **baseline**: what a plain subscriber would do — per line, on the caller's thread, one
  transaction that looks up the show's open chat bag and inserts the entry.

Invariants printed: entries written == distinct users who sent the phrase; nothing dropped.

    PYTHONPATH=src .venv/bin/python -P bench/luckybag_entries.py [--lines 20000] [--pg URL]

(``-P``: bench/http.py would otherwise shadow the standard library's http.)
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

from sqlalchemy import delete, func, select

from livebase.accounts.actors import SystemActor
from livebase.accounts.service import do_grant, do_register
from livebase.bases import service as bases
from livebase.db import utcnow
from livebase.migrate import upgrade
from livebase.rooms import luckybag
from livebase.rooms.events import ChatAccepted
from livebase.rooms.luckybag_entries import ENTRIES
from livebase.rooms.luckybag_models import LuckyBagEntry
from livebase.runtime import Runtime, build_runtime
from livebase.settings import Settings
from livebase.shows import service as shows

BENCH = SystemActor("system:bench")


def _runtime(url: str, data_dir: Path) -> Runtime:
    upgrade(url)
    settings = Settings(
        demo=True,
        data_dir=data_dir,
        database_url=url,
        secret_key="b" * 40,
        run_jobs_in_process=False,
        log_level="WARNING",
    )
    return build_runtime(settings)


def _bag(rt: Runtime) -> tuple[str, str]:
    with rt.sessions() as db, db.begin():
        base = bases.do_create_base(db, BENCH, f"基地{time.time_ns()}", "朝阳区")
        org = bases.do_create_org(db, BENCH, base.id, "brand", f"品牌{time.time_ns()}")
        host = do_register(db, f"h{time.time_ns() % 10**12}", "password-123", "主播")
        do_grant(db, BENCH, host, "host", base_id=base.id, org_id=org.id)
        show = shows.do_create_show(db, BENCH, org.id, "bench", utcnow(), host.id)
        bag = luckybag.do_create_bag(
            db, BENCH, show, luckybag.BagSpec("保温杯", 3, "chat", 1800, "我要福袋")
        )
        return show.id, bag.id


def _events(show_id: str, lines: int) -> tuple[list[ChatAccepted], int]:
    # Every third line carries the phrase; users repeat (a viewer chats several times).
    users = max(1, lines // 4)
    out = []
    for n in range(lines):
        text = "主播好 我要福袋" if n % 3 == 0 else "这个颜色好看"
        out.append(
            ChatAccepted(
                show_id=show_id,
                user_id=f"usr_{n % users:026d}",
                text=text,
                shown=text,
                at=utcnow(),
            )
        )
    entrants = len({e.user_id for i, e in enumerate(out) if i % 3 == 0})
    return out, entrants


def _entries(rt: Runtime, bag_id: str) -> int:
    with rt.sessions() as db:
        q = select(func.count()).where(LuckyBagEntry.bag_id == bag_id)
        return int(db.scalar(q) or 0)


def run(rt: Runtime, lines: int) -> None:
    show_id, bag_id = _bag(rt)
    events, entrants = _events(show_id, lines)
    recorder = rt.part(ENTRIES)

    t0 = time.perf_counter()
    for e in events:
        rt.events.publish(e)
    t_call = time.perf_counter() - t0
    assert recorder.flush(timeout=600)
    t_all = time.perf_counter() - t0
    got = _entries(rt, bag_id)

    with rt.sessions() as db, db.begin():
        db.execute(delete(LuckyBagEntry).where(LuckyBagEntry.bag_id == bag_id))
    t0 = time.perf_counter()
    for e in events:
        with rt.sessions() as db, db.begin():
            for bag in luckybag.open_chat_bags(db, [e.show_id]):
                if luckybag.matches(bag.phrase, e.text):
                    luckybag.do_record_entries(db, [(bag.id, e.user_id, e.at)])
    t_base = time.perf_counter() - t0
    got_base = _entries(rt, bag_id)

    print(f"database: {rt.engine.dialect.name}; {lines} lines, {entrants} distinct entrants")
    print(f"load average: {os.getloadavg()}")
    print(
        f"recorder: caller {t_call / lines * 1e6:.1f} µs/line; all written in {t_all:.2f} s "
        f"= {lines / t_all:,.0f} lines/s"
    )
    print(
        f"baseline (one transaction per line on the caller): {t_base / lines * 1e6:.1f} µs/line "
        f"= {lines / t_base:,.0f} lines/s"
    )
    print(
        f"ratio: lines/s {t_base / t_all:.1f}x the baseline; the caller pays "
        f"{t_base / t_call:.0f}x less"
    )
    print(
        f"invariants: recorder entries {got} == {entrants}: {got == entrants}; baseline entries "
        f"{got_base} == {entrants}: {got_base == entrants}; dropped {recorder.dropped}"
    )
    recorder.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--lines", type=int, default=20_000)
    parser.add_argument("--pg", help="postgresql://… (default: a temporary SQLite file)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.pg or f"sqlite:///{Path(tmp) / 'bench.db'}"
        rt = _runtime(url, Path(tmp))
        try:
            run(rt, args.lines)
        finally:
            rt.close()


if __name__ == "__main__":
    main()
