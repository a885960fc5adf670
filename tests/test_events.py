"""Events after commit: published once the outermost transaction commits, dropped with
whatever rolls back (a savepoint drops only its own), typed, isolated per subscriber, and
bridged to an event loop for coroutine subscribers."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Literal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from livebase.events import Dispatcher, Event, notify_on_commit
from livebase.runtime import Runtime

WAIT = 10.0  # seconds: a bound for conditions, never a sleep


class Ping(Event):
    type: Literal["test.ping"] = "test.ping"
    n: int


class Pong(Event):
    type: Literal["test.pong"] = "test.pong"
    n: int


@pytest.fixture
def pings(rt: Runtime) -> Iterator[list[int]]:
    seen: list[int] = []

    def record(event: Ping) -> None:
        seen.append(event.n)

    rt.events.subscribe(Ping, record)
    yield seen
    rt.events.unsubscribe(Ping, record)


def _touch(db: Session) -> None:
    db.execute(text("SELECT 1"))


def test_an_event_is_published_after_commit_and_not_before(rt: Runtime, pings: list[int]) -> None:
    with rt.sessions() as db:
        _touch(db)
        notify_on_commit(db, Ping(n=1))
        assert pings == []
        db.commit()
        assert pings == [1]
        notify_on_commit(db, Ping(n=2))  # the next transaction of the same session
        db.commit()
    assert pings == [1, 2]


def test_an_event_queued_before_any_statement_waits_for_the_commit(
    rt: Runtime, pings: list[int]
) -> None:
    with rt.sessions() as db:
        notify_on_commit(db, Ping(n=1))  # no transaction yet: it starts one
        assert pings == []
        db.commit()
    assert pings == [1]


def test_a_rolled_back_transaction_publishes_nothing(rt: Runtime, pings: list[int]) -> None:
    with rt.sessions() as db:
        _touch(db)
        notify_on_commit(db, Ping(n=1))
        db.rollback()
        db.commit()
    with rt.sessions() as db:
        notify_on_commit(db, Ping(n=2))
        # closed without commit: rolled back
    assert pings == []


def test_a_failed_savepoint_drops_only_its_own_events(rt: Runtime, pings: list[int]) -> None:
    # The case of jobs.do_schedule: a caught begin_nested() failure inside a transaction
    # that then commits. The old after_rollback hook dropped every queued event here.
    with rt.sessions() as db:
        _touch(db)
        notify_on_commit(db, Ping(n=1))
        try:
            with db.begin_nested():
                notify_on_commit(db, Ping(n=2))
                raise ValueError("inner step refused")
        except ValueError:
            pass
        notify_on_commit(db, Ping(n=3))
        db.commit()
    assert pings == [1, 3]


def test_a_released_savepoint_waits_for_the_outer_commit(rt: Runtime, pings: list[int]) -> None:
    # after_commit also fires when a savepoint is released: the old hook published there,
    # before the outer transaction was durable, and even when it then rolled back.
    with rt.sessions() as db:
        _touch(db)
        with db.begin_nested():
            notify_on_commit(db, Ping(n=1))
            with db.begin_nested():
                notify_on_commit(db, Ping(n=2))
        assert pings == []
        db.rollback()
    assert pings == []
    with rt.sessions() as db:
        _touch(db)
        with db.begin_nested():
            notify_on_commit(db, Ping(n=3))
        assert pings == []
        db.commit()
    assert pings == [3]


def test_commit_with_an_open_savepoint_publishes_its_events(rt: Runtime, pings: list[int]) -> None:
    with rt.sessions() as db:
        _touch(db)
        db.begin_nested()
        notify_on_commit(db, Ping(n=1))
        db.commit()  # commits the savepoint and the outer transaction
    assert pings == [1]


def test_a_failing_subscriber_does_not_stop_the_others(rt: Runtime, pings: list[int]) -> None:
    def boom(_event: Ping) -> None:
        raise RuntimeError("subscriber bug")

    rt.events.subscribe(Ping, boom)
    try:
        with rt.sessions() as db:
            _touch(db)
            notify_on_commit(db, Ping(n=1))
            notify_on_commit(db, Ping(n=2))
            db.commit()
    finally:
        rt.events.unsubscribe(Ping, boom)
    assert pings == [1, 2]


def test_subscribers_get_only_their_event_type(rt: Runtime, pings: list[int]) -> None:
    with rt.sessions() as db:
        _touch(db)
        notify_on_commit(db, Pong(n=9))
        notify_on_commit(db, Ping(n=1))
        db.commit()
    assert pings == [1]


def test_a_coroutine_subscriber_runs_on_the_bound_loop(rt: Runtime) -> None:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    got: list[tuple[int, bool]] = []
    done = threading.Event()

    async def fan_out(event: Ping) -> None:
        got.append((event.n, asyncio.get_running_loop() is loop))
        done.set()

    dispatcher = Dispatcher()
    dispatcher.bind_loop(loop)
    dispatcher.subscribe(Ping, fan_out)
    try:
        dispatcher.publish(Ping(n=7))
        assert done.wait(WAIT)
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(WAIT)
        loop.close()
    assert got == [(7, True)]


def test_without_a_loop_a_coroutine_subscriber_is_skipped_and_sync_ones_still_run() -> None:
    called: list[str] = []

    async def fan_out(_event: Ping) -> None:
        called.append("async")

    dispatcher = Dispatcher()
    dispatcher.subscribe(Ping, fan_out)
    dispatcher.subscribe(Ping, lambda e: called.append("sync"))
    dispatcher.publish(Ping(n=1))
    assert called == ["sync"]


def test_two_event_types_cannot_share_a_type_name() -> None:
    with pytest.raises(TypeError, match="taken"):

        class Impostor(Event):
            type: Literal["test.ping"] = "test.ping"


def test_a_session_outside_a_runtime_cannot_queue_events(rt: Runtime) -> None:
    with Session(rt.engine) as db, pytest.raises(RuntimeError, match="dispatcher"):
        notify_on_commit(db, Ping(n=1))
