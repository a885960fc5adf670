from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from livebase.db import utcnow
from livebase.jobs import service as jobs
from livebase.jobs.models import Job
from livebase.jobs.registry import JobRegistry
from livebase.runtime import Runtime

seen: list[dict[str, Any]] = []


def _record(_db: Session, payload: dict[str, Any]) -> None:
    if payload.get("fail"):
        raise RuntimeError("boom")
    seen.append(payload)


@pytest.fixture
def registry(rt: Runtime) -> JobRegistry:
    """The runtime's registry (every feature's kinds) plus a test kind, registered
    explicitly like a feature's: nothing registers itself at import."""
    reg = rt.jobs.copy()
    reg.register("test.record", _record)
    seen.clear()
    return reg


def test_due_jobs_run_once_and_future_ones_wait(rt: Runtime, registry: JobRegistry) -> None:
    with rt.sessions() as db, db.begin():
        jobs.do_schedule(db, "test.record", utcnow() - timedelta(seconds=1), {"n": 1})
        jobs.do_schedule(db, "test.record", utcnow() + timedelta(hours=1), {"n": 2})
    assert jobs.run_due(rt.sessions, registry) == 1
    assert jobs.run_due(rt.sessions, registry) == 0
    assert seen == [{"n": 1}]


def test_a_failing_job_is_kept_with_its_error_and_retried_later(
    rt: Runtime, registry: JobRegistry
) -> None:
    with rt.sessions() as db, db.begin():
        jobs.do_schedule(db, "test.record", utcnow(), {"fail": True})
    assert jobs.run_due(rt.sessions, registry) == 1
    with rt.sessions() as db:
        row = db.scalar(select(Job))
        assert row is not None and row.done_at is None and row.attempts == 1
        assert "boom" in (row.last_error or "") and row.due_at > utcnow()


def test_dedupe_key_keeps_one_pending_job(rt: Runtime) -> None:
    with rt.sessions() as db, db.begin():
        assert jobs.do_schedule(db, "test.record", utcnow(), {}, dedupe_key="k") is not None
        assert jobs.do_schedule(db, "test.record", utcnow(), {}, dedupe_key="k") is None
    with rt.sessions() as db:
        assert len(db.scalars(select(Job)).all()) == 1


def test_token_purge_job_removes_expired_tokens_and_reschedules(rt: Runtime) -> None:
    from livebase.accounts.models import AuthToken
    from livebase.accounts.service import do_issue_token, do_register

    with rt.sessions() as db, db.begin():
        user = do_register(db, "old_user", "password-1")
        _, tok = do_issue_token(db, user, kind="api", ttl_seconds=60)
        tok.expires_at = utcnow() - timedelta(days=1)
        do_issue_token(db, user, kind="api", ttl_seconds=3600)
        jobs.do_schedule(db, "accounts.purge_tokens", utcnow())
    jobs.run_due(rt.sessions, rt.jobs)
    with rt.sessions() as db:
        assert len(db.scalars(select(AuthToken)).all()) == 1
        pending = db.scalars(select(Job).where(Job.done_at.is_(None))).all()
        assert [j.kind for j in pending] == ["accounts.purge_tokens"]


def test_a_slow_job_runs_on_its_own_lane_and_never_holds_up_a_quick_one(
    rt: Runtime, registry: JobRegistry
) -> None:
    """A replay being cut (seconds of ffmpeg) must not delay a flash sale's opening: the
    runner's quick lane runs due jobs while the slow lane is busy."""
    import threading
    import time

    release = threading.Event()
    started = threading.Event()

    def slow(_db: Session, payload: dict[str, Any]) -> None:
        started.set()
        if not release.wait(timeout=30):
            raise RuntimeError("never released")
        seen.append(payload)

    registry.register("test.slow", slow, slow=True)
    with rt.sessions() as db, db.begin():
        jobs.do_schedule(db, "test.slow", utcnow() - timedelta(seconds=1), {"n": "slow"})
    runner = jobs.Runner(rt.sessions, registry, interval=0.05)
    runner.start()
    try:
        assert started.wait(timeout=10)  # the slow lane took its job and is stuck in it
        with rt.sessions() as db, db.begin():
            jobs.do_schedule(db, "test.record", utcnow(), {"n": "quick"})
        deadline = time.monotonic() + 10
        while {"n": "quick"} not in seen and time.monotonic() < deadline:
            time.sleep(0.02)
        assert seen == [{"n": "quick"}]  # ran while the slow one still waits
        release.set()
        deadline = time.monotonic() + 10
        while len(seen) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert seen == [{"n": "quick"}, {"n": "slow"}]
    finally:
        release.set()
        runner.stop()
    # Each lane takes only its own kinds; no lane argument takes every kind (tests).
    with rt.sessions() as db, db.begin():
        jobs.do_schedule(db, "test.slow", utcnow(), {"n": 2})
    assert jobs.run_due(rt.sessions, registry, lane="fast") == 0
    assert jobs.run_due(rt.sessions, registry, lane="slow") == 1


def test_the_media_and_picture_jobs_are_on_the_slow_lane(rt: Runtime) -> None:
    assert {
        "compliance.ocr_image",
        "media.check_frame",
        "media.process_recording",
        "media.build_replay",
        "media.cut_clip",
    } <= rt.jobs.slow
    assert "flash_sales.open" not in rt.jobs.slow and "orders.expire_due" not in rt.jobs.slow
