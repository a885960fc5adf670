"""nginx-rtmp as livebase's media server: its configuration written from settings, the
supervised foreground process, and the two HTTP handles the app uses (``/stat``,
``/control``).

nginx does the video work (RTMP ingest, HLS segmenting, recording); livebase decides who
may publish, through the ``on_publish`` callback, and reacts to the ends of publishes and
recordings. See docs/media.md.
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote
from xml.etree import ElementTree

import httpx

from livebase.logs import get_logger
from livebase.settings import Settings

log = get_logger("livebase.media")

APP = "live"  # the RTMP application hosts publish to (LIVEBASE_RTMP_URL ends with it)
LADDER_APP = "abr"  # where the optional ladder's renditions are published, from localhost


@dataclass(frozen=True)
class MediaPaths:
    root: Path

    @property
    def hls(self) -> Path:
        return self.root / "hls"

    @property
    def rec(self) -> Path:
        return self.root / "rec"

    @property
    def replays(self) -> Path:
        return self.root / "replays"

    @property
    def nginx(self) -> Path:
        return self.root / "nginx"

    @property
    def conf(self) -> Path:
        return self.nginx / "nginx.conf"

    @property
    def remux_script(self) -> Path:
        return self.nginx / "remux.sh"

    def make(self) -> None:
        for d in (self.hls, self.rec, self.replays, self.nginx / "logs", self.nginx / "temp"):
            d.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            # Started as root, nginx's workers run as nobody: they write HLS, recordings
            # and (through exec_record_done) the remuxed MP4s.
            nobody = pwd.getpwnam("nobody")
            for d in (self.hls, self.rec):
                os.chown(d, nobody.pw_uid, nobody.pw_gid)


def paths(settings: Settings) -> MediaPaths:
    return MediaPaths(settings.media_dir.resolve())


def callback_url(settings: Settings, name: str) -> str:
    secret = quote(settings.effective_media_secret, safe="")
    return f"{settings.effective_media_callback_url}/media/rtmp/{name}?secret={secret}"


def nginx_available(settings: Settings) -> str | None:
    """None when nginx and its RTMP module are here, else what is missing (plainly)."""
    if shutil.which(settings.nginx_bin) is None and not Path(settings.nginx_bin).is_file():
        return f"nginx ({settings.nginx_bin}) is not installed"
    if not Path(settings.rtmp_module).is_file():
        return f"the nginx RTMP module ({settings.rtmp_module}) is not installed"
    if shutil.which(settings.ffmpeg_bin) is None and not Path(settings.ffmpeg_bin).is_file():
        return f"ffmpeg ({settings.ffmpeg_bin}) is not installed"
    return None


INSTALL_HINT = (
    "On Debian/Ubuntu: sudo apt-get install nginx libnginx-mod-rtmp ffmpeg "
    "(or `bash scripts/system-deps.sh`)."
)

# exec_record_done runs a command without a shell; this script remuxes the FLV to an MP4
# with the index in front (faststart) and renames it into place only when complete, so the
# replay job never reads a half-written file.
REMUX = """#!/bin/sh
# Written by `livebase media config`: FLV recording -> faststart MP4 (stream copy).
set -e
in="$1"; out="${1%.flv}.mp4"
"$2" -nostdin -loglevel error -y -i "$in" -c copy -movflags +faststart -f mp4 "$out.part"
mv "$out.part" "$out"
"""

# 480p and 360p renditions of the ladder: (suffix, height, video kbit/s, audio kbit/s).
LADDER = (("480", 480, 900, 96), ("360", 360, 500, 64))


def _ladder(settings: Settings) -> tuple[str, str]:
    """The exec_push line of the live app and the ladder app (master playlist)."""
    port = settings.rtmp_port
    gop = 30 * settings.hls_fragment_seconds
    outs = []
    for suffix, height, vk, ak in LADDER:
        outs.append(
            f"-c:v libx264 -preset veryfast -tune zerolatency -vf scale=-2:{height} "
            f"-g {gop} -keyint_min {gop} -sc_threshold 0 -b:v {vk}k -maxrate {vk}k "
            f"-bufsize {vk * 2}k -c:a aac -b:a {ak}k "
            f"-f flv rtmp://127.0.0.1:{port}/{LADDER_APP}/$name_{suffix}"
        )
    src = f"-c copy -f flv rtmp://127.0.0.1:{port}/{LADDER_APP}/$name_src"
    push = (
        f"exec_push {settings.ffmpeg_bin} -nostdin -loglevel error "
        f"-i rtmp://127.0.0.1:{port}/{APP}/$name {src} {' '.join(outs)};"
    )
    variants = [
        "hls_variant _src BANDWIDTH=3000000;",
        *(f"hls_variant _{s} BANDWIDTH={(vk + ak) * 1000};" for s, _, vk, ak in LADDER),
    ]
    hls = paths(settings).hls
    app = f"""
        application {LADDER_APP} {{
            live on;
            allow publish 127.0.0.1;
            deny publish all;
            deny play all;
            hls on;
            hls_path {hls}/{LADDER_APP};
            hls_nested on;
            hls_fragment {settings.hls_fragment_seconds}s;
            hls_playlist_length {settings.hls_playlist_seconds}s;
            hls_cleanup on;
            {" ".join(variants)}
        }}"""
    return push, app


def render_config(settings: Settings) -> str:
    """nginx.conf for this node, from settings (``livebase media config`` writes it)."""
    p = paths(settings)
    frag = settings.hls_fragment_seconds
    push, ladder_app = _ladder(settings) if settings.media_ladder else ("", "")
    temp = p.nginx / "temp"
    return f"""# Written by `livebase media config` from LIVEBASE_* settings; do not edit by hand.
