"""The ffmpeg and ffprobe calls of the media feature: the test pattern, MP4 remux,
poster frames, durations and clips (stream copy at keyframes)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from livebase.settings import Settings

FONTS = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
)
# The frame counter burned in as a row of black/white squares (bit k = square k), so a
# benchmark can read which frame is on screen from a canvas without OCR.
CLOCK_BITS = 16
CLOCK_BOX = 24  # px per square, on the 1280x720 pattern
FPS = 30
CJK_FONT = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"


def font() -> str | None:
    return next((f for f in FONTS if Path(f).is_file()), None)


def _clock_filters(start_epoch: float) -> list[str]:
    filters = [f"drawbox=x=0:y=0:w={CLOCK_BOX * CLOCK_BITS}:h={CLOCK_BOX}:color=black:t=fill"]
    for k in range(CLOCK_BITS):
        filters.append(
            f"drawbox=x={k * CLOCK_BOX}:y=0:w={CLOCK_BOX}:h={CLOCK_BOX}:color=white:t=fill"
            f":enable='eq(mod(floor(n/{2**k}),2),1)'"
        )
    f = font()
    if f is not None:
        # The wall clock of the frame (the push's start + its timestamp), in seconds to ms.
        filters.append(
            f"drawtext=fontfile={f}:fontsize=48:fontcolor=white:box=1:boxcolor=black@0.6"
            f":x=(w-text_w)/2:y=h-90:text='%{{pts\\:flt\\:{start_epoch:.3f}}}'"
        )
    return filters


def _drawtext_escape(text: str) -> str:
    # With expansion=none only the option parser's specials remain: a backslash and the
    # colon are escaped; a single quote would end the quoting, so it becomes ’.
    return text.replace("\\", "\\\\").replace(":", "\\:").replace("'", "\u2019")


def _caption_filter(caption: str) -> str | None:
    """A line of black-on-white text across the middle of the picture (a CJK font, so
    Chinese shows): what a host's stream would show on a sign, for the frame check."""
    f = CJK_FONT if Path(CJK_FONT).is_file() else font()
    if f is None:
        return None
    return (
        f"drawtext=fontfile={f}:fontsize=h/9:fontcolor=black:box=1:boxcolor=white"
        f":boxborderw=24:x=(w-text_w)/2:y=(h-text_h)/2:expansion=none"
        f":text='{_drawtext_escape(caption)}'"
    )


def test_stream_command(
    settings: Settings,
    url: str,
    *,
    seconds: float | None = None,
    size: str = "1280x720",
    bitrate_kbps: int = 2000,
    start_epoch: float,
    caption: str | None = None,
) -> list[str]:
    """ffmpeg pushing testsrc2 with a burned-in clock and a 440 Hz tone, one keyframe per
    HLS fragment, CBR-like, to ``url`` (the show's ingest URL); ``caption`` adds a line of
    text across the picture."""
    gop = FPS * settings.hls_fragment_seconds
    filters = _clock_filters(start_epoch)
    if caption and (line := _caption_filter(caption)) is not None:
        filters.append(line)
    video = f"testsrc2=size={size}:rate={FPS}," + ",".join(filters)
    cmd = [settings.ffmpeg_bin, "-nostdin", "-loglevel", "error", "-re"]
    cmd += ["-f", "lavfi", "-i", video, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]
    if seconds is not None:
        cmd += ["-t", f"{seconds:g}"]
    cmd += [
        "-c:v", "libx264", "-preset", "veryfast", "-tune", "zerolatency", "-pix_fmt", "yuv420p",
        "-g", str(gop), "-keyint_min", str(gop), "-sc_threshold", "0",
        "-b:v", f"{bitrate_kbps}k", "-maxrate", f"{bitrate_kbps}k",
        "-bufsize", f"{bitrate_kbps}k",
        "-c:a", "aac", "-b:a", "128k", "-ar", "44100",
        "-f", "flv", url,
    ]  # fmt: skip
    return cmd


def _run(cmd: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if out.returncode != 0:
        raise RuntimeError(f"{Path(cmd[0]).name} failed: {out.stderr.strip()[-500:]}")
    return out


def probe(settings: Settings, path: Path) -> dict[str, object]:
    out = _run(
        [
            settings.ffprobe_bin, "-v", "error", "-print_format", "json",
            "-show_format", "-show_streams", str(path),
        ],
        timeout=60,
    )  # fmt: skip
    data: dict[str, object] = json.loads(out.stdout)
    return data


def duration(settings: Settings, path: Path) -> float:
    fmt = probe(settings, path).get("format")
    if not isinstance(fmt, dict) or "duration" not in fmt:
        raise RuntimeError(f"ffprobe found no duration in {path.name}")
    return float(fmt["duration"])


def _replace(tmp: Path, final: Path) -> None:
    os.replace(tmp, final)


def remux(settings: Settings, flv: Path, mp4: Path) -> None:
    """FLV → MP4 by stream copy, index in front; written aside, renamed when complete."""
    tmp = mp4.with_suffix(".mp4.job")
    _run(
        [
            settings.ffmpeg_bin, "-nostdin", "-loglevel", "error", "-y", "-i", str(flv),
            "-c", "copy", "-movflags", "+faststart", "-f", "mp4", str(tmp),
        ],
        timeout=3600,
    )  # fmt: skip
    _replace(tmp, mp4)


def poster(settings: Settings, mp4: Path, jpg: Path, at_s: float) -> None:
    tmp = jpg.with_suffix(".jpg.job")
    _run(
        [
            settings.ffmpeg_bin, "-nostdin", "-loglevel", "error", "-y", "-ss", f"{at_s:.3f}",
            "-i", str(mp4), "-frames:v", "1", "-vf", "scale=-2:360", "-q:v", "4",
            "-f", "image2", str(tmp),
        ],
        timeout=120,
    )  # fmt: skip
    _replace(tmp, jpg)


def live_frame(settings: Settings, playlist: str, jpg: Path, *, width: int = 854) -> None:
    """The newest picture of a live HLS stream (a playlist's path or URL) as a JPEG at most
    ``width`` wide: the first frame of its last segment, a keyframe, so nothing before it
    is decoded. (Tesseract reads a 720p frame four times slower than a 480p one, and no
    better: a sign held to the camera is large.)"""
    tmp = jpg.with_name(f".{jpg.name}.part")
    _run(
        [
            settings.ffmpeg_bin, "-nostdin", "-loglevel", "error", "-y",
            "-live_start_index", "-1", "-i", playlist, "-frames:v", "1",
            "-vf", f"scale='min({width},iw)':-2", "-q:v", "3", "-f", "image2", str(tmp),
        ],
        timeout=20,
    )  # fmt: skip
    _replace(tmp, jpg)


def cut(settings: Settings, mp4: Path, out: Path, start_s: float, length_s: float) -> None:
    """A clip by stream copy: ``-ss`` before the input seeks to the keyframe at or before
    ``start_s`` (1 s apart with the recommended encoder settings), so no re-encoding."""
    tmp = out.with_suffix(".mp4.job")
    _run(
        [
            settings.ffmpeg_bin, "-nostdin", "-loglevel", "error", "-y",
            "-ss", f"{max(start_s, 0):.3f}", "-i", str(mp4), "-t", f"{length_s:.3f}",
            "-c", "copy", "-avoid_negative_ts", "make_zero", "-movflags", "+faststart",
            "-f", "mp4", str(tmp),
        ],
        timeout=600,
    )  # fmt: skip
    _replace(tmp, out)
