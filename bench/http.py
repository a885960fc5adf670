"""HTTP stack benchmark (issue 18 items 0 and 0b). A script, not a test.

    .venv/bin/python bench/http.py [--pg] [--duration 5] [--rounds 5] [--cpu 0] [--load-cpu 1]

Starts, each as a subprocess pinned to one core (taskset):

* the real livebase server, ``livebase serve`` exactly as ``make run`` starts it (embedded
  SQLite, migrated, demo data, JSON request log at INFO to a file); with ``--pg`` also in
  production mode (PostgreSQL + Redis);
* a bare FastAPI app (bench/bare_app.py) under the same uvicorn and the same options;

and loads them from a separate process on another core: wrk when installed (Debian's
``wrk``), else a small asyncio load generator in a subprocess. It prints

1. GET /healthz of livebase beside the bare app's sync and async routes, 64 clients,
   interleaved rounds (the median of each), with PASS / FALL SHORT against 0.7 x bare;
   besides requests/s it prints requests per CPU-second of the server process, which a
   machine shared with other work disturbs much less than the wall clock;
2. requests/s, p50, p99 and non-2xx answers of a public list (GET /api/v1/products), the
   public show page (GET /shows/{id}, HTML) and an authenticated GET /api/v1/me at 16, 64
   and 256 clients, per backend. A 503 there is the server shedding load (overloaded),
   counted as non-2xx.
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is bench/http.py: run as a script, its folder comes first on sys.path and the
# file would shadow the standard library's `http` package (urllib, uvicorn import it).
if sys.path and Path(sys.path[0] or ".").resolve() == Path(__file__).resolve().parent:
    sys.path.pop(0)

import argparse
import asyncio
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

ROOT = Path(__file__).resolve().parents[1]
BENCH = Path(__file__).resolve().parent
TARGET_RATIO = 0.7  # issue 18 item 0b: /healthz >= 0.7 x the bare app, same run
CLIENTS = (16, 64, 256)
PG_ADMIN = os.environ.get("LIVEBASE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("LIVEBASE_TEST_REDIS", "redis://127.0.0.1:6379/0")
DEMO_PASSWORD = "livebase-demo"
SOURCE = ""  # set by --src


@dataclass
class Result:
    rps: float
    p50_ms: float
    p99_ms: float
    non_2xx: int
    errors: int
    cpu_per_req_us: float = 0.0  # server CPU time per answered request

    @property
    def per_cpu_s(self) -> float:
        return 1e6 / self.cpu_per_req_us if self.cpu_per_req_us else 0.0


# --- servers --------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _bin(name: str) -> str:
    return str(Path(sys.executable).parent / name)


def _pin(cpu: int | None) -> list[str]:
    return ["taskset", "-c", str(cpu)] if cpu is not None and shutil.which("taskset") else []


def _wait_http(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"{url} did not come up:\n{log.read_text('utf-8', 'replace')[-2000:]}")


@contextmanager
def _process(cmd: list[str], env: dict[str, str], log: Path, probe: str) -> Iterator[int]:
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=log.parent)
        try:
            _wait_http(probe, proc, log)
            yield proc.pid
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


def _livebase_env(data: Path, url: str, database_url: str, redis_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEBASE_")}
    env.update(
        LIVEBASE_DEMO="1",
        LIVEBASE_DATA_DIR=str(data),
        LIVEBASE_PUBLIC_URL=url,
        LIVEBASE_LOG_JSON="1",
        LIVEBASE_LOG_LEVEL="INFO",
    )
    if database_url:
        env["LIVEBASE_DATABASE_URL"] = database_url
    if redis_url:
        env["LIVEBASE_REDIS_URL"] = redis_url
    return env


@contextmanager
def livebase(
    work: Path, cpu: int | None, *, database_url: str = "", redis_url: str = ""
) -> Iterator[tuple[str, int]]:
    data = work / ("pg" if database_url else "sqlite")
    data.mkdir(parents=True, exist_ok=True)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = _livebase_env(data, url, database_url, redis_url)
    if SOURCE:  # --src: another checkout's code, for before/after figures in one session
        env["PYTHONPATH"] = SOURCE
    for step in ("migrate", "demo"):
        subprocess.run([_bin("livebase"), step], env=env, check=True, capture_output=True)
    cmd = [*_pin(cpu), _bin("livebase"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    with _process(cmd, env, data / "serve.log", f"{url}/healthz") as pid:
        yield url, pid


@contextmanager
def bare(work: Path, cpu: int | None) -> Iterator[tuple[str, int]]:
    port = _free_port()
    # Run from the work folder (a copy of the app): from bench/ this file would shadow `http`.
    shutil.copy(BENCH / "bare_app.py", work / "bare_app.py")
    # The options of `livebase serve` (livebase/cli.py), so only the app differs.
    code = (
        f"import uvicorn; uvicorn.run('bare_app:app', host='127.0.0.1', port={port}, "
        "proxy_headers=True, access_log=False, log_config=None)"
    )
    cmd = [*_pin(cpu), sys.executable, "-c", code]
    url = f"http://127.0.0.1:{port}"
    with _process(cmd, dict(os.environ), work / "bare.log", f"{url}/sync") as pid:
        yield url, pid


@contextmanager
def pg_database() -> Iterator[str]:
    import psycopg

    name = f"livebase_bench_{os.getpid()}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _cpu_seconds(pid: int) -> float:
    """utime + stime of a process and all its threads (the threadpool included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- load -----------------------------------------------------------------------------


def _ms(text: str) -> float:
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", text)
    if found is None:  # wrk prints -nan when nothing was answered
        print(f"(unparsed wrk latency {text!r})", file=sys.stderr)
        return float("nan")
    value, unit = found.groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}[unit]


