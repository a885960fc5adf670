"""What a live stream shows, checked like a listing: a frame every
``media_frame_check_seconds`` (30 s by default) is read with Tesseract and checked.

A host can hold a sign to the camera (加V, a phone number, 全网最低) that no chat filter
sees. Each publish gets its own chain of ``media.check_frame`` jobs, started by
`do_publish` and rescheduled by the job itself while that publish is open and the show
live, so a reconnect starts a fresh chain and the old one stops at its next run. The
frame is the first picture of the newest HLS segment (a keyframe: ffmpeg decodes nothing
before it), read from the HLS folder when this node has it and from the HLS URL
otherwise.

A frame that fails the check is kept under ``uploads/frames/<show>/`` and queued for a
moderator as subject ``stream_frame`` of the show, with the recognised text and the
picture; a newer failing frame supersedes the pending one, so a sign held up for ten
minutes is one item, not twenty. A clean frame is deleted. The check never stops a
stream by itself (like a model hit, it asks a person): the moderator's rejection is
recorded on the item and counts in the host's compliance record, and ending the show is
the host console's and the operator's stop control.
"""

from __future__ import annotations

import subprocess
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from sqlalchemy.orm import Session

from livebase.compliance import CheckContext, check, ocr
from livebase.compliance.service import do_submit_for_review, register_resolver
from livebase.db import utcnow
from livebase.errors import NotFound
from livebase.jobs.service import do_schedule
from livebase.logs import get_logger
from livebase.media import ffmpeg
from livebase.media.models import Publish
from livebase.media.nginx import paths
from livebase.settings import Settings
from livebase.shows import service as shows
from livebase.shows.models import Show

log = get_logger("livebase.media")

FRAME_JOB: Final = "media.check_frame"
SUBJECT: Final = "stream_frame"


def do_schedule_frame_check(db: Session, settings: Settings, pub: Publish) -> None:
    """The next frame check of this publish, ``media_frame_check_seconds`` from now."""
    every = settings.media_frame_check_seconds
    if every <= 0:
        return
    do_schedule(
        db,
        FRAME_JOB,
        utcnow() + timedelta(seconds=every),
        {"show_id": pub.show_id, "publish_id": pub.id},
    )


def playlist_of(settings: Settings, show: Show) -> str:
    """The live playlist: this node's HLS file if nginx writes here, else its URL."""
    local = paths(settings).hls / show.public_id / "index.m3u8"
    if local.is_file():
        return str(local)
    return f"{settings.effective_hls_url}/{show.public_id}/index.m3u8"


def _frame_path(settings: Settings, show: Show) -> Path:
    folder = settings.uploads_dir / "frames" / show.id
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{utcnow():%Y%m%dT%H%M%S}.jpg"


def check_frame(db: Session, payload: dict[str, Any]) -> None:
    """Job: read and check the stream's newest frame, queue it if it fails, and schedule
    the next check while the publish is open."""
    from livebase.media.parts import settings_of

    settings = settings_of(db)
    try:
        show = shows.get_show(db, str(payload["show_id"]))
    except NotFound:
        return
    pub = db.get(Publish, str(payload["publish_id"]))
    if show.status != "live" or pub is None or pub.ended_at is not None:
        return  # the publish ended: its chain ends with it
    try:
        _check_newest_frame(db, settings, show)
    except ocr.OcrUnavailable as e:
        log.warning("stream frames are not checked", show=show.id, error=str(e))
        return  # no Tesseract on this node: rescheduling would only repeat this
    except (RuntimeError, OSError, subprocess.TimeoutExpired) as e:
        # No segment yet (the encoder just connected), a slow media server: the next
        # check comes round anyway.
        log.info("no stream frame to check", show=show.id, error=str(e)[:200])
    do_schedule_frame_check(db, settings, pub)


def _check_newest_frame(db: Session, settings: Settings, show: Show) -> None:
    jpg = _frame_path(settings, show)
    try:
        ffmpeg.live_frame(settings, playlist_of(settings, show), jpg)
        text = ocr.read_text(jpg, psm=ocr.PSM_AUTO)
    except BaseException:
        jpg.unlink(missing_ok=True)
        raise
    verdict = check("listing", text, CheckContext(base_id=show.base_id)) if text else None
    if verdict is None or verdict.allowed:
        jpg.unlink(missing_ok=True)
        return
    do_submit_for_review(
        db,
        kind="listing",
        subject_type=SUBJECT,
        subject_id=show.id,
        text=text,
        verdict=verdict,
        base_id=show.base_id,
        show_id=show.id,
        author_id=show.host_id,
        image_path=f"/uploads/{jpg.relative_to(settings.uploads_dir)}",
    )
    log.info("a stream frame is held for review", show=show.id, labels=verdict.labels)


def _resolve(db: Session, subject_id: str, approve: bool, reason: str | None) -> None:
    """What was on screen has been seen: the decision is the item's record (and the
    host's compliance record); nothing of the show changes."""


register_resolver(SUBJECT, _resolve)
