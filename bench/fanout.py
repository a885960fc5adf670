"""Room fan-out benchmark (issue 13). A script, not a test.

    .venv/bin/python bench/fanout.py                  # N = 1,000 5,000 10,000, all checks
    .venv/bin/python bench/fanout.py --quick          # N = 1,000, short windows (~3 min)
    .venv/bin/python bench/fanout.py --n 5000 --servers livebase raw --seconds 10
    .venv/bin/python bench/fanout.py --sim 4x2500     # only the 4-node simulation

One room, three servers on the same load, each pinned to core 0 (``taskset -c 0``), the
load generator (bench/fanout_gen.py, a hand-written WebSocket / Socket.IO client on uvloop)
and the publisher (bench/fanout_pub.py) on core 1:

- livebase: the real ``livebase serve`` (SQLite or PostgreSQL, ``livebase demo`` data, its
  live demo show, Redis bus), clients on ``/ws/shows/{id}``;
- socketio: python-socketio's ``AsyncServer`` with its ``AsyncRedisManager`` under uvicorn
  (bench/fanout_sio.py), a room emit per broadcast;
- raw: bench/fanout_raw.py, one pre-encoded frame written to each uvloop transport.

Load: ``--rate`` broadcasts/s (10) of ~200-byte critical ``notice`` frames through each
server's Redis path, plus ``--chat`` lines/s (200) sent by up to 400 signed-in clients
over their sockets (packed by every server into one ``chat`` frame per 100 ms tick).

Per server and N it reports: deliveries/s (frames the clients read), the share of the
broadcasts delivered, deliveries per server CPU-second (the saturation rate of one core
when the server is CPU-bound: on a fixed load a server that is not saturated would reach
about this at 100% of its core), p50/p99 send→receive latency (the publisher's ``sent``
ms in each frame, on ~500 connections that read as frames arrive), server RSS per idle
connection (marginal: taken once RSS holds still, after 20 clients opened the room),
server and generator CPU (a run whose generator passes 90% of its core is INVALID). Then
livebase only: half the clients reconnect at once with ``since`` while
broadcasts go on, and every client's critical seqs are checked; two nodes through Redis;
``--sim``: four nodes through one Redis with Redis' own CPU from INFO.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
# bench/http.py would shadow the standard library's http for a script run from bench/.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(ROOT / "src"))

REDIS = os.environ.get("LIVEBASE_BENCH_REDIS", "redis://127.0.0.1:6379/0")
PG_ADMIN = os.environ.get("LIVEBASE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
GEN_SATURATED = 0.9
CHATTERS = 400
PY = sys.executable
TICK_PER_S = 10  # every server packs chat into one frame per 100 ms tick


def _nofile(limit: int = 20000) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(limit, hard), hard))


def _cpu_of(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        parts = f.read().rsplit(")", 1)[1].split()
    return (int(parts[11]) + int(parts[12])) / os.sysconf("SC_CLK_TCK")


def _rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def _load() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def _redis_cpu() -> float:
    import redis

    info = redis.Redis.from_url(REDIS).info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, path: str = "") -> None:
    import urllib.request

    deadline = time.monotonic() + 180  # a loaded machine starts four nodes slowly
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{what} exited ({proc.returncode})")
        try:
            if path:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=1):
                    return
            else:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{what} did not come up on {port}")


# -- the world: a database with the demo and chatters ---------------------------------


class World:
    def __init__(self, kind: str, tmp: Path) -> None:
        self.tmp = tmp
        self.url = self._db_url(kind)
        from livebase.migrate import upgrade

        upgrade(self.url)
        subprocess.run(
            [str(Path(PY).parent / "livebase"), "demo"],
            env=self.env(),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        from sqlalchemy import insert, select

        from livebase.accounts.models import AuthToken, User
        from livebase.accounts.security import hash_password, new_token, token_digest
        from livebase.db import build_engine, new_id, utcnow
        from livebase.demo import LIVE_TITLE
        from livebase.shows.models import Show

        engine = build_engine(self.url)
        with engine.begin() as conn:
            self.show = conn.scalar(select(Show.id).where(Show.title == LIVE_TITLE))
            # Chatters straight into their tables (the service hashes a password per user
            # with argon2, far too slow for hundreds): a user and an API token each.
            pw, expires = hash_password("bench-password"), utcnow() + timedelta(days=1)
            users, tokens = [], []
            self.tokens: list[str] = []
            for i in range(CHATTERS):
                uid, raw = new_id("usr"), new_token()
                users.append(
                    {
                        "id": uid,
                        "username": f"viewer{i:05d}",
                        "display_name": f"观众{i}",
                        "password_hash": pw,
                        "is_active": True,
                        "created_at": utcnow(),
                    }
                )
                tokens.append(
                    {
                        "id": new_id("tok"),
                        "user_id": uid,
                        "token_hash": token_digest(raw),
                        "kind": "api",
                        "expires_at": expires,
                        "created_at": utcnow(),
                    }
                )
                self.tokens.append(raw)
            conn.execute(insert(User), users)
            conn.execute(insert(AuthToken), tokens)
        engine.dispose()
        if not self.show:
            raise SystemExit("the demo has no live show")

    def _db_url(self, kind: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{self.tmp / 'bench.db'}"
        import psycopg

        name = f"livebase_bench_fanout_{os.getpid()}"
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        base = PG_ADMIN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://")
        return f"{base}/{name}"

    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEBASE_")}
        env.update(
            LIVEBASE_DEMO="1",
            LIVEBASE_DATA_DIR=str(self.tmp),
            LIVEBASE_DATABASE_URL=self.url,
            LIVEBASE_REDIS_URL=REDIS,
            LIVEBASE_RUN_JOBS_IN_PROCESS="0",
            LIVEBASE_LOG_LEVEL="WARNING",
        )
        return env


# -- servers ------------------------------------------------------------------------


class Servers:
    """One kind of server on one or more ports (nodes), all pinned to ``core``."""

    def __init__(self, kind: str, world: World, nodes: int = 1, core: str = "0") -> None:
        self.kind = kind
        self.world = world
        self.ports = [_free_port() for _ in range(nodes)]
        self.channel = f"fanbench:{secrets.token_hex(4)}"
        self.procs: list[subprocess.Popen[bytes]] = []
        log = (world.tmp / f"{kind}.log").open("ab")
        for port in self.ports:
            pin = ["taskset", "-c", core]
            if kind == "livebase":
                cmd = [str(Path(PY).parent / "livebase"), "serve", "--port", str(port)]
                env = world.env()
            elif kind == "socketio":
                cmd = [
                    str(Path(PY).parent / "uvicorn"),
                    "--factory",
                    "bench.fanout_sio:create_app",
                    "--port",
                    str(port),
                    "--log-level",
                    "warning",
                    "--no-access-log",
                ]
                env = dict(os.environ, FANOUT_REDIS_URL=REDIS, FANOUT_CHANNEL=self.channel)
            else:
                cmd = [PY, str(BENCH / "fanout_raw.py"), str(port), REDIS, self.channel]
                env = dict(os.environ)
            p = subprocess.Popen(
                pin + cmd,
                env=env,
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                preexec_fn=_nofile,
            )
            self.procs.append(p)
        try:
            for port, p in zip(self.ports, self.procs, strict=True):
                _wait_port(port, p, kind, "/readyz" if kind == "livebase" else "")
        except BaseException:
            self.stop()  # no node left behind when another did not come up
            raise
        time.sleep(1.0)

    @property
    def path(self) -> str:
        if self.kind == "livebase":
            return f"/ws/shows/{self.world.show}"
        if self.kind == "socketio":
            return "/socket.io/?EIO=4&transport=websocket"
        return "/ws"

    def publisher(self, rate: float, seconds: float) -> subprocess.Popen[bytes]:
        mode, room, prefix = {
            "livebase": ("livebase", str(self.world.show), "livebase:"),
            "socketio": ("sio", "r", self.channel),
            "raw": ("raw", self.channel, ""),
        }[self.kind]
        return subprocess.Popen(
            [
                "taskset",
                "-c",
                "1",
                PY,
                str(BENCH / "fanout_pub.py"),
                mode,
                REDIS,
                room,
                str(rate),
                str(seconds),
                prefix,
            ],
            stdout=subprocess.PIPE,
        )

    def cpu(self) -> list[float]:
        return [_cpu_of(p.pid) for p in self.procs]

    def rss(self) -> list[int]:
        return [_rss_kib(p.pid) for p in self.procs]

    def settled_rss(self, within: float = 0.01, limit_s: float = 10.0) -> list[int]:
        """RSS once it holds still (two samples 0.5 s apart within 1 %): a server's own
        start-up work (timed jobs, caches) can swing it by tens of MiB for a few seconds,
        which divided by the clients would be read as their cost."""
        deadline = time.monotonic() + limit_s
        last = self.rss()
        while time.monotonic() < deadline:
            time.sleep(0.5)
            now = self.rss()
            if abs(sum(now) - sum(last)) <= within * max(1, sum(last)):
                return now
            last = now
        return last

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()


WARM_CLIENTS = 20


class Gen:
    def __init__(self, srv: Servers, n: int, tokens: list[str]) -> None:
        spec = {
            "dialect": "sio" if srv.kind == "socketio" else "ws",
            "ports": srv.ports,
            "n": n,
            "path": srv.path,
            "tokens": tokens if srv.kind == "livebase" else [],
            "chatters": CHATTERS,
        }
        self.spec_path = srv.world.tmp / f"spec-{secrets.token_hex(3)}.json"
        self.spec_path.write_text(json.dumps(spec))
        self.proc = subprocess.Popen(
            ["taskset", "-c", "1", PY, str(BENCH / "fanout_gen.py"), str(self.spec_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            preexec_fn=_nofile,
        )
        self.hello = self._read()

    def _read(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("the generator exited")
        out: dict[str, Any] = json.loads(line)
        return out

    def ask(self, cmd: str) -> dict[str, Any]:
        assert self.proc.stdin is not None
        self.proc.stdin.write(cmd.encode() + b"\n")
        self.proc.stdin.flush()
        return self._read()

    def quit(self) -> None:
        try:
            self.ask("close")
            assert self.proc.stdin is not None
            self.proc.stdin.write(b"quit\n")
            self.proc.stdin.close()
            self.proc.wait(20)
        except Exception:
            self.proc.kill()


def _pub_result(p: subprocess.Popen[bytes]) -> dict[str, Any]:
    out, _ = p.communicate(timeout=120)
    res: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return res


# -- one measured run -----------------------------------------------------------------


def run(
    kind: str,
    world: World,
    n: int,
    args: argparse.Namespace,
    nodes: int = 1,
    resume: bool = False,
) -> dict[str, Any]:
    srv = Servers(kind, world, nodes)
    row: dict[str, Any] = {"server": kind, "n": n, "nodes": nodes, "load_before": _load()}
    try:
        # The marginal cost of a viewer, on every server alike: a few clients open the
        # room first (the hub, its database read, the thread pool, lazily built caches
        # are the node's, not the viewers'), leave, and only then is RSS taken.
        warm = Gen(srv, WARM_CLIENTS, world.tokens[:WARM_CLIENTS])
        warm.quit()
        rss0 = srv.settled_rss()
        gen = Gen(srv, n, world.tokens)
        row["connect"] = gen.hello
        time.sleep(args.settle)
        rss1 = srv.settled_rss()
        connected = max(1, gen.hello["connected"])
        row["rss_idle_kib_per_conn"] = round((sum(rss1) - sum(rss0)) / connected, 2)
        row["rss_mib"] = round(sum(rss1) / 1024, 1)
        gen.ask(f"chat {args.chat}")
        pub = srv.publisher(args.rate, args.warm + args.seconds + 1)
        time.sleep(args.warm)
        c0, r0, w0 = srv.cpu(), _redis_cpu(), time.monotonic()
        m = gen.ask(f"measure {args.seconds}")
        c1, r1, w1 = srv.cpu(), _redis_cpu(), time.monotonic()
        pr = _pub_result(pub)
        wall = w1 - w0
        node_cpu = [(b - a) / wall for a, b in zip(c0, c1, strict=True)]
        row.update(
            frames_s=m["frames_s"],
            bytes_s=m["bytes_s"],
            types=m["types"],
            p50_ms=m["p50_ms"],
            p99_ms=m["p99_ms"],
            lat_n=m["lat_n"],
            gen_cpu=m["gen_cpu"],
            node_cpu=[round(x, 3) for x in node_cpu],
            server_cpu=round(sum(node_cpu), 3),
            redis_cpu=round((r1 - r0) / wall, 3),
            published_s=round(pr["rate"], 2),
            frame_bytes=pr["bytes"],
            valid=m["gen_cpu"] < GEN_SATURATED and gen.hello["failed"] == 0,
            live_after=m["live"],
            closed_codes=m["closed_codes"],
        )
        notice = m["types"].get("notice", 0) / m["wall"]
        row["broadcast_delivered"] = round(notice / (connected * args.rate), 3)
        row["per_cpu_s"] = round(m["frames_s"] / max(sum(node_cpu), 1e-6), 0)
        if resume:
            # Broadcasts go on while half the clients drop and come back with since;
            # then the publisher stops and every client's critical seqs are checked.
            pub = srv.publisher(args.rate, args.resume_wait)
            time.sleep(1.0)
            res = gen.ask("reconnect 0.5")
            pr = _pub_result(pub)
            res.update(gen.ask(f"verify {pr['last_seq']} 30"))
            row["resume"] = res
        row["load_after"] = _load()
        gen.quit()
    finally:
        srv.stop()
    print(json.dumps(row, ensure_ascii=False), flush=True)
    return row


def _fmt(x: Any, nd: int = 0) -> str:
    if x is None:
        return "-"
    if isinstance(x, float | int):
        return f"{x:,.{nd}f}"
    return str(x)


def table(rows: list[dict[str, Any]]) -> None:
    head = (
        "server",
        "nodes",
        "N",
        "deliv/s",
        "bcast%",
        "per CPU-s",
        "p50 ms",
        "p99 ms",
        "KiB/idle",
        "srv CPU",
        "gen CPU",
        "redis",
        "load",
        "valid",
    )
    print("  ".join(f"{h:>10}" for h in head))
    for r in rows:
        cells = (
            r["server"],
            r["nodes"],
            r["n"],
            _fmt(r["frames_s"]),
            _fmt(100 * r["broadcast_delivered"], 1),
            _fmt(r["per_cpu_s"]),
            _fmt(r["p50_ms"], 1),
            _fmt(r["p99_ms"], 1),
            _fmt(r["rss_idle_kib_per_conn"], 1),
            _fmt(r["server_cpu"], 2),
            _fmt(r["gen_cpu"], 2),
            _fmt(r["redis_cpu"], 2),
            r["load_after"],
            "yes" if r["valid"] else "INVALID",
        )
        print("  ".join(f"{c:>10}" for c in cells))


def verdicts(rows: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    out: list[tuple[str, str, str]] = []

    def pick(kind: str, n: int | None = None, nodes: int = 1) -> list[dict[str, Any]]:
        return [
            r
            for r in rows
            if r["server"] == kind and r["nodes"] == nodes and (n is None or r["n"] == n)
        ]

    for n in sorted({r["n"] for r in rows if r["nodes"] == 1}):
        lb, sio, raw = pick("livebase", n), pick("socketio", n), pick("raw", n)
        if lb and sio:
            ratio = lb[0]["per_cpu_s"] / max(sio[0]["per_cpu_s"], 1)
            out.append(
                (
                    f"N={n:,}: deliveries per CPU-s ≥ 6 × python-socketio",
                    f"{ratio:.1f} ×",
                    "PASS" if ratio >= 6 else "FALL SHORT",
                )
            )
        if lb and raw:
            ratio = lb[0]["per_cpu_s"] / max(raw[0]["per_cpu_s"], 1)
            out.append(
                (
                    f"N={n:,}: deliveries per CPU-s ≥ 0.6 × raw ceiling",
                    f"{ratio:.2f} ×",
                    "PASS" if ratio >= 0.6 else "FALL SHORT",
                )
            )
        if lb:
            kib = lb[0]["rss_idle_kib_per_conn"]
            # RSS that fell while clients connected is the server freeing its own start-up
            # memory, not a measurement of the clients: no verdict from it.
            out.append(
                (
                    f"N={n:,}: ≤ 15 KiB RSS per idle connection",
                    f"{kib:.1f} KiB",
                    "INVALID (RSS fell)" if kib <= 0 else "PASS" if kib <= 15 else "FALL SHORT",
                )
            )
            if n == 5000:
                p99 = lb[0]["p99_ms"]
                out.append(
                    (
                        "N=5,000: p99 ≤ 100 ms",
                        f"{p99} ms",
                        "PASS" if p99 is not None and p99 <= 100 else "FALL SHORT",
                    )
                )
            res = lb[0].get("resume")
            if res:
                ok = (
                    res["critical_lost"] == 0
                    and res["reconnect_failed"] == 0
                    and res["clients_cut"] == 0
                )
                out.append(
                    (
                        f"N={n:,}: 0 critical frames lost, half reconnect with since",
                        f"{res['critical_lost']} lost, {res['critical_dup']} dup, "
                        f"{res['reconnected']:,} back, {res['clients_cut']} cut, {res['gaps']} gap",
                        "PASS" if ok else "FALL SHORT",
                    )
                )
    one = [r for r in rows if r["server"] == "livebase" and r["nodes"] == 1]
    two = [r for r in rows if r["server"] == "livebase" and r["nodes"] == 2]
    if one and two:
        o = next((r for r in one if r["n"] == two[0]["n"]), one[0])
        # Each node would have its own core: capacity = per-node deliveries per CPU-s.
        cap1 = o["per_cpu_s"]
        cap2 = sum(two[0]["frames_s"] / 2 / max(c, 1e-6) for c in two[0]["node_cpu"])
        ratio = cap2 / max(cap1, 1)
        out.append(
            (
                "two nodes through Redis ≥ 1.6 × one node (CPU-normalised)",
                f"{ratio:.2f} ×",
                "PASS" if ratio >= 1.6 else "FALL SHORT",
            )
        )
    for r in rows:
        if not r["valid"]:
            out.append(
                (
                    f"{r['server']} N={r['n']:,} nodes={r['nodes']}",
                    f"generator {r['gen_cpu']:.0%} or failed connects",
                    "INVALID",
                )
            )
        if r["server"] == "livebase" and r["nodes"] == 1:
            lost = r["connect"]["connected"] - r["live_after"]
            out.append(
                (
                    f"invariant: livebase N={r['n']:,} no client cut on the fixed load",
                    f"{lost} cut {r['closed_codes']}",
                    "PASS" if lost == 0 else "FAIL",
                )
            )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 5000, 10000])
    ap.add_argument("--servers", nargs="+", default=["raw", "socketio", "livebase"])
    ap.add_argument("--db", choices=["sqlite", "postgresql"], default="sqlite")
    ap.add_argument("--rate", type=float, default=10.0)
    ap.add_argument("--chat", type=float, default=200.0)
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--warm", type=float, default=3.0)
    ap.add_argument("--settle", type=float, default=3.0)
    ap.add_argument("--resume-wait", type=float, default=8.0)
    ap.add_argument("--two-nodes", type=int, default=None, help="N for the 2-node run")
    ap.add_argument("--sim", default=None, help="NODESxCLIENTS, e.g. 4x2500")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    if args.quick:
        args.n, args.seconds, args.warm, args.settle = [1000], 5.0, 2.0, 2.0
        args.two_nodes = args.two_nodes or 1000
    elif args.two_nodes is None and not args.sim:
        args.two_nodes = 5000
    _nofile()
    now = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    print(f"# fanout bench, load {_load()}, {now}")
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        world = World(args.db, Path(tmp))
        if not args.sim or args.two_nodes:
            for n in args.n:
                for kind in args.servers:
                    rows.append(run(kind, world, n, args, resume=kind == "livebase"))
            if args.two_nodes and "livebase" in args.servers:
                rows.append(run("livebase", world, args.two_nodes, args, nodes=2))
        if args.sim:
            nodes, per = (int(x) for x in args.sim.lower().split("x"))
            rows.append(run("livebase", world, nodes * per, args, nodes=nodes))
    print()
    table(rows)
    print()
    for what, figure, verdict in verdicts(rows):
        print(f"{what:<62} {figure:>34}  {verdict}")
    sims = [r for r in rows if r["nodes"] > 2]
    for r in sims:
        print(
            f"\nsimulation {r['nodes']} nodes × {r['n'] // r['nodes']:,} clients: per node CPU "
            f"{r['node_cpu']}, Redis CPU {r['redis_cpu']:.3f}, "
            f"deliveries/s {r['frames_s']:,.0f}, "
            f"frame bytes {r['frame_bytes']}, bytes/s {r['bytes_s']:,.0f}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
