"""Video with a real nginx-rtmp and ffmpeg: publish authorisation, HLS, the end of a
stream, replays with chapters and clips, stream health and stop, refused callbacks."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from livebase.jobs.service import run_due
from livebase.media import ffmpeg
from livebase.runtime import Runtime
from tests.conftest import World, product_body
from tests.media.conftest import MediaServer

AT = "2026-12-01T12:00:00Z"
# Pushes are small so a loaded two-core machine keeps them in real time.
SIZE = "640x360"


@pytest.fixture
def api(media_app: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=media_app, timeout=10) as c:
        yield c


def _show(api: httpx.Client, world: World, n_products: int = 2) -> dict[str, Any]:
    skus = []
    for i in range(n_products):
        body = product_body(world.brand_a1, title=f"羊毛围巾 {i + 1} 号")
        r = api.post("/api/v1/products", json=body, headers=world["merchant_a1"].auth)
        assert r.status_code == 201, r.text
        skus.append(r.json()["skus"][0]["id"])
    r = api.post(
        "/api/v1/shows",
        json={"org_id": world.brand_a1, "title": "围巾专场", "scheduled_at": AT},
        headers=world["host_a1"].auth,
    )
    assert r.status_code == 201, r.text
    show: dict[str, Any] = r.json()
    r = api.put(
        f"/api/v1/shows/{show['id']}/shelf",
        json={"items": [{"sku_id": s} for s in skus]},
        headers=world["host_a1"].auth,
    )
    assert r.status_code == 200, r.text
    show["skus"] = skus
    return show


def _ingest(api: httpx.Client, world: World, show_id: str) -> str:
    r = api.get(f"/api/v1/shows/{show_id}/ingest", headers=world["host_a1"].auth)
    assert r.status_code == 200, r.text
    return f"{r.json()['server']}/{r.json()['stream']}"


def _push(
    rt: Runtime, url: str, seconds: float, caption: str | None = None
) -> subprocess.Popen[bytes]:
    cmd = ffmpeg.test_stream_command(
        rt.settings, url, seconds=seconds, size=SIZE, bitrate_kbps=600,
        start_epoch=time.time(), caption=caption,
    )  # fmt: skip
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _status(api: httpx.Client, show_id: str) -> str:
    status: str = api.get(f"/api/v1/shows/{show_id}").json()["status"]
    return status


def _until(
    what: str, check: Callable[[], Any], timeout: float = 20.0, jobs: Runtime | None = None
) -> Any:
    """Wait for ``check()`` to be truthy (running due jobs meanwhile, if given)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if jobs is not None:
            run_due(jobs.sessions, jobs.jobs)
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def test_a_callback_without_the_secret_is_refused(
    rt: Runtime, world: World, api: httpx.Client, media_server: MediaServer
) -> None:
    show = _show(api, world, 1)
    r = api.get(f"/api/v1/shows/{show['id']}/ingest", headers=world["host_a1"].auth)
    form = {"app": "live", "name": r.json()["stream"].split("?")[0], "call": "publish"}
    form["key"] = r.json()["stream"].split("key=")[1]
    for query in ("", "?secret=", "?secret=wrong"):
        r = api.post(f"/media/rtmp/on_publish{query}", data=form)
        assert r.status_code == 403, r.text
        assert r.json()["error"] == "forbidden"
    r = api.post("/media/rtmp/on_record_done?secret=nope", data={**form, "path": "/etc/passwd"})
    assert r.status_code == 403
    assert _status(api, show["id"]) == "scheduled"  # nothing changed
    # With the secret but not a form (nginx always posts a form): 415, nothing changes.
    secret = rt.settings.effective_media_secret
    r = api.post(f"/media/rtmp/on_publish?secret={secret}", json=form)
    assert r.status_code == 415
    r = api.post(f"/media/rtmp/on_publish?secret={secret}", data={"app": "live"})
    assert r.status_code == 422
    assert _status(api, show["id"]) == "scheduled"


def test_a_wrong_key_and_a_rotated_key_are_refused(
    rt: Runtime, world: World, api: httpx.Client, media_server: MediaServer
) -> None:
    show = _show(api, world, 1)
    good = _ingest(api, world, show["id"])
    wrong = good.split("key=")[0] + "key=not-the-key"
    no_key = good.split("?")[0]
    for url in (wrong, no_key):
        proc = _push(rt, url, 2)
        assert proc.wait(timeout=20) != 0  # nginx closed the refused publisher
    r = api.post(f"/api/v1/shows/{show['id']}/ingest/rotate", headers=world["host_a1"].auth)
    assert r.status_code == 200
    proc = _push(rt, good, 2)  # the key before the rotation
    assert proc.wait(timeout=20) != 0
    assert _status(api, show["id"]) == "scheduled"
    assert not (media_server.media_dir / "hls" / show["hls_url"].split("/")[-2]).exists()


