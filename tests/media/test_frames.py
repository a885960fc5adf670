"""A live stream's frames checked like a listing: ffmpeg writes real HLS segments with a
sign in the picture, the job grabs the newest frame, Tesseract reads it, a failing frame
is queued for a moderator with its picture, and each publish's chain of checks ends with
the publish."""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from livebase.jobs.models import Job
from livebase.jobs.service import run_due
from livebase.media import ffmpeg, frames
from livebase.media import service as media
from livebase.media.models import Publish
from livebase.media.nginx import paths
from livebase.runtime import Runtime
from livebase.shows import service as shows
from tests.compliance.test_queue_api import _login
from tests.conftest import World
from tests.media.test_media import _show

pytestmark = pytest.mark.skipif(shutil.which("tesseract") is None, reason="needs tesseract-ocr")


@pytest.fixture
def every_second(rt: Runtime) -> Iterator[None]:
    before = rt.settings.media_frame_check_seconds
    rt.settings.media_frame_check_seconds = 1
    yield
    rt.settings.media_frame_check_seconds = before


def _segments(rt: Runtime, public_id: str, caption: str) -> Path:
    """Three 1 s HLS segments of the test pattern with ``caption`` across it, where
    nginx-rtmp would write this stream's."""
    folder = paths(rt.settings).hls / public_id
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    playlist = folder / "index.m3u8"
    cmd = ffmpeg.test_stream_command(
        rt.settings, "-", seconds=3, size="640x360", bitrate_kbps=600,
        start_epoch=time.time(), caption=caption,
    )  # fmt: skip
    cmd = [*[c for c in cmd if c != "-re"][:-3], "-f", "hls", "-hls_time", "1", str(playlist)]
    subprocess.run(cmd, check=True, capture_output=True, timeout=60)
    return playlist


def _go_live(rt: Runtime, client: TestClient, world: World) -> tuple[dict[str, Any], str]:
    show = _show(client, world, 1)
    with rt.sessions() as db, db.begin():
        row = shows.get_show(db, show["id"])
        pub = media.do_publish(db, rt.settings, row, client_id="7", addr="127.0.0.1")
        show["public_id"] = row.public_id
        return show, pub.id


def _pending_checks(rt: Runtime, publish_id: str) -> list[Job]:
    with rt.sessions() as db:
        rows = db.scalars(select(Job).where(Job.kind == frames.FRAME_JOB, Job.done_at.is_(None)))
        return [j for j in rows if j.payload.get("publish_id") == publish_id]


def _run_checks(rt: Runtime) -> None:
    time.sleep(1.05)  # the check is due a second after the publish (or the last check)
    assert run_due(rt.sessions, rt.jobs) >= 1


def _queue(client: TestClient, world: World) -> list[dict[str, Any]]:
    r = client.get("/api/v1/moderation/queue", headers=world["mod_a"].auth)
    assert r.status_code == 200, r.text
    return [i for i in r.json()["items"] if i["subject_type"] == frames.SUBJECT]


def test_a_sign_with_contact_details_on_stream_is_queued_with_its_frame(
    rt: Runtime, client: TestClient, world: World, every_second: None
) -> None:
    show, pub_id = _go_live(rt, client, world)
    assert len(_pending_checks(rt, pub_id)) == 1  # the publish started the chain
    _segments(rt, show["public_id"], "加V: abc12345 私聊")
    _run_checks(rt)
    [item] = _queue(client, world)
    assert item["subject_id"] == show["id"] and item["kind"] == "listing"
    assert "abc12345" in item["text"].replace(" ", "")
    assert "contact" in item["labels"]
    picture = client.get(item["image_url"])
    assert picture.status_code == 200 and picture.content[:2] == b"\xff\xd8"  # the JPEG
    # The moderator's page shows the frame with what was read and a way to the show.
    _login(client, "mod_a")
    html = client.get("/moderation").text
    assert (
        item["image_url"] in html and f'href="/shows/{show["id"]}" data-testid="frame-show"' in html
    )
    client.cookies.clear()
    # The show is not touched: it stays live, and the chain goes on.
    assert client.get(f"/api/v1/shows/{show['id']}").json()["status"] == "live"
    [nxt] = _pending_checks(rt, pub_id)
    # A sign held up for a while is one pending item: the newer frame supersedes it.
    _run_checks(rt)
    [again] = _queue(client, world)
    assert again["id"] != item["id"] and again["image_url"] != item["image_url"]
    # The moderator's decision closes the item and leaves the show as it is.
    r = client.post(
        f"/api/v1/moderation/items/{again['id']}/reject",
        json={"reason": "主播展示微信号"},
        headers=world["mod_a"].auth,
    )
    assert r.status_code == 200, r.text
    assert _queue(client, world) == []
    assert client.get(f"/api/v1/shows/{show['id']}").json()["status"] == "live"
    # Neither the host nor another base's operator may read or decide the item.
    for who in ("host_a1", "op_b"):
        r = client.get(f"/api/v1/moderation/items/{item['id']}", headers=world[who].auth)
        assert r.status_code in (403, 404), (who, r.text)
    assert nxt.id not in {j.id for j in _pending_checks(rt, pub_id)}


def test_a_clean_frame_is_not_kept_and_the_chain_ends_with_the_publish(
    rt: Runtime, client: TestClient, world: World, every_second: None
) -> None:
    show, pub_id = _go_live(rt, client, world)
    _segments(rt, show["public_id"], "羊毛围巾 现在下单")
    _run_checks(rt)
    assert _queue(client, world) == []
    assert list((rt.settings.uploads_dir / "frames" / show["id"]).iterdir()) == []
    assert len(_pending_checks(rt, pub_id)) == 1
    # The encoder goes away: the next check finds the publish closed and stops.
    with rt.sessions() as db, db.begin():
        pub = db.get(Publish, pub_id)
        assert pub is not None
        pub.ended_at = pub.started_at
    _run_checks(rt)
    assert _pending_checks(rt, pub_id) == []


def test_no_segment_yet_is_not_an_error_and_the_check_comes_round(
    rt: Runtime, client: TestClient, world: World, every_second: None
) -> None:
    show, pub_id = _go_live(rt, client, world)
    shutil.rmtree(paths(rt.settings).hls / show["public_id"], ignore_errors=True)
    rt.settings.hls_url = "http://127.0.0.1:9/hls"  # nothing listens: no playlist anywhere
    try:
        _run_checks(rt)
    finally:
        rt.settings.hls_url = ""
    assert _queue(client, world) == []
    [job] = _pending_checks(rt, pub_id)
    assert job.attempts == 0  # rescheduled as a fresh check, not retried as a failure


def test_the_check_can_be_turned_off(rt: Runtime, client: TestClient, world: World) -> None:
    before = rt.settings.media_frame_check_seconds
    rt.settings.media_frame_check_seconds = 0
    try:
        _show_id, pub_id = _go_live(rt, client, world)
    finally:
        rt.settings.media_frame_check_seconds = before
    assert _pending_checks(rt, pub_id) == []
