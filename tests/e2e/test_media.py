"""Video in a real Chromium: the demo's live show plays (video.currentTime advances) from
a test stream pushed through a real nginx-rtmp run by `livebase media serve`, and a
chapter click on the replay seeks the video."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser

from tests.e2e.conftest import (
    DEMO_PASSWORD,
    READY_TIMEOUT_S,
    Phone,
    Server,
    _free_port,
    _livebase,
    shot,
    sign_in,
)
from tests.live_server import wait_ready


@pytest.fixture(scope="module")
def media_site() -> Iterator[Server]:
    # Not under pytest's 0700 folders: nginx's workers run as nobody under root.
    data_dir = Path(tempfile.mkdtemp(prefix="livebase-e2e-media-"))
    data_dir.chmod(0o755)
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEBASE_")}
    env.update(
        LIVEBASE_DEMO="1",
        LIVEBASE_DATA_DIR=str(data_dir),
        LIVEBASE_DATABASE_URL=f"sqlite:///{data_dir / 'livebase.db'}",
        LIVEBASE_PUBLIC_URL=url,
        LIVEBASE_RTMP_PORT=str(_free_port()),
        LIVEBASE_MEDIA_HTTP_PORT=str(_free_port()),
        LIVEBASE_MEDIA_GRACE_SECONDS="1",
        LIVEBASE_LOG_LEVEL="WARNING",
    )
    for step in (["migrate"], ["demo"]):
        subprocess.run([*_livebase(), *step], env=env, check=True, capture_output=True, timeout=120)
    logs = [(data_dir / f"{n}.log").open("wb") for n in ("serve", "media")]
    procs = [
        subprocess.Popen(
            [*_livebase(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=logs[0],
            stderr=subprocess.STDOUT,
        ),
        subprocess.Popen(
            [*_livebase(), "media", "serve"], env=env, stdout=logs[1], stderr=subprocess.STDOUT
        ),
    ]
    try:
        wait_ready(url, procs[0], timeout=READY_TIMEOUT_S)
        site = Server(url, data_dir)
        site.env = env  # type: ignore[attr-defined]
        yield site
    finally:
        for proc in procs:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
        for f in logs:
            f.close()
        shutil.rmtree(data_dir, ignore_errors=True)


def _api(site: Server, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(site.url + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read() or b"null")


def _current_time(page: Any, testid: str) -> float:
    return float(page.evaluate(f"document.querySelector('[data-testid={testid}]').currentTime"))


def _wait(what: str, check: Any, timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_the_live_show_plays_and_the_replay_seeks_to_a_chapter(
    chromium: Browser, media_site: Server
) -> None:
    site = media_site
    env = site.env  # type: ignore[attr-defined]
    token = _api(
        site, "POST", "/api/v1/auth/tokens", body={"username": "ajie", "password": DEMO_PASSWORD}
    )["access_token"]
    (show,) = [s for s in _api(site, "GET", "/api/v1/shows?status=live")["items"]]
    sid = show["id"]
    full = _api(site, "GET", f"/api/v1/shows/{sid}")
    assert len(full["shelf"]) >= 2
    push = subprocess.Popen(
        [*_livebase(), "media", "test-stream", sid, "--seconds", "14", "--size", "640x360"],
        env=env,
        stderr=subprocess.PIPE,
    )
    phone = Phone(chromium, site)
    try:
        # The host's OBS page shows the stream's health from nginx's /stat.
        _wait(
            "the show to be on air",
            lambda: _api(site, "GET", f"/api/v1/shows/{sid}/stream", token)["publishing"],
        )
        _api(site, "POST", f"/api/v1/shows/{sid}/explaining", token, {"no": 2})
        host = phone.open()
        sign_in(host, "ajie")
        host.goto(f"/host/shows/{sid}/obs")
        host.wait_for_selector("[data-testid=health-state][data-state=on]")
        host.wait_for_function("document.querySelector('[data-h=fps]').textContent === '30'")
        shot(host, "media-obs-setup")
        _api(site, "POST", f"/api/v1/shows/{sid}/explaining", token, {"no": 3})
        page = phone.open()
        page.goto(f"/shows/{sid}")
        page.wait_for_selector("[data-testid=player-state][data-state=live]", timeout=20_000)
        t1 = _wait(
            "the video to play",
            lambda: _current_time(page, "video") > 0.5 and _current_time(page, "video"),
        )
        time.sleep(1.5)
        t2 = _current_time(page, "video")
        assert t2 > t1 + 0.5, (t1, t2)  # the picture moves
        shot(page, "media-live-player")
        assert push.wait(timeout=30) == 0, push.stderr.read() if push.stderr else ""
        # The stream ended: after the grace period the page says so.
        page.wait_for_selector("[data-testid=player-state][data-state=ended]", timeout=20_000)
        shot(page, "media-ended")
        replay = _wait(
            "the replay",
            lambda: (
                (r := _api(site, "GET", f"/api/v1/shows/{sid}/replay"))["status"] == "ready"
                and {2, 3} <= {c["no"] for c in r["chapters"]}
                and r
            ),
        )
        page.goto(f"/shows/{sid}/replay")
        page.wait_for_function(
            "document.querySelector('[data-testid=replay-video]').readyState >= 1"
        )
        second = replay["chapters"][-1]
        page.get_by_test_id("chapter-seek").nth(len(replay["chapters"]) - 1).click()
        # The video jumps to the chapter (give or take the keyframe before it).
        video = "document.querySelector('[data-testid=replay-video]')"
        low = max(second["start_s"] - 1.5, 0.2)
        page.wait_for_function(
            f"Math.abs({video}.currentTime - {second['start_s']}) < 1.5"
            f" && {video}.currentTime > {low}"
        )
        shot(page, "media-replay")
    finally:
        if push.poll() is None:
            push.kill()
        phone.close()
