"""Demo studios: two rooms in the demo base and a few bookings of its brands in the days
ahead, made through the service as ``system:demo``. Idempotent: a studio is found by its
name, and a slot already booked is left as it is."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from livebase.accounts.actors import SYSTEM_DEMO
from livebase.bases import service as bases
from livebase.db import utcnow
from livebase.shows import service as shows
from livebase.studios import service as studios
from livebase.studios.models import Studio
from livebase.studios.service import LOCAL_TZ, WEEKDAYS

_LONG_DAYS = {d: {"open": "09:00", "close": "23:00"} for d in WEEKDAYS}
_WEEKDAYS_ONLY = {d: {"open": "10:00", "close": "22:00"} for d in WEEKDAYS[:6]}
STUDIOS = [
    (
        "一号直播间 · 大场",
        12,
        ["4K 摄像机 ×2", "环形补光灯", "绿幕", "导播台", "提词器"],
        _LONG_DAYS,
    ),
    ("二号直播间 · 美妆", 4, ["美妆补光灯", "近景微距镜头", "化妆台"], _WEEKDAYS_ONLY),
]
# (studio index, days from today, local start hour, hours, organisation name)
BOOKINGS = [
    (0, 1, 10, 3, "京味斋"),
    (0, 1, 19, 3, "星河传媒"),
    (1, 1, 14, 2, "颐和美妆"),
    (0, 2, 14, 4, "燕山织造"),
    (1, 3, 19, 2, "颐和美妆"),
]


def _studio(
    db: Session, base_id: str, name: str, capacity: int, kit: list[str], hours: dict[str, Any]
) -> Studio:
    for s in studios.list_studios(db, base_id):
        if s.name == name:
            return s
    return studios.do_create_studio(
        db, SYSTEM_DEMO, base_id, name=name, capacity=capacity, opening_hours=hours, equipment=kit
    )


def load_studios_demo(db: Session, base_id: str, show_id: str | None = None) -> None:
    """``show_id``: the demo's upcoming show, bound to its organisation's booking."""
    rooms = [_studio(db, base_id, *spec) for spec in STUDIOS]
    orgs = {o.name: o.id for o in bases.list_orgs(db, base_id)}
    today = datetime.now(LOCAL_TZ).date()
    now = utcnow()
    for index, days, hour, hours, org_name in BOOKINGS:
        studio, org_id = rooms[index], orgs.get(org_name)
        start = studios.local_midnight(today + timedelta(days=days)) + timedelta(hours=hour)
        end = start + timedelta(hours=hours)
        if org_id is None or studios.bookings_between(db, studio.id, start, end):
            continue
        span = studios.opening_span(studio, (today + timedelta(days=days)))
        if span is None or not span[0] <= start < end <= span[1] or start <= now:
            continue  # a closed day this week (the beauty room rests on Sundays)
        booking = studios.do_book(db, SYSTEM_DEMO, studio, org_id, start, end)
        if show_id is not None:
            show = shows.get_show(db, show_id)
            if show.org_id == org_id and start <= show.scheduled_at < end:
                studios.do_bind_show(db, SYSTEM_DEMO, booking, show_id)
