"""Video latency and cost benchmark (issue 14, DESIGN §8-9). A script, not a test.

    PYTHONPATH=src .venv/bin/python bench/latency.py [--seconds 20] [--no-ladder]

Runs the real thing: `livebase serve` and `livebase media serve` (nginx-rtmp) on a fresh
demo database, pushes ffmpeg's test pattern into the demo's live show, and measures:

* push → segment available: when each HLS segment appears in the playlist, against the
  moment its last frame was pushed;
* push → on screen in Chromium (hls.js, liveSyncDurationCount 2): the pattern carries its
  frame number as 16 black/white squares; a canvas reads which frame is on screen and
  compares it with the push clock (the publish's start from nginx's /stat + n/30 s);
* CPU of the media server per stream (nginx and its children from /proc), without and
  with the ABR ladder (480p + 360p by ffmpeg), and the bandwidth in and out.

The pusher's own encoding (the host's computer in real life) is measured apart.
Targets: push → screen ≤ 3 s with 1 s fragments (aim 2 s).
"""

# ruff: noqa: E402  (the sys.path fix below must run before the imports)
from __future__ import annotations

import sys
from pathlib import Path

# bench/http.py would shadow the standard library's http package that urllib imports.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request
from typing import Any

from livebase.media import ffmpeg
from livebase.settings import Settings

HERE = Path(__file__).resolve().parent.parent
TICKS = os.sysconf("SC_CLK_TCK")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--autoplay-policy=no-user-gesture-required",
]

READ_FRAME = """() => {
  const v = document.querySelector('[data-testid=video]');
  if (!v || v.readyState < 2 || !v.videoWidth) return null;
  const c = window.__lbc || (window.__lbc = document.createElement('canvas'));
  c.width = v.videoWidth; c.height = v.videoHeight;
  const g = c.getContext('2d', {willReadFrequently: true});
  g.drawImage(v, 0, 0);
  const scale = v.videoWidth / 1280;
  let n = 0;
  for (let k = 0; k < BITS; k++) {
    const x = Math.round((k * BOX + BOX / 2) * scale), y = Math.round(BOX / 2 * scale);
    if (g.getImageData(x, y, 1, 1).data[0] > 128) n |= (1 << k);
  }
  return {n: n, now: Date.now(), t: v.currentTime};
}""".replace("BITS", str(ffmpeg.CLOCK_BITS)).replace("BOX", str(ffmpeg.CLOCK_BOX))


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, token: str | None = None) -> Any:
    req = urllib.request.Request(url)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=5) as r:
        body = r.read()
    return json.loads(body) if body[:1] in (b"{", b"[") else body


def _post(url: str, body: Any) -> Any:
    req = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(req, timeout=5) as r:
        return json.loads(r.read())


def _tree_cpu(pid: int) -> float:
    """CPU seconds of a process and all its descendants (live ones) from /proc."""
    total = 0.0
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        children.setdefault(int(fields[1]), []).append(int(entry))
    todo = [pid]
    while todo:
        p = todo.pop()
        try:
            stat = Path(f"/proc/{p}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        total += (int(fields[11]) + int(fields[12])) / TICKS
        todo.extend(children.get(p, []))
    return total


class Site:
    def __init__(self, ladder: bool) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="livebase-bench-media-"))
        self.dir.chmod(0o755)
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.http_port = _free_port()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("LIVEBASE_")}
        self.env.update(
            LIVEBASE_DEMO="1",
            LIVEBASE_DATA_DIR=str(self.dir),
            LIVEBASE_PUBLIC_URL=self.url,
            LIVEBASE_RTMP_PORT=str(_free_port()),
            LIVEBASE_MEDIA_HTTP_PORT=str(self.http_port),
            LIVEBASE_MEDIA_LADDER="1" if ladder else "0",
            LIVEBASE_LOG_LEVEL="WARNING",
            PYTHONPATH=str(HERE / "src"),
        )
        self.procs: list[subprocess.Popen[bytes]] = []

    def cli(self, *args: str) -> list[str]:
        return [sys.executable, "-c", "from livebase.cli import main; main()", *args]

    def start(self) -> None:
        for step in ("migrate", "demo"):
            subprocess.run(self.cli(step), env=self.env, check=True, capture_output=True)
        log = (self.dir / "serve.log").open("wb")
        self.procs.append(
            subprocess.Popen(
                self.cli("serve", "--port", str(self.port)), env=self.env, stdout=log, stderr=log
            )
        )
        self.media = subprocess.Popen(
            self.cli("media", "serve"), env=self.env, stdout=log, stderr=log
        )
        self.procs.append(self.media)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if (
                    _get(f"{self.url}/readyz")
                    and _get(f"http://127.0.0.1:{self.http_port}/hls/") is not None
                ):
                    break
            except Exception:
                time.sleep(0.2)

    def nginx_pid(self) -> int:
        pid = (self.dir / "media" / "nginx" / "nginx.pid").read_text().strip()
        return int(pid)

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


