"""Media: who may publish, what a publish and its end do to a show, recordings into
replays with chapters (讲解回放) and clips (切片).

nginx-rtmp calls ``on_publish`` before it accepts a stream; livebase answers with a 2xx
(go) or a 4xx (refused). ``on_publish_done`` starts a grace period: a reconnect inside
it continues the same show, otherwise a job ends the show. ``on_record_done`` registers
the recording and enqueues the job that makes the MP4, the poster and the duration; once
the show has ended and its recordings are ready, chapters are cut from the explaining
trail and one clip per explained product is queued.
"""

from __future__ import annotations

import hmac
import shutil
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from livebase.accounts.actors import SYSTEM_MEDIA
from livebase.accounts.service import get_user, grants_of
from livebase.catalog import service as catalog
from livebase.db import utcnow
from livebase.errors import Forbidden, NotFound
from livebase.jobs.service import do_enqueue, do_schedule
from livebase.logs import get_logger
from livebase.media import ffmpeg, frames
from livebase.media.models import Chapter, Clip, Publish, Recording
from livebase.media.nginx import paths
from livebase.settings import Settings
from livebase.shows import service as shows
from livebase.shows.models import Show

log = get_logger("livebase.media")

END_JOB = "media.end_after_grace"
RECORDING_JOB = "media.process_recording"
CLIP_JOB = "media.cut_clip"
# An exec_record_done remux younger than this is still running: the job waits for it.
REMUX_PATIENCE = timedelta(seconds=120)
# Chapters shorter than this (a click through the shelf) make no clip.
MIN_CLIP_S = 1.0
MAX_CLIP_S = 180.0


def check_secret(settings: Settings, given: str | None) -> None:
    if not given or not hmac.compare_digest(given, settings.effective_media_secret):
        raise Forbidden("The media callback secret is missing or wrong.")


def _show_by_name(db: Session, name: str) -> Show:
    show = shows.get_show_by_public_id(db, name)
    if show is None:
        raise NotFound(f"No show streams as {name!r}.")
    return show


def _host_may_stream(db: Session, show: Show) -> bool:
    """The host's account is open and still a host of the show's organisation (a host
    who was banned or removed from the brand or agency cannot go on air)."""
    user = get_user(db, show.host_id)
    if user is None or not user.is_active:
        return False
    return any(g.role == "host" and g.org_id == show.org_id for g in grants_of(db, user.id))


def authorise_publish(db: Session, name: str, key: str | None) -> Show:
    """The show ``name`` may be published with ``key`` now, or an error says why not:
    no such show (404), wrong or rotated key (403), host banned (403), ended (409)."""
    show = _show_by_name(db, name)
    if not key or not hmac.compare_digest(key.encode(), show.stream_key.encode()):
        raise Forbidden("The stream key is wrong or has been rotated.")
    if show.status == "ended":
        raise shows.ShowEnded("The show has ended; schedule a new one.")
    if not _host_may_stream(db, show):
        raise Forbidden("The show's host may not stream.")
    return show


def clear_stale_segments(settings: Settings, show: Show) -> None:
    """A new broadcast starts from fresh HLS files (nginx-rtmp would restart at 0.ts
    beside another broadcast's segments). Only where the HLS folder is on this node."""
    folder = paths(settings).hls / show.public_id
    if folder.is_dir():
        shutil.rmtree(folder, ignore_errors=True)


def do_publish(
    db: Session, settings: Settings, show: Show, *, client_id: str, addr: str
) -> Publish:
    """An authorised publish: the show goes live (``system:media``), or a reconnect
    continues it; either way this connection is recorded, and its frames are checked
    from now on (`frames`)."""
    if show.status == "scheduled":
        clear_stale_segments(settings, show)
    shows.do_start(db, SYSTEM_MEDIA, show)
    pub = Publish(show_id=show.id, client_id=client_id[:40], addr=addr[:64], started_at=utcnow())
    db.add(pub)
    db.flush()
    frames.do_schedule_frame_check(db, settings, pub)
    return pub


