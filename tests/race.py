"""Race injection (after saleor's tests/race_condition.py): run a concurrent change in
another thread, on its own connection, at the exact moment a statement is about to run.

``interleave(engine, "UPDATE shows", fn)`` makes the first statement of the block whose
SQL starts with that text wait while ``fn`` runs (and commits) on another thread; the
statement then executes against the database as ``fn`` left it. No sleeps: the thread is
joined with a bound, and an error in ``fn`` fails the test.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event

# Bound on the injected change; it takes milliseconds unless it deadlocks.
JOIN_SECONDS = 30


@contextmanager
def interleave(engine: Engine, sql_prefix: str, fn: Callable[[], None]) -> Iterator[list[str]]:
    fired: list[str] = []
    errors: list[BaseException] = []

    def before(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if fired:  # once only; the injected change's own statements pass straight through
            return
        if not statement.lstrip().upper().startswith(sql_prefix.upper()):
            return
        fired.append(statement)

        def run() -> None:
            try:
                fn()
            except BaseException as exc:  # re-raised in the test's thread below
                errors.append(exc)

        t = threading.Thread(target=run)
        t.start()
        t.join(JOIN_SECONDS)
        if t.is_alive():
            raise AssertionError(f"the injected change did not finish in {JOIN_SECONDS} s")
        if errors:
            raise errors[0]

    event.listen(engine, "before_cursor_execute", before)
    try:
        yield fired
    finally:
        event.remove(engine, "before_cursor_execute", before)
    assert fired, f"no statement starting with {sql_prefix!r} ran"