def _stat(site: Site, public_id: str) -> tuple[float, int, int]:
    """(seconds since the publish began, bytes in, bytes out of the whole server)."""
    import re

    xml = _get(f"http://127.0.0.1:{site.http_port}/stat").decode()
    m = re.search(rf"<stream>\s*<name>{public_id}</name>\s*<time>(\d+)</time>", xml)
    t = int(m.group(1)) / 1000 if m else 0.0
    bytes_in = int(re.search(r"<bytes_in>(\d+)</bytes_in>", xml).group(1))  # type: ignore[union-attr]
    bytes_out = int(re.search(r"<bytes_out>(\d+)</bytes_out>", xml).group(1))  # type: ignore[union-attr]
    return t, bytes_in, bytes_out


def run(ladder: bool, seconds: float, browser: bool) -> dict[str, Any]:
    site = Site(ladder)
    site.start()
    out: dict[str, Any] = {"ladder": ladder}
    try:
        show = _get(f"{site.url}/api/v1/shows?status=live")["items"][0]
        sid = show["id"]
        public_id = show["hls_url"].split("/")[-2]
        token = _post(
            f"{site.url}/api/v1/auth/tokens", {"username": "ajie", "password": "livebase-demo"}
        )["access_token"]
        ingest = _get(f"{site.url}/api/v1/shows/{sid}/ingest", token)
        url = f"{ingest['server']}/{ingest['stream']}"
        s = Settings()
        cmd = ffmpeg.test_stream_command(s, url, seconds=seconds + 8, start_epoch=time.time())
        # The push clock: when the encoder handed frame n to the network (ffmpeg's own
        # progress reports, every 0.1 s), so a pusher that falls behind real time on a
        # loaded machine does not count as server latency.
        cmd[1:1] = ["-progress", "pipe:1", "-stats_period", "0.1"]
        push = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        progress: list[tuple[int, float]] = []

        def read_progress() -> None:
            assert push.stdout is not None
            for line in push.stdout:
                if line.startswith("frame="):
                    progress.append((int(line.split("=")[1]), time.time()))

        threading.Thread(target=read_progress, daemon=True).start()

        def pushed_at(n: int) -> float | None:
            for frame, at in progress:  # the first report that includes frame n
                if frame >= n:
                    return at
            return None

        playlist = f"http://127.0.0.1:{site.http_port}/hls/{public_id}/index.m3u8"
        # Wait for the publish, then learn when it began (nginx's clock of the stream).
        t0 = None
        while push.poll() is None and t0 is None:
            up, _, _ = _stat(site, public_id)
            if up > 0:
                t0 = time.time() - up
            time.sleep(0.05)
        assert t0 is not None, "the push was refused"
        seen: dict[str, float] = {}
        seg_lat: list[float] = []
        first_start = None
        cpu0 = _tree_cpu(site.nginx_pid())
        push_cpu0 = _tree_cpu(push.pid)
        _, in0, out0 = _stat(site, public_id)
        wall0 = time.time()
        screen: list[float] = []
        page = None
        pw = None
        if browser:
            from playwright.sync_api import sync_playwright

            pw = sync_playwright().start()
            chromium = pw.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
            page = chromium.new_page(viewport={"width": 390, "height": 844})
            page.goto(f"{site.url}/shows/{sid}")
        end = time.time() + seconds
        last_sample = 0.0
        while time.time() < end:
            try:
                text = _get(playlist).decode()
            except Exception:
                text = ""
            now = time.time()
            lines = text.splitlines()
            for i, line in enumerate(lines):
                if line.endswith(".ts") and line not in seen:
                    seen[line] = now
                    dur = float(lines[i - 1].split(":")[1].rstrip(","))
                    seg = _get(playlist.rsplit("/", 1)[0] + "/" + line)
                    tmp = site.dir / "seg.ts"
                    tmp.write_bytes(seg)
                    start = float(ffmpeg.probe(s, tmp)["format"]["start_time"])  # type: ignore[index]
                    if first_start is None:
                        first_start = start - int(line[:-3]) * 1.0  # 0.ts's start
                    last_frame = round((start - first_start + dur) * ffmpeg.FPS) - 1
                    pushed_last = pushed_at(last_frame)
                    if len(seen) > 2 and pushed_last is not None:  # skip the first ones
                        seg_lat.append(now - pushed_last)
            if page is not None and now - last_sample > 0.5 and now > wall0 + 4:
                last_sample = now
                r = page.evaluate(READ_FRAME)
                at = pushed_at(r["n"]) if r and r["n"] > 0 else None
                if at is not None:
                    screen.append(r["now"] / 1000 - at)
            time.sleep(0.02)
        elapsed = time.time() - wall0
        cpu = _tree_cpu(site.nginx_pid()) - cpu0
        push_cpu = _tree_cpu(push.pid) - push_cpu0
        _, in1, out1 = _stat(site, public_id)
        out["server_cpu_pct"] = 100 * cpu / elapsed
        out["pusher_cpu_pct"] = 100 * push_cpu / elapsed
        out["in_kbps"] = (in1 - in0) * 8 / 1000 / elapsed
        out["rtmp_out_kbps"] = (out1 - out0) * 8 / 1000 / elapsed
        out["segment_latency_s"] = seg_lat
        out["screen_latency_s"] = screen
        abr = site.dir / "media" / "hls" / "abr"
        out["ladder_files"] = (
            sorted(str(f.relative_to(abr)) for f in abr.rglob("*.m3u8")) if abr.exists() else []
        )
        push.terminate()
        if pw is not None:
            pw.stop()
    finally:
        site.stop()
    return out