def _wrk(
    url: str, clients: int, seconds: float, headers: dict[str, str], cpu: int | None
) -> Result:
    cmd = [*_pin(cpu), "wrk", "-t1", f"-c{clients}", f"-d{seconds:g}s", "--latency"]
    cmd += ["--timeout", "10s"]
    for name, value in headers.items():
        cmd += ["-H", f"{name}: {value}"]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))  # type: ignore[union-attr]
    # The "Latency Distribution" lines (a "Thread Stats" line also ends in "NN.NN%").
    p50 = re.search(r"^\s+50%\s+(\S+)$", out, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)$", out, re.M)
    non = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    err = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return Result(
        rps,
        _ms(p50.group(1)) if p50 else 0.0,
        _ms(p99.group(1)) if p99 else 0.0,
        int(non.group(1)) if non else 0,
        sum(int(x) for x in err.groups()) if err else 0,
    )


async def _pyload_main(url: str, clients: int, seconds: float, headers: dict[str, str]) -> dict:
    """The fallback load generator: keep-alive HTTP/1.1 connections over asyncio streams."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = f"GET {target} HTTP/1.1\r\nHost: {parts.netloc}\r\n{extra}\r\n".encode()
    latencies: list[float] = []
    statuses = {"ok": 0, "non_2xx": 0, "errors": 0}
    stop = time.monotonic() + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
        while time.monotonic() < stop:
            start = time.perf_counter()
            writer.write(request)
            try:
                head = await reader.readuntil(b"\r\n\r\n")
            except (asyncio.IncompleteReadError, ConnectionError):
                statuses["errors"] += 1
                return
            length = int(re.search(rb"(?i)content-length:\s*(\d+)", head).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            latencies.append(time.perf_counter() - start)
            statuses["ok" if head[9:10] == b"2" else "non_2xx"] += 1
        writer.close()

    await asyncio.gather(*(client() for _ in range(clients)), return_exceptions=True)
    latencies.sort()
    n = len(latencies)
    return {
        "rps": n / seconds,
        "p50": latencies[n // 2] * 1000 if n else 0.0,
        "p99": latencies[min(n - 1, int(n * 0.99))] * 1000 if n else 0.0,
        **statuses,
    }


def _pyload(
    url: str, clients: int, seconds: float, headers: dict[str, str], cpu: int | None
) -> Result:
    spec = json.dumps([url, clients, seconds, headers])
    cmd = [*_pin(cpu), sys.executable, __file__, "--load", spec]
    out = json.loads(subprocess.run(cmd, capture_output=True, text=True, check=True).stdout)
    return Result(out["rps"], out["p50"], out["p99"], out["non_2xx"], out["errors"])


def settle(pid: int, bound: float = 15.0) -> None:
    """Wait until the server has worked off what the previous run left queued (its CPU
    use drops below a tenth of a core), so one run's backlog is not the next one's."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        before = _cpu_seconds(pid)
        time.sleep(0.25)
        if _cpu_seconds(pid) - before < 0.025:
            return


def load(
    url: str,
    clients: int,
    seconds: float,
    cpu: int | None,
    pid: int,
    headers: dict[str, str] | None = None,
) -> Result:
    run = _wrk if shutil.which("wrk") else _pyload
    settle(pid)
    before = _cpu_seconds(pid)
    result = run(url, clients, seconds, headers or {}, cpu)
    spent = _cpu_seconds(pid) - before
    answered = result.rps * seconds
    result.cpu_per_req_us = spent / answered * 1e6 if answered else 0.0
    return result


# --- the benchmark --------------------------------------------------------------------


def _get_json(url: str, data: dict | None = None) -> dict:
    body = json.dumps(data).encode() if data is not None else None
    req = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        parsed: dict = json.loads(r.read())
        return parsed