def _open_publish(db: Session, show_id: str, client_id: str) -> Publish | None:
    return db.scalar(
        select(Publish)
        .where(Publish.show_id == show_id, Publish.client_id == client_id[:40])
        .order_by(Publish.started_at.desc())
        .limit(1)
    )


def do_publish_done(db: Session, settings: Settings, name: str, client_id: str) -> None:
    """The encoder went away: close its publish and end the show after the grace period
    unless it comes back."""
    show = _show_by_name(db, name)
    pub = _open_publish(db, show.id, client_id)
    if pub is not None and pub.ended_at is None:
        pub.ended_at = utcnow()
    grace = settings.media_grace_seconds
    do_schedule(
        db,
        END_JOB,
        utcnow() + timedelta(seconds=grace),
        {"show_id": show.id, "grace_s": grace},
    )
    db.flush()


def end_after_grace(db: Session, payload: dict[str, Any]) -> None:
    """Job: end the show if no publish is open and the last one closed a grace ago."""
    show = shows.get_show(db, str(payload["show_id"]))
    if show.status != "live":
        return
    pubs = list(db.scalars(select(Publish).where(Publish.show_id == show.id)))
    if any(p.ended_at is None for p in pubs):
        return  # reconnected: that publish's end schedules its own check
    last = max((p.ended_at for p in pubs if p.ended_at is not None), default=None)
    grace = timedelta(seconds=float(payload.get("grace_s", 0)))
    if last is not None and utcnow() - last < grace - timedelta(milliseconds=500):
        return  # a reconnect came and went inside the grace; its own job decides
    shows.do_end(db, SYSTEM_MEDIA, show)
    log.info("show ended by the media server", show=show.id)


def do_record_done(db: Session, name: str, path: str, client_id: str) -> Recording:
    """nginx closed a recording: register it and queue the job that makes the replay."""
    show = _show_by_name(db, name)
    existing = db.scalar(select(Recording).where(Recording.flv_path == path))
    if existing is not None:
        return existing  # a repeated callback
    pub = _open_publish(db, show.id, client_id)
    rec = Recording(
        show_id=show.id,
        publish_id=pub.id if pub else None,
        flv_path=path,
        started_at=pub.started_at if pub else utcnow(),
    )
    db.add(rec)
    db.flush()
    do_enqueue(db, RECORDING_JOB, {"recording_id": rec.id})
    return rec


# ---- the replay --------------------------------------------------------------------


def _media_settings(db: Session) -> Settings:
    from livebase.media.parts import settings_of

    return settings_of(db)


def _rel(settings: Settings, p: Path) -> str:
    return str(p.resolve().relative_to(paths(settings).replays))


class NotYet(RuntimeError):
    """Something the job needs is still being made; the runner tries again later."""


def process_recording(db: Session, payload: dict[str, Any]) -> None:
    """Job: the recording's MP4 (nginx's exec_record_done remux, or our own), a poster
    frame and the duration; then the show's chapters and clips once it has ended."""
    settings = _media_settings(db)
    rec = db.get(Recording, str(payload["recording_id"]))
    if rec is None or rec.status == "ready":
        return
    flv = Path(rec.flv_path)
    out_dir = paths(settings).replays / rec.show_id
    out_dir.mkdir(parents=True, exist_ok=True)
    mp4 = out_dir / f"{rec.id}.mp4"
    if not mp4.exists():
        beside = flv.with_suffix(".mp4")
        part = flv.with_suffix(".mp4.part")
        if beside.exists():
            shutil.copyfile(beside, mp4.with_suffix(".mp4.job"))
            mp4.with_suffix(".mp4.job").replace(mp4)
        elif part.exists() and _younger_than(part, REMUX_PATIENCE):
            raise NotYet(f"nginx is still remuxing {flv.name}")
        elif flv.exists():
            ffmpeg.remux(settings, flv, mp4)
        else:
            raise FileNotFoundError(f"recording {flv} is missing")
    length = ffmpeg.duration(settings, mp4)
    jpg = out_dir / f"{rec.id}.jpg"
    ffmpeg.poster(settings, mp4, jpg, at_s=min(1.0, length / 2))
    rec.mp4_path = _rel(settings, mp4)
    rec.poster_path = _rel(settings, jpg)
    rec.duration_s = length
    rec.status = "ready"
    db.flush()
    show = shows.get_show(db, rec.show_id)
    if show.status == "ended":
        build_replay(db, show)