def test_a_banned_host_cannot_go_on_air(
    rt: Runtime, world: World, api: httpx.Client, media_server: MediaServer
) -> None:
    from sqlalchemy import update

    from livebase.accounts.models import User

    show = _show(api, world, 1)
    url = _ingest(api, world, show["id"])
    with rt.sessions() as db, db.begin():
        db.execute(update(User).where(User.id == world["host_a1"].id).values(is_active=False))
    assert _push(rt, url, 2).wait(timeout=20) != 0
    assert _status(api, show["id"]) == "scheduled"


def test_a_stream_goes_live_to_hls_and_its_end_makes_a_replay_with_chapters_and_clips(
    rt: Runtime, world: World, api: httpx.Client, media_server: MediaServer
) -> None:
    show = _show(api, world, 2)
    sid, host = show["id"], world["host_a1"].auth
    public_id = show["hls_url"].split("/")[-2]
    # A stale segment from some earlier broadcast under this name is cleared.
    stale = media_server.media_dir / "hls" / public_id
    stale.mkdir(parents=True, exist_ok=True)
    (stale / "7.ts").write_bytes(b"old")
    proc = _push(rt, _ingest(api, world, sid), 5)
    _until("the show to go live", lambda: _status(api, sid) == "live")
    assert not (stale / "7.ts").exists()
    # Explaining link 1, then link 2, while on air.
    time.sleep(0.5)
    assert (
        api.post(f"/api/v1/shows/{sid}/explaining", json={"no": 1}, headers=host).status_code == 200
    )
    playlist = _until(
        "an HLS playlist with a segment",
        lambda: (
            (
                r := httpx.get(
                    show["hls_url"].replace(rt.settings.effective_hls_url, media_server.hls)
                )
            ).status_code
            == 200
            and ".ts" in r.text
            and r
        ),
    )
    assert playlist.headers["cache-control"].startswith("no-cache")
    assert playlist.headers["access-control-allow-origin"] == "*"
    first = next(line for line in playlist.text.splitlines() if line.endswith(".ts"))
    seg = httpx.get(f"{media_server.hls}/{public_id}/{first}")
    assert seg.status_code == 200 and seg.content[0] == 0x47  # MPEG-TS sync byte
    assert len(seg.content) % 188 == 0
    # The host's stream health, from nginx's /stat.
    health = api.get(f"/api/v1/shows/{sid}/stream", headers=host).json()
    assert health["publishing"] is True and health["server"] == "up"
    assert health["width"] == 640 and health["height"] == 360 and health["fps"] == 30
    assert health["bitrate_kbps"] > 100 and health["dropped_frames"] == 0
    time.sleep(1.5)
    assert (
        api.post(f"/api/v1/shows/{sid}/explaining", json={"no": 2}, headers=host).status_code == 200
    )
    assert proc.wait(timeout=30) == 0, proc.stderr.read() if proc.stderr else ""
    # The publish ended: after the grace period the show ends (the app says so: nginx
    # never writes #EXT-X-ENDLIST).
    _until("the show to end", lambda: _status(api, sid) == "ended", jobs=rt)
    replay = _until(
        "the replay with its clips",
        lambda: (
            (r := api.get(f"/api/v1/shows/{sid}/replay").json())["status"] == "ready"
            and len(r["chapters"]) == 2
            and _ready_clips(api, show) == 2
            and r
        ),
        jobs=rt,
        timeout=40,
    )
    (part,) = replay["parts"]
    mp4 = media_server.media_dir / "replays" / part["video_url"].split("/replays/")[1]
    assert abs(ffmpeg.duration(rt.settings, mp4) - 5.0) < 0.6
    assert abs(part["duration_s"] - 5.0) < 0.6
    assert (
        httpx.get(
            part["video_url"].replace(rt.settings.effective_hls_url[:-4], media_server.hls[:-4])
        ).status_code
        == 200
    )
    poster = media_server.media_dir / "replays" / part["poster_url"].split("/replays/")[1]
    assert poster.read_bytes()[:2] == b"\xff\xd8"  # a JPEG
    one, two = replay["chapters"]
    assert (one["no"], one["sku_id"]) == (1, show["skus"][0])
    assert (two["no"], two["sku_id"]) == (2, show["skus"][1])
    # Link 1 was explained from ~0.5 s to ~2 s in, link 2 from then to the end (~5 s).
    assert 0 <= one["start_s"] < one["end_s"] <= two["start_s"] + 0.01 < two["end_s"] <= 5.6
    assert one["end_s"] - one["start_s"] > 1.0 and two["end_s"] - two["start_s"] > 1.0
    for c in (one, two):
        clips = api.get(f"/api/v1/products/{c['product_id']}/clips").json()["items"]
        assert len(clips) == 1 and clips[0]["show_id"] == sid
        f = media_server.media_dir / "replays" / clips[0]["video_url"].split("/replays/")[1]
        info = ffmpeg.probe(rt.settings, f)
        assert {s["codec_type"] for s in info["streams"]} == {"video", "audio"}  # type: ignore[union-attr, index]
        # Cut at keyframes (1 s apart): the clip is its chapter give or take a second.
        assert abs(float(clips[0]["duration_s"]) - (c["end_s"] - c["start_s"])) < 1.2
    # The replay page lists the chapters with buy links to the products.
    page = api.get(f"/shows/{sid}/replay")
    assert page.status_code == 200
    assert page.text.count('data-testid="chapter"') == 2
    assert f'href="/products/{one["product_id"]}"' in page.text