load_module {settings.rtmp_module};
daemon off;
master_process on;
# nginx-rtmp keeps stream state per worker: one worker, or players and /stat miss streams.
worker_processes 1;
{"user nobody nogroup;" if os.geteuid() == 0 else ""}
pid {p.nginx}/nginx.pid;
error_log {p.nginx}/logs/error.log warn;

events {{
    worker_connections 1024;
}}

rtmp {{
    server {{
        listen {settings.rtmp_port};
        chunk_size 4096;
        notify_method post;

        application {APP} {{
            live on;
            # Viewers watch HLS; RTMP play is for this host's own tools (the ladder).
            allow play 127.0.0.1;
            deny play all;
            # livebase decides every publish (2xx allows, 4xx refuses; down = refused).
            on_publish {callback_url(settings, "on_publish")};
            on_publish_done {callback_url(settings, "on_publish_done")};
            on_record_done {callback_url(settings, "on_record_done")};
            notify_relay_redirect off;

            hls on;
            hls_path {p.hls};
            hls_nested on;
            hls_fragment {frag}s;
            hls_playlist_length {settings.hls_playlist_seconds}s;
            hls_cleanup on;
            hls_continuous on;

            record all;
            record_path {p.rec};
            record_unique on;
            record_suffix -%Y%m%d%H%M%S.flv;
            exec_record_done {p.remux_script} $path {settings.ffmpeg_bin};
            {push}
        }}{ladder_app}
    }}
}}

http {{
    access_log off;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {temp}/body;
    proxy_temp_path {temp}/proxy;
    fastcgi_temp_path {temp}/fastcgi;
    uwsgi_temp_path {temp}/uwsgi;
    scgi_temp_path {temp}/scgi;
    types {{
        application/vnd.apple.mpegurl m3u8;
        video/mp2t ts;
        video/mp4 mp4;
        image/jpeg jpg;
    }}

    server {{
        listen {settings.media_http_port};

        location /hls/ {{
            alias {p.hls}/;
            add_header Access-Control-Allow-Origin * always;
            # Segments never change once written; the playlist changes every fragment.
            add_header Cache-Control "public, max-age=60" always;
            location ~ \\.m3u8$ {{
                add_header Access-Control-Allow-Origin * always;
                add_header Cache-Control "no-cache, no-store" always;
            }}
        }}
        location /replays/ {{
            alias {p.replays}/;
            add_header Access-Control-Allow-Origin * always;
            add_header Cache-Control "public, max-age=3600" always;
        }}
        location /stat {{
            rtmp_stat all;
            allow 127.0.0.1;
            deny all;
        }}
        location /control {{
            rtmp_control all;
            allow 127.0.0.1;
            deny all;
        }}
    }}
}}
"""


def write_config(settings: Settings) -> Path:
    p = paths(settings)
    p.make()
    p.remux_script.write_text(REMUX, "utf-8")
    p.remux_script.chmod(0o755)
    p.conf.write_text(render_config(settings), "utf-8")
    return p.conf


def nginx_command(settings: Settings) -> list[str]:
    p = paths(settings)
    return [settings.nginx_bin, "-p", str(p.nginx), "-c", str(p.conf), "-e", "stderr"]


def check_config(settings: Settings) -> None:
    """``nginx -t`` on the written configuration; raises with nginx's own message."""
    out = subprocess.run(
        [*nginx_command(settings), "-t", "-q"], capture_output=True, text=True, timeout=30
    )
    if out.returncode != 0:
        raise RuntimeError(out.stderr.strip() or "nginx -t failed")