def _younger_than(p: Path, age: timedelta) -> bool:
    try:
        mtime = p.stat().st_mtime
    except FileNotFoundError:
        return False
    return utcnow().timestamp() - mtime < age.total_seconds()


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime
    no: int
    sku_id: str


def explaining_periods(db: Session, show: Show) -> list[Period]:
    """The show's explaining periods from its trail: each switch closes the one before;
    the show's end closes the last."""
    out: list[Period] = []
    current: shows.ExplainMark | None = None
    for mark in shows.explain_marks(db, show.id):
        if current is not None and (mark.no, mark.sku_id) == (current.no, current.sku_id):
            continue  # the same link again: one period goes on
        if current is not None and current.no is not None and current.sku_id:
            out.append(Period(current.at, mark.at, current.no, current.sku_id))
        current = mark
    end = show.ended_at or utcnow()
    if current is not None and current.no is not None and current.sku_id and current.at < end:
        out.append(Period(current.at, end, current.no, current.sku_id))
    return out


def build_replay(db: Session, show: Show) -> list[Chapter]:
    """Chapters of the ended show's ready recordings (each explaining period clipped to
    the recordings it overlaps, in seconds into that MP4), and one clip job per explained
    product (its longest chapter). Runs again after each recording; idempotent."""
    recs = list(
        db.scalars(
            select(Recording)
            .where(Recording.show_id == show.id, Recording.status == "ready")
            .order_by(Recording.started_at)
        )
    )
    for old in db.scalars(select(Chapter).where(Chapter.show_id == show.id)):
        if not db.scalar(select(Clip.id).where(Clip.chapter_id == old.id)):
            db.delete(old)
    db.flush()
    kept = {(c.recording_id, c.sku_id, round(c.start_s, 1)): c for c in _chapters(db, show.id)}
    periods = explaining_periods(db, show)
    views = catalog.sku_views(db, [p.sku_id for p in periods])
    for rec in recs:
        length = rec.duration_s or 0.0
        for period in periods:
            start = max((period.start - rec.started_at).total_seconds(), 0.0)
            end = min((period.end - rec.started_at).total_seconds(), length)
            view = views.get(period.sku_id)
            if end - start < 0.5 or view is None:
                continue
            key = (rec.id, period.sku_id, round(start, 1))
            if key in kept:
                continue
            chapter = Chapter(
                show_id=show.id,
                recording_id=rec.id,
                start_s=start,
                end_s=end,
                no=period.no,
                sku_id=period.sku_id,
                product_id=view.product_id,
            )
            db.add(chapter)
            kept[key] = chapter
    db.flush()
    chapters = _chapters(db, show.id)
    longest: dict[str, Chapter] = {}
    for c in chapters:
        if c.end_s - c.start_s >= MIN_CLIP_S and (
            c.sku_id not in longest
            or c.end_s - c.start_s > longest[c.sku_id].end_s - longest[c.sku_id].start_s
        ):
            longest[c.sku_id] = c
    for sku_id, c in longest.items():
        if db.scalar(select(Clip.id).where(Clip.show_id == show.id, Clip.sku_id == sku_id)):
            continue
        clip = Clip(show_id=show.id, chapter_id=c.id, sku_id=sku_id, product_id=c.product_id)
        db.add(clip)
        db.flush()
        do_enqueue(db, CLIP_JOB, {"clip_id": clip.id})
    return chapters


def _chapters(db: Session, show_id: str) -> list[Chapter]:
    return list(db.scalars(select(Chapter).where(Chapter.show_id == show_id).order_by(Chapter.id)))