def _ready_clips(api: httpx.Client, show: dict[str, Any]) -> int:
    replay = api.get(f"/api/v1/shows/{show['id']}/replay").json()
    n = 0
    for pid in {c["product_id"] for c in replay["chapters"]}:
        n += len(api.get(f"/api/v1/products/{pid}/clips").json()["items"])
    return n


def test_a_reconnect_within_the_grace_continues_the_show(
    rt: Runtime, world: World, api: httpx.Client, media_server: MediaServer
) -> None:
    rt.settings.media_grace_seconds = 4
    try:
        show = _show(api, world, 1)
        sid, url = show["id"], _ingest(api, world, show["id"])
        assert _push(rt, url, 1.5).wait(timeout=20) == 0
        run_due(rt.sessions, rt.jobs)
        assert _status(api, sid) == "live"
        assert _push(rt, url, 1.5).wait(timeout=20) == 0  # the encoder came back
        run_due(rt.sessions, rt.jobs)
        assert _status(api, sid) == "live"
        _until(
            "the show to end after the last grace", lambda: _status(api, sid) == "ended", jobs=rt
        )
        replay = _until(
            "both recordings",
            lambda: (
                len((r := api.get(f"/api/v1/shows/{sid}/replay").json())["parts"]) == 2
                and r["status"] == "ready"
                and r
            ),
            jobs=rt,
        )
        assert all(p["duration_s"] > 1.0 for p in replay["parts"])
    finally:
        rt.settings.media_grace_seconds = 1


def test_the_stop_control_ends_the_show_and_drops_the_publisher(
    rt: Runtime, world: World, api: httpx.Client, media_server: MediaServer
) -> None:
    show = _show(api, world, 1)
    sid, url = show["id"], _ingest(api, world, show["id"])
    proc = _push(rt, url, 30)
    _until("the show to go live", lambda: _status(api, sid) == "live")
    # Only the show's host or its organisation's staff see or stop the stream.
    for who in ("viewer", "merchant_a2", "merchant_b1"):
        assert api.get(f"/api/v1/shows/{sid}/stream", headers=world[who].auth).status_code in (
            403,
            404,
        )
        assert api.post(
            f"/api/v1/shows/{sid}/stream/stop", headers=world[who].auth
        ).status_code in (403, 404)
    assert api.get(f"/api/v1/shows/{sid}/stream").status_code == 401
    assert _status(api, sid) == "live"
    r = api.post(f"/api/v1/shows/{sid}/stream/stop", headers=world["merchant_a1"].auth)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "ended" and r.json()["dropped"] >= 1
    assert proc.wait(timeout=15) != 0  # ffmpeg lost its connection
    # OBS reconnects: refused, the show stays ended.
    assert _push(rt, url, 2).wait(timeout=20) != 0
    assert _status(api, sid) == "ended"


def test_a_sign_held_up_on_air_is_read_from_the_live_stream_and_queued(
    rt: Runtime, world: World, api: httpx.Client, media_server: MediaServer
) -> None:
    before = rt.settings.media_frame_check_seconds
    rt.settings.media_frame_check_seconds = 2
    try:
        show = _show(api, world, 1)
        sid = show["id"]
        proc = _push(rt, _ingest(api, world, sid), 8, caption="加V: abc12345 私聊")
        _until("the show to go live", lambda: _status(api, sid) == "live")

        def queued() -> list[dict[str, Any]]:
            items = api.get("/api/v1/moderation/queue", headers=world["mod_a"].auth).json()
            return [i for i in items["items"] if i["subject_id"] == sid]

        [item] = _until("the frame in the review queue", queued, jobs=rt, timeout=15)
        assert item["subject_type"] == "stream_frame"
        assert "abc12345" in item["text"].replace(" ", "")
        assert api.get(item["image_url"]).content[:2] == b"\xff\xd8"
        assert _status(api, sid) == "live"  # a person decides; the stream goes on
        assert proc.wait(timeout=30) == 0
    finally:
        rt.settings.media_frame_check_seconds = before


def test_media_config_is_what_nginx_accepts(rt: Runtime, tmp_path: Path) -> None:
    from livebase.media import nginx

    s = rt.settings.model_copy(update={"media_path": tmp_path, "media_ladder": True})
    conf = nginx.write_config(s)
    nginx.check_config(s)
    text = conf.read_text()
    assert "hls_fragment 1s;" in text and "record all;" in text and "worker_processes 1;" in text
    assert f"secret={s.effective_media_secret}" in text and "exec_push" in text
