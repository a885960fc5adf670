"""One real nginx-rtmp for the whole session, calling back into the app of the backend
under test (SQLite, then PostgreSQL) served by uvicorn on a fixed port."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import uvicorn

from livebase.app import create_app
from livebase.media import nginx
from livebase.runtime import Runtime
from livebase.settings import Settings
from tests.live_server import free_port

SECRET_KEY = "x" * 40  # the backend fixture's, so the derived media secret matches


@dataclass
class MediaServer:
    settings: Settings
    rtmp_port: int
    http_port: int
    app_port: int
    media_dir: Path
    proc: subprocess.Popen[bytes]

    @property
    def hls(self) -> str:
        return f"http://127.0.0.1:{self.http_port}/hls"


def _wait_port(port: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


@pytest.fixture(scope="session")
def media_server() -> Iterator[MediaServer]:
    if not shutil.which("nginx") or not os.path.exists(Settings().rtmp_module):
        pytest.fail("nginx with the RTMP module is needed (bash scripts/system-deps.sh)")
    # Not under pytest's 0700 folders: nginx's workers (nobody, when the tests run as
    # root) must reach the files.
    media_dir = Path(tempfile.mkdtemp(prefix="livebase-media-"))
    media_dir.chmod(0o755)
    rtmp, http, app = free_port(), free_port(), free_port()
    settings = Settings(
        demo=True,
        secret_key=SECRET_KEY,
        media_path=media_dir,
        rtmp_port=rtmp,
        media_http_port=http,
        public_url=f"http://127.0.0.1:{app}",
    )
    nginx.write_config(settings)
    nginx.check_config(settings)
    log = (media_dir / "nginx.out").open("wb")
    proc = subprocess.Popen(nginx.nginx_command(settings), stdout=log, stderr=subprocess.STDOUT)
    try:
        _wait_port(rtmp)
        _wait_port(http)
        yield MediaServer(settings, rtmp, http, app, media_dir, proc)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()
        shutil.rmtree(media_dir, ignore_errors=True)


def _serve(app: object, port: int) -> tuple[uvicorn.Server, threading.Thread, socket.socket]:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    server = uvicorn.Server(uvicorn.Config(app, log_config=None, access_log=False))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.02)
    return server, thread, sock


@pytest.fixture(scope="session")
def media_app(backend: Runtime, media_server: MediaServer) -> Iterator[str]:
    """The backend's app on the port nginx calls back, its settings pointed at nginx."""
    s = backend.settings
    s.media_path = media_server.media_dir
    s.rtmp_port = media_server.rtmp_port
    s.media_http_port = media_server.http_port
    s.public_url = f"http://127.0.0.1:{media_server.app_port}"
    s.media_grace_seconds = 1
    server, thread, sock = _serve(create_app(runtime=backend), media_server.app_port)
    url = s.public_url
    assert httpx.get(f"{url}/healthz", timeout=5).status_code == 200
    try:
        yield url
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
