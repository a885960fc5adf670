"""Helpers for the training tests: a course and a session made through the API, users
made in bulk, and moving a session's start into the past (attendance, scores and
certificates come after a session starts; enrolment closes when it does)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from livebase.accounts.service import do_issue_token, do_register
from livebase.db import utcnow
from livebase.runtime import Runtime
from livebase.schemas import rfc3339
from livebase.training.models import TrainingSession
from tests.conftest import Actor, World


@dataclass
class Course:
    course_id: str
    session_id: str


def make_session(
    client: TestClient, world: World, *, capacity: int = 2, pass_mark: int | None = None
) -> Course:
    body: dict[str, Any] = {"title": "直播销售员（五级）实训", "hours": 40}
    if pass_mark is not None:
        body["pass_mark"] = pass_mark
    r = client.post(f"/api/v1/bases/{world.base_a}/courses", json=body, headers=world["op_a"].auth)
    assert r.status_code == 201, r.text
    course_id = r.json()["id"]
    start = utcnow() + timedelta(days=2)
    r = client.post(
        f"/api/v1/courses/{course_id}/sessions",
        json={
            "teacher_name": "王老师",
            "room": "培训中心 201",
            "starts_at": rfc3339(start),
            "ends_at": rfc3339(start + timedelta(hours=3)),
            "capacity": capacity,
        },
        headers=world["op_a"].auth,
    )
    assert r.status_code == 201, r.text
    return Course(course_id, r.json()["id"])


def make_users(rt: Runtime, n: int, prefix: str = "learner") -> list[Actor]:
    out = []
    with rt.sessions() as db, db.begin():
        for i in range(n):
            user = do_register(db, f"{prefix}_{i}", "password-123", f"学员{i:02d}号")
            raw, _ = do_issue_token(db, user, kind="api", ttl_seconds=3600)
            out.append(Actor(user.id, user.username, raw))
    return out


def start_session(rt: Runtime, session_id: str) -> None:
    """The session began an hour ago and is still on."""
    with rt.sessions() as db, db.begin():
        db.execute(
            update(TrainingSession)
            .where(TrainingSession.id == session_id)
            .values(starts_at=utcnow() - timedelta(hours=1), ends_at=utcnow() + timedelta(hours=2))
        )
