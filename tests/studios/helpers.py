"""A studio of base A open every day 08:00–24:00 Beijing time, and slot times in it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from fastapi.testclient import TestClient

from livebase.runtime import Runtime
from livebase.studios import service as studios
from livebase.studios.service import LOCAL_TZ
from tests.conftest import SYSTEM_TESTS, World

EVERY_DAY = {d: {"open": "08:00", "close": "24:00"} for d in studios.WEEKDAYS}


def local(day: date, hh: int, mm: int = 0) -> datetime:
    return datetime.combine(day, time(hh, mm), LOCAL_TZ).astimezone(UTC)


def iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def tomorrow() -> date:
    return (datetime.now(LOCAL_TZ) + timedelta(days=1)).date()


def make_studio(rt: Runtime, base_id: str, name: str = "一号直播间", **over: Any) -> str:
    with rt.sessions() as db, db.begin():
        kw: dict[str, Any] = {
            "name": name,
            "capacity": 6,
            "opening_hours": EVERY_DAY,
            "equipment": ["环形补光灯", "绿幕"],
        }
        kw.update(over)
        return studios.do_create_studio(db, SYSTEM_TESTS, base_id, **kw).id


@dataclass
class Studios:
    rt: Runtime
    client: TestClient
    world: World
    studio: str

    def book(
        self, who: str, start: datetime, end: datetime, studio: str | None = None, **body: Any
    ) -> Any:
        return self.client.post(
            f"/api/v1/studios/{studio or self.studio}/bookings",
            json={"starts_at": iso(start), "ends_at": iso(end), **body},
            headers=self.world[who].auth,
        )

    def count(self) -> int:
        from sqlalchemy import func, select

        from livebase.studios.models import Booking

        with self.rt.sessions() as db:
            return db.scalar(select(func.count(Booking.id))) or 0