def healthz_vs_bare(args: argparse.Namespace, work: Path) -> None:
    print("## GET /healthz beside a bare FastAPI app (64 clients, one core each)\n")
    with bare(work, args.cpu) as (bare_url, bare_pid), livebase(work, args.cpu) as (lb_url, lb_pid):
        targets = {
            "bare FastAPI, sync route": (f"{bare_url}/sync", bare_pid),
            "bare FastAPI, async route": (f"{bare_url}/async", bare_pid),
            "livebase GET /healthz": (f"{lb_url}/healthz", lb_pid),
        }
        runs: dict[str, list[Result]] = {name: [] for name in targets}
        for url, pid in targets.values():  # warm-up
            load(url, 64, 1, args.load_cpu, pid)
        for _ in range(args.rounds):  # interleaved, so a noisy neighbour hits all alike
            for name, (url, pid) in targets.items():
                runs[name].append(load(url, 64, args.duration, args.load_cpu, pid))
    med = {n: statistics.median(r.rps for r in rs) for n, rs in runs.items()}
    cpu = {n: statistics.median(r.per_cpu_s for r in rs) for n, rs in runs.items()}
    print("| | req/s (median) | rounds | p99 | req per server CPU-s |")
    print("|---|---|---|---|---|")
    for name, rs in runs.items():
        spread = ", ".join(f"{r.rps:,.0f}" for r in rs)
        p99 = statistics.median(r.p99_ms for r in rs)
        print(f"| {name} | {med[name]:,.0f} | {spread} | {p99:.1f} ms | {cpu[name]:,.0f} |")
    print()
    lb = "livebase GET /healthz"
    for base in ("bare FastAPI, sync route", "bare FastAPI, async route"):
        for label, table in (("req/s", med), ("req per CPU-s", cpu)):
            ratio = table[lb] / table[base] if table[base] else 0.0
            verdict = "PASS" if ratio >= TARGET_RATIO else "FALL SHORT"
            print(f"- /healthz vs {base}, {label}: {ratio:.2f} x (target {TARGET_RATIO}) {verdict}")
    print()


def endpoints(args: argparse.Namespace, work: Path, backend: str, **db: str) -> None:
    print(f"## {backend}: requests/s, p50 / p99, non-2xx (one server core)\n")
    with livebase(work, args.cpu, **db) as (url, pid):
        token = _get_json(
            f"{url}/api/v1/auth/tokens", {"username": "viewer", "password": DEMO_PASSWORD}
        )["access_token"]
        show_id = _get_json(f"{url}/api/v1/shows")["items"][0]["id"]
        cases = [
            ("GET /api/v1/products", f"{url}/api/v1/products", {}),
            ("GET /shows/{id} (page)", f"{url}/shows/{show_id}", {}),
            ("GET /api/v1/me", f"{url}/api/v1/me", {"Authorization": f"Bearer {token}"}),
        ]
        print("| endpoint | clients | req/s | p50 | p99 | non-2xx | socket errors |")
        print("|---|---|---|---|---|---|---|")
        for label, target, headers in cases:
            load(target, 16, 1, args.load_cpu, pid, headers)  # warm-up
            for clients in CLIENTS:
                r = load(target, clients, args.duration, args.load_cpu, pid, headers)
                print(
                    f"| {label} | {clients} | {r.rps:,.0f} | {r.p50_ms:.1f} ms | "
                    f"{r.p99_ms:.1f} ms | {r.non_2xx} | {r.errors} |",
                    flush=True,
                )
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pg", action="store_true", help="also PostgreSQL + Redis mode")
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved /healthz rounds")
    parser.add_argument("--cpu", type=int, default=0, help="core for the servers")
    parser.add_argument("--load-cpu", type=int, default=1, help="core for the load generator")
    parser.add_argument(
        "--src", default="", help="run livebase from this src/ folder (e.g. an older commit's)"
    )
    parser.add_argument("--healthz-only", action="store_true", help="only the /healthz part")
    parser.add_argument("--load", help=argparse.SUPPRESS)  # the fallback generator's process
    args = parser.parse_args()
    global SOURCE
    SOURCE = str(Path(args.src).resolve()) if args.src else ""
    if args.load:
        url, clients, seconds, headers = json.loads(args.load)
        print(json.dumps(asyncio.run(_pyload_main(url, clients, seconds, headers))))
        return
    generator = "wrk" if shutil.which("wrk") else "python asyncio (no wrk installed)"
    print(f"load generator: {generator}; ", end="")
    print(f"servers on core {args.cpu}, load on core {args.load_cpu}; {time.strftime('%F %T')}")
    print(f"livebase from {SOURCE or ROOT / 'src'}\n")
    with tempfile.TemporaryDirectory(prefix="livebase-bench-") as tmp:
        work = Path(tmp)
        healthz_vs_bare(args, work)
        if args.healthz_only:
            return
        endpoints(args, work, "SQLite (embedded)")
        if args.pg:
            with pg_database() as url:
                endpoints(args, work, "PostgreSQL + Redis", database_url=url, redis_url=REDIS_URL)


if __name__ == "__main__":
    main()