def cut_clip(db: Session, payload: dict[str, Any]) -> None:
    """Job: cut the clip of one explained product from its chapter, by stream copy."""
    settings = _media_settings(db)
    clip = db.get(Clip, str(payload["clip_id"]))
    if clip is None or clip.status == "ready":
        return
    chapter = db.get(Chapter, clip.chapter_id)
    rec = db.get(Recording, chapter.recording_id) if chapter else None
    if chapter is None or rec is None or rec.mp4_path is None:
        raise NotYet("the clip's recording is not ready")
    root = paths(settings).replays
    out = root / clip.show_id / f"{clip.id}.mp4"
    length = min(chapter.end_s - chapter.start_s, MAX_CLIP_S)
    ffmpeg.cut(settings, root / rec.mp4_path, out, chapter.start_s, length)
    clip.path = _rel(settings, out)
    clip.duration_s = ffmpeg.duration(settings, out)
    clip.status = "ready"
    db.flush()


def build_replay_job(db: Session, payload: dict[str, Any]) -> None:
    """Job: chapters and clips of an ended show whose recordings were ready before it
    ended (the end usually comes a grace period after the last recording)."""
    show = shows.get_show(db, str(payload["show_id"]))
    if show.status == "ended":
        build_replay(db, show)


# ---- reading -----------------------------------------------------------------------


@dataclass
class ReplayChapter:
    id: str
    recording_id: str
    start_s: float
    end_s: float
    no: int
    sku_id: str
    product_id: str
    title: str
    attrs: dict[str, str]
    price_fen: int
    thumb_url: str | None


@dataclass
class ReplayPart:
    id: str
    status: str
    video_url: str | None
    poster_url: str | None
    duration_s: float | None


@dataclass
class Replay:
    show_id: str
    status: str  # "none" (no recording), "processing", "ready"
    parts: list[ReplayPart]
    chapters: list[ReplayChapter]


def media_url(settings: Settings, rel: str | None) -> str | None:
    """Public URL of a file under the replays folder (served by nginx beside /hls/)."""
    if rel is None:
        return None
    base = settings.effective_hls_url
    base = base[: -len("/hls")] if base.endswith("/hls") else base
    return f"{base}/replays/{rel}"


def replay_of(db: Session, settings: Settings, show: Show) -> Replay:
    recs = list(
        db.scalars(
            select(Recording).where(Recording.show_id == show.id).order_by(Recording.started_at)
        )
    )
    parts = [
        ReplayPart(
            r.id,
            r.status,
            media_url(settings, r.mp4_path),
            media_url(settings, r.poster_path),
            r.duration_s,
        )
        for r in recs
    ]
    chapters = _chapters(db, show.id)
    views = catalog.sku_views(db, [c.sku_id for c in chapters])
    order = {r.id: i for i, r in enumerate(recs)}
    out = []
    for c in sorted(chapters, key=lambda c: (order.get(c.recording_id, 0), c.start_s)):
        v = views.get(c.sku_id)
        if v is None:
            continue
        out.append(
            ReplayChapter(
                c.id,
                c.recording_id,
                round(c.start_s, 3),
                round(c.end_s, 3),
                c.no,
                c.sku_id,
                c.product_id,
                v.title,
                v.attrs,
                v.price_fen,
                v.thumb_url,
            )
        )
    if not recs:
        status = "none"
    elif all(r.status == "ready" for r in recs) and show.status == "ended":
        status = "ready"
    else:
        status = "processing"
    return Replay(show.id, status, parts, out)


@dataclass
class ProductClip:
    id: str
    show_id: str
    show_title: str
    video_url: str | None
    duration_s: float | None


def clips_of_product(db: Session, settings: Settings, product_id: str) -> list[ProductClip]:
    rows = db.scalars(
        select(Clip)
        .where(Clip.product_id == product_id, Clip.status == "ready")
        .order_by(Clip.id.desc())
        .limit(10)
    )
    out = []
    for c in rows:
        show = shows.get_show(db, c.show_id)
        out.append(
            ProductClip(c.id, c.show_id, show.title, media_url(settings, c.path), c.duration_s)
        )
    return out
