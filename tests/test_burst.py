"""A burst of viewers on a cold server (issue 18 item 0).

The real server (`livebase serve`, uvicorn, a subprocess on a free port) is started on a
database migrated and loaded with the demo data, and before anything else reaches it, a
few hundred clients arrive together — the moment a show goes live. Every one of them must
be answered within a bound: 200, or 503 `overloaded` with `Retry-After` when the server
sheds load. Never a 500, never a request left hanging while the connection pool times out
(the bug: the server froze for 30 s, then answered 500s).

No timing is asserted beyond the stall bound: that a request is answered at all within
STALL_BOUND_S, on a machine shared with other work.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select

from livebase.accounts.service import do_issue_token, user_by_username
from livebase.demo import load_demo
from livebase.runtime import Runtime
from livebase.shows.models import Show
from tests.conftest import REDIS_URL
from tests.live_server import wait_ready

# The frozen server answered nothing for 30 s (SQLAlchemy's pool timeout). A request that
# takes 10 s to be answered or refused has stalled; a healthy server, even one shedding
# load on a busy 2-core machine, answers within its queue timeout plus one request's work.
STALL_BOUND_S = 10.0
# Concurrent clients per wave. Two waves: the first meets a cold server (no pooled
# connections, nothing imported lazily yet), the second a pool warmed by the first.
BURST = 200
WAVES = 2
# Start-up builds the compliance automata (seconds on a quiet machine, 25 s seen on a
# shared one under load); two minutes means it is broken.
READY_TIMEOUT_S = 120.0


@dataclass
class LiveServer:
    url: str
    token: str
    show_id: str
    log: Path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _livebase() -> list[str]:
    script = Path(sys.executable).parent / "livebase"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from livebase.cli import main; main()"]


@pytest.fixture
def cold_server(rt: Runtime, tmp_path: Path) -> Iterator[LiveServer]:
    with rt.sessions() as db, db.begin():
        load_demo(db, tmp_path / "uploads")
        viewer = user_by_username(db, "viewer")
        assert viewer is not None
        token, _ = do_issue_token(db, viewer, kind="api", ttl_seconds=3600)
        show_id = db.scalars(select(Show.id).order_by(Show.id)).first()
        assert show_id is not None
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEBASE_")}
    env.update(
        LIVEBASE_DEMO="1",
        LIVEBASE_DATA_DIR=str(tmp_path),
        LIVEBASE_DATABASE_URL=rt.settings.database_url,
        LIVEBASE_PUBLIC_URL=url,
        LIVEBASE_LOG_LEVEL="WARNING",
        LIVEBASE_LOG_JSON="1",
        # The test database is emptied under the server after the test; no timed jobs.
        LIVEBASE_RUN_JOBS_IN_PROCESS="0",
    )
    if rt.redis is not None:
        env["LIVEBASE_REDIS_URL"] = REDIS_URL
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*_livebase(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            # /healthz, not /readyz: the server must stay cold (no database connection yet).
            wait_ready(url, proc, log_path, path="/healthz")
            yield LiveServer(url, token, show_id, log_path)
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=15)


@dataclass
class Outcome:
    path: str
    status: int | None  # None: not answered within STALL_BOUND_S
    body: str
    retry_after: str | None


async def _one(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> Outcome:
    try:
        r = await client.get(path, headers=headers)
    except httpx.TimeoutException:
        return Outcome(path, None, "", None)
    return Outcome(path, r.status_code, r.text, r.headers.get("retry-after"))


async def _burst(server: LiveServer, n: int) -> list[Outcome]:
    auth = {"Authorization": f"Bearer {server.token}"}
    targets = [
        ("/api/v1/products", {}),
        (f"/api/v1/shows/{server.show_id}", {}),
        ("/api/v1/me", auth),
    ]
    # One connection per client, opened together: a burst, not a pipeline.
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
    timeout = httpx.Timeout(STALL_BOUND_S, connect=STALL_BOUND_S)
    async with httpx.AsyncClient(base_url=server.url, limits=limits, timeout=timeout) as c:
        calls = [_one(c, *targets[i % len(targets)]) for i in range(n)]
        return list(await asyncio.gather(*calls))


def test_a_burst_on_a_cold_server_is_answered_or_refused_quickly_never_stalls(
    cold_server: LiveServer,
) -> None:
    # Given a server that has just started; when BURST clients arrive together (twice)
    outcomes = [o for _ in range(WAVES) for o in asyncio.run(_burst(cold_server, BURST))]

    # then every one of them is answered within the bound
    stalled = [o.path for o in outcomes if o.status is None]
    assert not stalled, f"{len(stalled)} of {len(outcomes)} requests stalled: {stalled[:5]}"
    # with a 200, or a quick refusal in the contract's shape, never a server error
    odd = [(o.path, o.status, o.body[:200]) for o in outcomes if o.status not in (200, 503)]
    assert not odd, f"unexpected answers: {odd[:5]}"
    for o in outcomes:
        if o.status == 503:
            assert '"error":"overloaded"' in o.body.replace(" ", ""), o.body
            assert o.retry_after is not None and o.retry_after.isdigit()
    log = cold_server.log.read_text("utf-8", "replace")
    assert "TimeoutError" not in log, log[-2000:]

    # and afterwards the server serves each of them normally.
    auth = {"Authorization": f"Bearer {cold_server.token}"}
    for path, headers in (
        ("/api/v1/products", {}),
        (f"/api/v1/shows/{cold_server.show_id}", {}),
        ("/api/v1/me", auth),
    ):
        r = httpx.get(cold_server.url + path, headers=headers, timeout=STALL_BOUND_S)
        assert r.status_code == 200, (path, r.status_code, r.text[:200])
