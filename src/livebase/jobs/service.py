"""The timed-job runner.

Jobs are rows (kind, payload, due time). A runner claims due rows — PostgreSQL workers with
``FOR UPDATE SKIP LOCKED`` so several never take the same row; SQLite has one writer and
needs no lock — runs each job's handler in the same transaction, and marks it done. A
failing job is retried with backoff and its error kept.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from livebase.db import utcnow
from livebase.jobs.models import Job
from livebase.logs import get_logger

log = get_logger("livebase.jobs")
Handler = Callable[[Session, dict[str, Any]], None]
HANDLERS: dict[str, Handler] = {}
# After this many failures a job stops being retried and waits for a person.
MAX_ATTEMPTS = 8


def job(kind: str) -> Callable[[Handler], Handler]:
    def register(fn: Handler) -> Handler:
        HANDLERS[kind] = fn
        return fn

    return register


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


def run_due(sessions: sessionmaker[Session], *, limit: int = 50) -> int:
    """Run the jobs that are due; return how many ran (successfully or not)."""
    ran = 0
    for _ in range(limit):
        with sessions() as db, db.begin():
            q = (
                select(Job)
                .where(Job.done_at.is_(None), Job.due_at <= utcnow(), Job.attempts < MAX_ATTEMPTS)
                .order_by(Job.due_at)
                .limit(1)
            )
            if db.get_bind().dialect.name == "postgresql":
                q = q.with_for_update(skip_locked=True)
            row = db.scalar(q)
            if row is None:
                break
            ran += 1
            handler = HANDLERS.get(row.kind)
            try:
                if handler is None:
                    raise LookupError(f"no handler for job kind {row.kind!r}")
                with db.begin_nested():
                    handler(db, row.payload)
                row.done_at = utcnow()
                row.dedupe_key = None  # free the key for the next occurrence
            except Exception as exc:
                row.attempts += 1
                row.last_error = repr(exc)[:2000]
                # Exponential backoff: 2, 4, 8 … seconds, capped at an hour.
                row.due_at = utcnow() + timedelta(seconds=min(2**row.attempts, 3600))
                log.warning(
                    "job failed", kind=row.kind, id=row.id, attempts=row.attempts, error=repr(exc)
                )
    return ran


class Runner:
    """Polls for due jobs on a thread until stopped (embedded mode and `livebase worker`)."""

    def __init__(self, sessions: sessionmaker[Session], interval: float = 1.0) -> None:
        self._sessions = sessions
        self._interval = interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run_forever, name="livebase-jobs", daemon=True)
        self._thread.start()

    def run_forever(self) -> None:
        with self._sessions() as db, db.begin():
            schedule_recurring(db)
        while not self._stop.is_set():
            try:
                ran = run_due(self._sessions)
            except Exception:  # the database may be briefly away; keep polling
                log.exception("job runner pass failed")
                ran = 0
            if not ran:
                self._stop.wait(self._interval)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)


PURGE_INTERVAL = timedelta(hours=1)


def schedule_recurring(db: Session) -> None:
    do_schedule(
        db,
        "accounts.purge_tokens",
        utcnow() + PURGE_INTERVAL,
        dedupe_key="recurring:accounts.purge_tokens",
    )


@job("accounts.purge_tokens")
def _purge_tokens(db: Session, _payload: dict[str, Any]) -> None:
    from livebase.accounts.service import do_purge_expired_tokens

    removed = do_purge_expired_tokens(db)
    log.info("purged expired tokens", removed=removed)
    # The key is freed when this run is marked done; schedule the next one with its own.
    do_schedule(db, "accounts.purge_tokens", utcnow() + PURGE_INTERVAL)
