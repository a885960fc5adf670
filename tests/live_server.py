"""Real servers for tests that need real HTTP: keep-alive connections, forwarded headers,
the CLI's own uvicorn settings.

`in_thread(app)` runs uvicorn on an app built by the test (so a test-only route can be
added); `cli_serve(env)` runs `livebase serve` as a subprocess, exactly as an operator
would. Both wait for readiness on a bounded condition, never a fixed sleep.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI

from tests.clikit import invoke

# Start-up takes 1–3 s on an idle machine and much more on a shared, loaded one (a test
# run saw over 30 s at a load of 12 on two cores); 90 s means something is broken.
READY_TIMEOUT_S = 90.0


def wait_ready(
    url: str,
    proc: subprocess.Popen[bytes],
    log: Path | None = None,
    *,
    path: str = "/readyz",
    timeout: float = READY_TIMEOUT_S,
) -> None:
    """Return once ``livebase serve`` at ``url`` answers 200 on ``path`` (``/healthz`` for
    a server that must stay cold); raise, with the tail of its ``log``, if it exits or
    is not up within ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}{path}", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    what = f"exited with {proc.returncode}" if proc.poll() is not None else "was not up in time"
    tail = log.read_text("utf-8", "replace")[-3000:] if log is not None else ""
    raise RuntimeError(f"livebase serve {what}\n--- serve log ---\n{tail}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def in_thread(app: FastAPI, **options: Any) -> Iterator[str]:
    """uvicorn on a free port in a thread of this process; ``options`` go to its Config."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False, **options))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + READY_TIMEOUT_S
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


def _livebase() -> list[str]:
    script = Path(sys.executable).parent / "livebase"
    return [str(script)] if script.exists() else [sys.executable, "-m", "livebase.cli"]


def livebase_env(data_dir: Path, **settings: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEBASE_")}
    env.update(
        LIVEBASE_DEMO="1",
        LIVEBASE_DATA_DIR=str(data_dir),
        LIVEBASE_DATABASE_URL=f"sqlite:///{data_dir / 'livebase.db'}",
        LIVEBASE_LOG_LEVEL="WARNING",
        LIVEBASE_RUN_JOBS_IN_PROCESS="0",
    )
    env.update(settings)
    return env


def migrate(env: dict[str, str]) -> None:
    """``livebase migrate`` in this process (the serve that follows is the real process)."""
    invoke(env, "migrate")


@contextmanager
def cli_serve(env: dict[str, str], log: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*_livebase(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env={**env, "LIVEBASE_PUBLIC_URL": url},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_ready(url, proc, log)
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
