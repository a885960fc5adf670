"""Seats under concurrency, with real threads on their own connections, on SQLite and
PostgreSQL: N people enrolling at once into k seats give exactly k seats and N - k places
in line, in the order the session's lock was granted; cancellations racing enrolments
never leave a free seat with someone waiting, nor more seats than the capacity."""

from __future__ import annotations

import threading
from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select

from livebase.accounts.actors import SystemActor
from livebase.runtime import Runtime
from livebase.training import service
from livebase.training.models import Enrolment, TrainingSession
from tests.conftest import World
from tests.training.kit import make_session, make_users

# More people than seats, and more threads than the machine's cores, so that the
# enrolments really overlap; small enough to stay quick on a shared machine.
PEOPLE = 12
SEATS = 5
JOIN_S = 60
RACER = SystemActor("system:tests")


def _race(fns: list[Callable[[], None]]) -> list[BaseException]:
    """Run every fn on its own thread, released together by a barrier."""
    start = threading.Barrier(len(fns))
    errors: list[BaseException] = []

    def run(fn: Callable[[], None]) -> None:
        try:
            start.wait(timeout=JOIN_S)
            fn()
        except BaseException as exc:  # reported by the test below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(fn,)) for fn in fns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_S)
    assert not any(t.is_alive() for t in threads), "a racer did not finish"
    return errors


def _enrol(rt: Runtime, session_id: str, user_id: str) -> Callable[[], None]:
    def go() -> None:
        with rt.sessions() as db, db.begin():
            service.do_enrol(db, RACER, service.get_session(db, session_id), user_id)

    return go


def _state(rt: Runtime, session_id: str) -> tuple[TrainingSession, list[Enrolment]]:
    with rt.sessions() as db:
        sess = db.get(TrainingSession, session_id)
        assert sess is not None
        rows = list(
            db.scalars(
                select(Enrolment)
                .where(Enrolment.session_id == session_id)
                .order_by(Enrolment.queue_no)
            )
        )
        return sess, rows


def test_n_concurrent_enrolments_into_k_seats_give_k_seats_and_the_rest_in_line(
    rt: Runtime, client: TestClient, world: World
) -> None:
    c = make_session(client, world, capacity=SEATS)
    people = make_users(rt, PEOPLE)
    errors = _race([_enrol(rt, c.session_id, p.id) for p in people])
    assert errors == []
    sess, rows = _state(rt, c.session_id)
    confirmed = [e for e in rows if e.status == "confirmed"]
    waiting = [e for e in rows if e.status == "waitlisted"]
    assert len(confirmed) == SEATS and len(waiting) == PEOPLE - SEATS
    assert sess.seats_taken == SEATS
    # In order: the first k lock holders got the seats, the rest queue behind them in the
    # order they came, each with its own place.
    queue = [e.queue_no for e in rows]
    assert len(set(queue)) == PEOPLE
    assert max(e.queue_no for e in confirmed) < min(e.queue_no for e in waiting)
    with rt.sessions() as db:
        positions = [service.position_of(db, e) for e in waiting]
    assert positions == list(range(1, PEOPLE - SEATS + 1))


def test_cancellations_racing_enrolments_keep_seats_and_line_consistent(
    rt: Runtime, client: TestClient, world: World
) -> None:
    c = make_session(client, world, capacity=SEATS)
    first = make_users(rt, SEATS + 2, "first")
    for p in first:
        _enrol(rt, c.session_id, p.id)()
    _, rows = _state(rt, c.session_id)
    seated = [e for e in rows if e.status == "confirmed"][:3]

    def cancel(enrolment_id: str) -> Callable[[], None]:
        def go() -> None:
            with rt.sessions() as db, db.begin():
                enr = db.get(Enrolment, enrolment_id)
                assert enr is not None
                service.do_cancel(db, RACER, enr)

        return go

    newcomers = make_users(rt, 4, "new")
    fns = [cancel(e.id) for e in seated] + [_enrol(rt, c.session_id, p.id) for p in newcomers]
    assert _race(fns) == []
    sess, rows = _state(rt, c.session_id)
    confirmed = [e for e in rows if e.status == "confirmed"]
    waiting = [e for e in rows if e.status == "waitlisted"]
    # 7 + 4 enrolled, 3 cancelled: 8 hold a place, 5 of them seats, 3 in line.
    assert sess.seats_taken == len(confirmed) == SEATS
    assert len(waiting) == SEATS + 2 + 4 - 3 - SEATS
    # The two who waited from the start were promoted before any newcomer.
    promoted = {e.user_id for e in confirmed}
    assert {p.id for p in first[SEATS:]} <= promoted
