"""The job runner as it really runs: one chain per recurring job however often runners
restart, the embedded thread in the serve lifespan (also with an injected runtime), and
``livebase worker`` as a real process running a job whose handler lives in a feature."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from livebase.accounts.models import AuthToken
from livebase.accounts.service import do_issue_token, do_register
from livebase.app import create_app
from livebase.db import utcnow
from livebase.jobs import service as jobs
from livebase.jobs.models import Job
from livebase.jobs.registry import recurring_key
from livebase.runtime import Runtime
from tests.jobs.helpers import child_env

WAIT = 30.0  # seconds: the bound for every condition below (a cold worker imports a lot)
PURGE = "accounts.purge_tokens"


def wait_for(condition: Callable[[], bool], timeout: float = WAIT) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` passes (a bound, not a sleep)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def _pending(rt: Runtime, kind: str) -> list[Job]:
    with rt.sessions() as db:
        return list(db.scalars(select(Job).where(Job.kind == kind, Job.done_at.is_(None))))


def _make_all_due(rt: Runtime) -> None:
    with rt.sessions() as db, db.begin():
        db.execute(update(Job).where(Job.done_at.is_(None)).values(due_at=utcnow()))


def _expired_token(rt: Runtime) -> str:
    with rt.sessions() as db, db.begin():
        user = do_register(db, "stale_user", "password-1")
        _, tok = do_issue_token(db, user, kind="api", ttl_seconds=60)
        tok.expires_at = utcnow() - timedelta(days=1)
        return tok.id


def _token_gone(rt: Runtime, token_id: str) -> Callable[[], bool]:
    def check() -> bool:
        with rt.sessions() as db:
            return db.get(AuthToken, token_id) is None

    return check


def test_three_restarts_leave_one_chain_of_a_recurring_job(rt: Runtime) -> None:
    # Before: the purge job rescheduled itself without its key, so each restart (which
    # schedules the keyed row) started one more chain: three restarts, three pending jobs.
    assert PURGE in rt.jobs.recurring
    for _restart in range(3):
        with rt.sessions() as db, db.begin():
            jobs.schedule_recurring(db, rt.jobs)  # what every runner does at start
        _make_all_due(rt)
        assert jobs.run_due(rt.sessions, rt.jobs) >= 1
    pending = _pending(rt, PURGE)
    assert len(pending) == 1
    assert pending[0].dedupe_key == recurring_key(PURGE)
    assert pending[0].due_at > utcnow() + timedelta(minutes=30)
    with rt.sessions() as db:
        done = db.scalars(select(Job).where(Job.kind == PURGE, Job.done_at.is_not(None))).all()
    assert len(done) == 3 and all(j.dedupe_key is None for j in done)


def test_a_recurring_job_that_gives_up_keeps_its_chain_going(rt: Runtime) -> None:
    def broken(_db: Session, _payload: dict[str, Any]) -> None:
        raise RuntimeError("always fails")

    registry = rt.jobs.copy()
    registry.register("test.flaky", broken, every=timedelta(minutes=5))
    with rt.sessions() as db, db.begin():
        jobs.schedule_recurring(db, registry)
        db.execute(
            update(Job)
            .where(Job.kind == "test.flaky")
            .values(due_at=utcnow(), attempts=jobs.MAX_ATTEMPTS - 1)
        )
    assert jobs.run_due(rt.sessions, registry) == 1
    with rt.sessions() as db:
        rows = db.scalars(select(Job).where(Job.kind == "test.flaky").order_by(Job.id)).all()
    given_up, upcoming = rows
    assert given_up.attempts == jobs.MAX_ATTEMPTS and given_up.dedupe_key is None
    assert given_up.last_error and "always fails" in given_up.last_error
    assert upcoming.attempts == 0 and upcoming.dedupe_key == recurring_key("test.flaky")


def test_the_serve_lifespan_runs_jobs_in_process_even_with_an_injected_runtime(
    rt: Runtime,
) -> None:
    # Before: an injected runtime (every test) never started the embedded runner.
    token_id = _expired_token(rt)
    with rt.sessions() as db, db.begin():
        jobs.do_schedule(db, PURGE, utcnow())
    settings = rt.settings.model_copy(update={"run_jobs_in_process": True})
    with TestClient(create_app(settings, runtime=rt)) as client:
        assert client.get("/healthz").status_code == 200
        assert wait_for(_token_gone(rt, token_id))
        # The runner also started the recurring chain.
        assert wait_for(lambda: any(j.dedupe_key for j in _pending(rt, PURGE)))


def test_without_the_setting_the_lifespan_runs_no_jobs(rt: Runtime, client: TestClient) -> None:
    with rt.sessions() as db, db.begin():
        jobs.do_schedule(db, PURGE, utcnow())
    assert client.get("/healthz").status_code == 200
    assert len(_pending(rt, PURGE)) == 1  # the conftest runtime says run_jobs_in_process=False


def test_livebase_worker_process_runs_a_job_whose_handler_lives_in_a_feature(
    rt: Runtime,
) -> None:
    # Before: `livebase worker` imported only jobs.service, so it knew only the handlers
    # that module happened to define; now it loads the same feature registry as serve.
    token_id = _expired_token(rt)
    with rt.sessions() as db, db.begin():
        jobs.do_schedule(db, PURGE, utcnow())
    env = child_env(rt)
    proc = subprocess.Popen(
        [sys.executable, "-m", "livebase.cli", "worker"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        ran = wait_for(lambda: proc.poll() is not None or _token_gone(rt, token_id)())
        assert proc.poll() is None, proc.communicate()[1]
        assert ran
        assert wait_for(lambda: not any(j.due_at <= utcnow() for j in _pending(rt, PURGE)))
    finally:
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=WAIT)
    assert proc.returncode == 0, err
    with rt.sessions() as db:
        done = db.scalars(select(Job).where(Job.kind == PURGE, Job.done_at.is_not(None))).all()
    assert len(done) == 1 and done[0].last_error is None