def _summary(xs: list[float]) -> str:
    if not xs:
        return "no samples"
    xs = sorted(xs)
    return (
        f"median {statistics.median(xs):.2f} s, p90 {xs[int(0.9 * (len(xs) - 1))]:.2f} s, "
        f"min {xs[0]:.2f} s, max {xs[-1]:.2f} s (n={len(xs)})"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--no-ladder", action="store_true")
    args = ap.parse_args()
    print(f"load average before: {os.getloadavg()}")
    base = run(False, args.seconds, browser=True)
    print("== without the ladder (1 s fragments, hls.js liveSyncDurationCount 2)")
    print(f"push -> segment available (from its last frame): {_summary(base['segment_latency_s'])}")
    print(f"push -> on screen in Chromium:                   {_summary(base['screen_latency_s'])}")
    print(f"media server CPU per stream: {base['server_cpu_pct']:.1f}% of one core")
    print(f"pusher (the host's encoder) CPU: {base['pusher_cpu_pct']:.1f}% of one core")
    print(f"bandwidth in: {base['in_kbps']:.0f} kbit/s")
    med = statistics.median(base["screen_latency_s"]) if base["screen_latency_s"] else 99.0
    verdict = "PASS" if med <= 3.0 else "FALL SHORT"
    print(f"target push -> screen <= 3 s (aim 2 s): median {med:.2f} s  {verdict}")
    if not args.no_ladder:
        lad = run(True, args.seconds, browser=False)
        print("== with the ladder (source + 480p + 360p through ffmpeg)")
        print(f"media server CPU per stream: {lad['server_cpu_pct']:.1f}% of one core")
        print(f"ladder cost: {lad['server_cpu_pct'] - base['server_cpu_pct']:.1f}% of one core")
        print(f"push -> segment available: {_summary(lad['segment_latency_s'])}")
        print(f"rtmp out (the source to the ladder's ffmpeg): {lad['rtmp_out_kbps']:.0f} kbit/s")
        print(f"ladder playlists written: {lad['ladder_files']}")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
