"""Side effects after commit.

Reactions that leave the process (room frames, callbacks) must only happen once the
change that caused them is durable. ``after_commit(session, fn)`` queues ``fn`` on the
session; it runs after a successful commit and is dropped on rollback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
_KEY = "livebase_after_commit"


def after_commit(session: Session, fn: Callable[[], None]) -> None:
    session.info.setdefault(_KEY, []).append(fn)


@event.listens_for(Session, "after_commit")
def _run(session: Session) -> None:
    pending: list[Callable[[], None]] = session.info.pop(_KEY, [])
    for fn in pending:
        try:
            fn()
        except Exception:  # one failing subscriber must not hide the others' events
            log.exception("after-commit hook failed")


@event.listens_for(Session, "after_rollback")
def _drop(session: Session) -> None:
    session.info.pop(_KEY, None)
