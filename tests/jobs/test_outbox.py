"""The outbox: an effect that must leave the process is a job row written in the caller's
transaction, so it exists exactly when the change does, survives the process dying right
after the commit (when in-memory events are lost), and is delivered once by a runner."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from livebase.db import utcnow
from livebase.jobs import service as jobs
from livebase.jobs.models import Job
from livebase.runtime import Runtime
from tests.jobs.helpers import child_env

# The child commits an outbox row and an in-memory event in one transaction, then dies
# (os._exit: no cleanup, no flush) in the first subscriber, before any other one runs.
CHILD = textwrap.dedent(
    """
    import os, sys
    from typing import Literal
    from sqlalchemy import text
    from livebase.events import Event, notify_on_commit
    from livebase.jobs.service import do_enqueue
    from livebase.runtime import build_runtime
    from livebase.settings import Settings

    class Paid(Event):
        type: Literal["test.paid"] = "test.paid"
        order_id: str

    marker = sys.argv[1]

    def die(_event):
        os._exit(17)

    def publish(event):
        open(marker, "w").write(event.order_id)

    rt = build_runtime(Settings())
    rt.events.subscribe(Paid, die)
    rt.events.subscribe(Paid, publish)
    with rt.sessions() as db:
        db.execute(text("SELECT 1"))
        do_enqueue(db, "test.payment_callback", {"order_id": "ord_1", "status": "paid"})
        notify_on_commit(db, Paid(order_id="ord_1"))
        db.commit()
    print("unreachable")
    """
)


def test_an_outbox_row_survives_a_crash_between_commit_and_publish_and_runs_once(
    rt: Runtime, tmp_path: Path
) -> None:
    marker = tmp_path / "published"
    env = child_env(rt)
    child = subprocess.run(
        [sys.executable, "-c", CHILD, str(marker)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert child.returncode == 17, child.stderr
    assert "unreachable" not in child.stdout
    assert not marker.exists()  # the in-memory event died with the process

    delivered: list[dict[str, Any]] = []

    def callback(_db: Session, payload: dict[str, Any]) -> None:
        delivered.append(payload)

    registry = rt.jobs.copy()
    registry.register("test.payment_callback", callback)
    assert jobs.run_due(rt.sessions, registry) == 1
    assert jobs.run_due(rt.sessions, registry) == 0  # a second runner pass finds it done
    assert delivered == [{"order_id": "ord_1", "status": "paid"}]
    with rt.sessions() as db:
        row = db.scalars(select(Job).where(Job.kind == "test.payment_callback")).one()
    assert row.done_at is not None and row.attempts == 0


def test_an_outbox_row_rolls_back_with_its_transaction(rt: Runtime) -> None:
    with rt.sessions() as db:
        jobs.do_enqueue(db, "test.payment_callback", {"order_id": "ord_2"})
        db.rollback()
    with rt.sessions() as db:
        assert db.scalars(select(Job)).all() == []


def test_a_failed_delivery_is_retried_until_it_succeeds_once(rt: Runtime) -> None:
    calls: list[int] = []

    def flaky(_db: Session, payload: dict[str, Any]) -> None:
        calls.append(payload["n"])
        if len(calls) == 1:
            raise ConnectionError("merchant endpoint down")

    registry = rt.jobs.copy()
    registry.register("test.webhook", flaky)
    with rt.sessions() as db, db.begin():
        job_id = jobs.do_enqueue(db, "test.webhook", {"n": 1}).id
    assert jobs.run_due(rt.sessions, registry) == 1
    with rt.sessions() as db, db.begin():
        row = db.get(Job, job_id)
        assert row is not None and row.done_at is None and row.attempts == 1
        row.due_at = utcnow()  # skip the backoff wait
    assert jobs.run_due(rt.sessions, registry) == 1
    assert jobs.run_due(rt.sessions, registry) == 0
    assert calls == [1, 1]
    with rt.sessions() as db:
        row = db.get(Job, job_id)
        assert row is not None and row.done_at is not None
