"""What the media feature adds to the runtime: its settings, reachable from a job
handler's session (handlers get only a session and a payload), as payments does."""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy.orm import Session

from livebase.jobs.service import do_enqueue
from livebase.runtime import Part, Runtime
from livebase.settings import Settings
from livebase.shows.events import ShowEnded

_INFO_KEY = "livebase.media"
BUILD_JOB = "media.build_replay"


def _build(rt: Runtime) -> Settings:
    info: dict[Any, Any] = dict(rt.sessions.kw.get("info") or {})
    info[_INFO_KEY] = rt.settings
    rt.sessions.configure(info=info)

    def replay_when_ended(event: ShowEnded) -> None:
        # A show ended by its host after the recordings were processed still gets its
        # chapters and clips: a job (durable, retried) builds them.
        with rt.sessions() as db, db.begin():
            do_enqueue(db, BUILD_JOB, {"show_id": event.show_id})

    rt.events.subscribe(ShowEnded, replay_when_ended)
    return rt.settings


MEDIA: Part[Settings] = Part("media.settings", _build)


def settings_of(db: Session) -> Settings:
    try:
        return cast(Settings, db.info[_INFO_KEY])
    except KeyError:
        raise LookupError("this session's runtime has no media part installed") from None