class Supervisor:
    """Runs nginx in the foreground and starts it again when it dies (with a backoff
    that grows while it keeps dying fast), until :meth:`stop`."""

    def __init__(self, settings: Settings, *, min_uptime: float = 5.0) -> None:
        self.settings = settings
        self.min_uptime = min_uptime
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0
        self._stop = threading.Event()
        self._lock = threading.Lock()

    def run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            started = time.monotonic()
            with self._lock:
                if self._stop.is_set():
                    break
                self.proc = subprocess.Popen(nginx_command(self.settings))
            log.info("nginx started", pid=self.proc.pid)
            code = self.proc.wait()
            if self._stop.is_set():
                break
            uptime = time.monotonic() - started
            backoff = 0.5 if uptime > self.min_uptime else min(backoff * 2, 30.0)
            self.restarts += 1
            log.warning("nginx exited; restarting", code=code, uptime=round(uptime, 1))
            self._stop.wait(backoff)

    def stop(self) -> None:
        self._stop.set()
        with self._lock:
            proc = self.proc
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGQUIT)  # graceful: finish recordings, then exit
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)


# ---- /stat and /control --------------------------------------------------------------


@dataclass(frozen=True)
class StreamStat:
    name: str
    publishing: bool
    uptime_s: float
    bitrate_kbps: float  # incoming, all tracks
    video_kbps: float
    audio_kbps: float
    fps: float | None
    width: int | None
    height: int | None
    video_codec: str | None
    audio_codec: str | None
    dropped: int  # frames nginx dropped for slow clients of this stream
    clients: int
    bytes_in: int


def _int(el: ElementTree.Element | None, path: str) -> int:
    text = el.findtext(path) if el is not None else None
    try:
        return int(text) if text else 0
    except ValueError:
        return 0


def parse_stat(xml: bytes | str, name: str, app: str = APP) -> StreamStat | None:
    """The stream ``name`` of ``app`` in nginx-rtmp's /stat XML, or None if absent."""
    root = ElementTree.fromstring(xml)
    for application in root.iter("application"):
        if application.findtext("name") != app:
            continue
        for stream in application.iter("stream"):
            if stream.findtext("name") != name:
                continue
            meta = stream.find("meta")
            video = meta.find("video") if meta is not None else None
            audio = meta.find("audio") if meta is not None else None
            clients = stream.findall("client")
            fps_text = video.findtext("frame_rate") if video is not None else None
            return StreamStat(
                name=name,
                publishing=stream.find("publishing") is not None,
                uptime_s=_int(stream, "time") / 1000,
                bitrate_kbps=_int(stream, "bw_in") / 1000,
                video_kbps=_int(stream, "bw_video") / 1000,
                audio_kbps=_int(stream, "bw_audio") / 1000,
                fps=float(fps_text) if fps_text else None,
                width=_int(video, "width") or None,
                height=_int(video, "height") or None,
                video_codec=video.findtext("codec") if video is not None else None,
                audio_codec=audio.findtext("codec") if audio is not None else None,
                dropped=sum(_int(c, "dropped") for c in clients),
                clients=len(clients),
                bytes_in=_int(stream, "bytes_in"),
            )
    return None


def fetch_stat(settings: Settings, name: str, timeout: float = 2.0) -> StreamStat | None:
    r = httpx.get(f"{settings.effective_media_control_url}/stat", timeout=timeout)
    r.raise_for_status()
    return parse_stat(r.content, name)


def drop_publisher(settings: Settings, name: str, timeout: float = 2.0) -> int:
    """Kick the publisher of ``name``; returns how many connections nginx dropped."""
    r = httpx.get(
        f"{settings.effective_media_control_url}/control/drop/publisher",
        params={"app": APP, "name": name},
        timeout=timeout,
    )
    r.raise_for_status()
    try:
        return int(r.text.strip() or 0)
    except ValueError:
        return 0
