"""The timed-job runner, and the outbox.

Jobs are rows (kind, payload, due time). A runner claims due rows — PostgreSQL workers with
``FOR UPDATE SKIP LOCKED`` so several never take the same row; SQLite has one writer and
needs no lock — runs each job's handler in the same transaction, and marks it done. A
failing job is retried with backoff and its error kept.

Handlers come from a :class:`JobRegistry` (filled by the feature registry), never from
import side effects. A recurring kind keeps one chain: its pending row holds the key
``recurring:<kind>``, and the runner moves that key to the next occurrence in the same
transaction that marks a run done.

The outbox is the same table: ``do_enqueue`` writes a job due now in the caller's
transaction, so an effect that must leave the process (a payment callback, a refund, a
customs message) exists exactly when the change that caused it does, and survives a
crash right after the commit.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from livebase.db import utcnow
from livebase.jobs.models import Job
from livebase.jobs.registry import JobRegistry, recurring_key
from livebase.logs import get_logger

Lane = Literal["fast", "slow"]

log = get_logger("livebase.jobs")
# After this many failures a job stops being retried and waits for a person.
MAX_ATTEMPTS = 8


def do_schedule(
    db: Session,
    kind: str,
    due_at: datetime,
    payload: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
) -> Job | None:
    """Add a job. With a ``dedupe_key`` an existing pending job of that key wins."""
    if dedupe_key is not None:
        existing = db.scalar(select(Job).where(Job.dedupe_key == dedupe_key))
        if existing is not None:
            return None
    row = Job(kind=kind, payload=payload or {}, due_at=due_at, dedupe_key=dedupe_key)
    try:
        with db.begin_nested():
            db.add(row)
    except IntegrityError:  # another node scheduled the same key first
        return None
    return row


def do_enqueue(db: Session, kind: str, payload: dict[str, Any]) -> Job:
    """Outbox: deliver ``payload`` to the ``kind`` handler once this transaction commits
    (at least once: a handler keys its external call by the job id or the payload)."""
    row = Job(kind=kind, payload=payload, due_at=utcnow())
    db.add(row)
    db.flush()
    return row


def schedule_recurring(db: Session, registry: JobRegistry) -> None:
    """Start each recurring chain that is not already running (every runner, at start)."""
    for kind, every in registry.recurring.items():
        do_schedule(db, kind, utcnow() + every, dedupe_key=recurring_key(kind))


def _next_occurrence(db: Session, row: Job, registry: JobRegistry) -> None:
    every = registry.recurring.get(row.kind)
    row.dedupe_key = None
    if every is None:
        return
    # Free the key first (flushed), then hand it to the next run in this same transaction,
    # so at every commit exactly one pending row holds it.
    db.flush()
    do_schedule(db, row.kind, utcnow() + every, dedupe_key=recurring_key(row.kind))


def run_due(
    sessions: sessionmaker[Session],
    registry: JobRegistry,
    *,
    limit: int = 50,
    lane: Lane | None = None,
) -> int:
    """Run the jobs that are due (of one lane: ``"slow"`` kinds or the rest; every kind
    when ``lane`` is None); return how many ran (successfully or not)."""
    if lane == "slow" and not registry.slow:
        return 0
    ran = 0
    for _ in range(limit):
        with sessions() as db, db.begin():
            q = (
                select(Job)
                .where(Job.done_at.is_(None), Job.due_at <= utcnow(), Job.attempts < MAX_ATTEMPTS)
                .order_by(Job.due_at)
                .limit(1)
            )
            if lane == "slow":
                q = q.where(Job.kind.in_(sorted(registry.slow)))
            elif lane == "fast" and registry.slow:
                q = q.where(Job.kind.not_in(sorted(registry.slow)))
            if db.get_bind().dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            row = db.scalar(q)
            if row is None:
                break
            ran += 1
            handler = registry.handler(row.kind)
            try:
                if handler is None:
                    raise LookupError(f"no handler for job kind {row.kind!r}")
                with db.begin_nested():
                    handler(db, row.payload)
                row.done_at = utcnow()
                _next_occurrence(db, row, registry)
            except Exception as exc:
                row.attempts += 1
                row.last_error = repr(exc)[:2000]
                # Exponential backoff: 2, 4, 8 … seconds, capped at an hour.
                row.due_at = utcnow() + timedelta(seconds=min(2**row.attempts, 3600))
                log.warning(
                    "job failed", kind=row.kind, id=row.id, attempts=row.attempts, error=repr(exc)
                )
                if row.attempts >= MAX_ATTEMPTS:
                    # Given up: the row stays for a person; a recurring chain goes on.
                    _next_occurrence(db, row, registry)
    return ran


class Runner:
    """Polls for due jobs until stopped (embedded mode and `livebase worker`): one thread
    for the quick kinds, one for the slow ones (``JobRegistry.slow``), so seconds of
    ffmpeg or Tesseract never hold up a flash sale's opening."""

    def __init__(
        self, sessions: sessionmaker[Session], registry: JobRegistry, interval: float = 1.0
    ) -> None:
        self._sessions = sessions
        self._registry = registry
        self._interval = interval
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        lanes: list[Lane] = ["fast", "slow"] if self._registry.slow else ["fast"]
        for lane in lanes:
            t = threading.Thread(
                target=self.run_forever, args=(lane,), name=f"livebase-jobs-{lane}", daemon=True
            )
            t.start()
            self._threads.append(t)

    def run_forever(self, lane: Lane = "fast") -> None:
        scheduled = lane != "fast"  # the quick lane keeps the recurring chains
        while not self._stop.is_set():
            try:
                if not scheduled:
                    with self._sessions() as db, db.begin():
                        schedule_recurring(db, self._registry)
                    scheduled = True
                ran = run_due(self._sessions, self._registry, lane=lane)
            except Exception:  # the database may be briefly away; keep polling
                log.exception("job runner pass failed", lane=lane)
                ran = 0
            if not ran:
                self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=10)
