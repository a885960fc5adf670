"""Admission to the database (livebase.admission, issue 18 item 0): requests beyond the
slots wait in a bounded queue for a bounded time, the rest are refused at once with 503
`overloaded` and `Retry-After`; a drained connection pool answers 503 too, never 500."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import create_engine

from livebase.app import create_app
from livebase.db import build_sessionmaker
from livebase.runtime import Runtime

# A bound on waiting for a condition (a queued request), not a timing assertion.
WAIT_BOUND_S = 10.0


def _runtime(rt: Runtime, engine: Any = None, **settings: Any) -> Runtime:
    # A sessionmaker of its own: a Runtime binds its event dispatcher to its sessions.
    engine = engine or rt.engine
    sessions = build_sessionmaker(engine)
    return Runtime(rt.settings.model_copy(update=settings), engine, sessions, rt.limiter, rt.redis)


def _assert_overloaded(r: httpx.Response) -> None:
    assert r.status_code == 503, r.text
    assert r.json()["error"] == "overloaded" and r.json()["detail"]
    assert r.headers["Retry-After"].isdigit() and int(r.headers["Retry-After"]) >= 1


def test_a_request_beyond_slots_and_queue_is_refused_at_once_with_503_overloaded(
    rt: Runtime,
) -> None:
    busy = _runtime(rt, db_concurrency=1, db_queue=0)
    with TestClient(create_app(runtime=busy)) as c:
        # Given the one slot taken (as a long request would hold it) and no queue
        with c.portal.wrap_async_context_manager(busy.admission.slot()):
            # a request that needs the database is refused, and one that does not is served
            _assert_overloaded(c.get("/api/v1/products"))
            assert c.get("/healthz").status_code == 200
        # and once the slot is free the same request is served.
        assert c.get("/api/v1/products").status_code == 200


def test_a_queued_request_is_served_when_a_slot_frees(rt: Runtime) -> None:
    busy = _runtime(rt, db_concurrency=1, db_queue=4, db_queue_timeout=30)
    with TestClient(create_app(runtime=busy)) as c:
        answers: list[httpx.Response] = []
        with c.portal.wrap_async_context_manager(busy.admission.slot()):
            waiter = threading.Thread(target=lambda: answers.append(c.get("/api/v1/products")))
            waiter.start()
            deadline = time.monotonic() + WAIT_BOUND_S
            while busy.admission.statistics()["waiting"] < 1:
                assert time.monotonic() < deadline, "the request never queued"
                time.sleep(0.01)
            assert not answers  # it waits for the slot, holding no thread and no connection
        waiter.join(WAIT_BOUND_S)
        assert [a.status_code for a in answers] == [200]


def test_a_request_that_waits_past_the_queue_timeout_is_refused_with_503(rt: Runtime) -> None:
    busy = _runtime(rt, db_concurrency=1, db_queue=4, db_queue_timeout=0.2)
    with TestClient(create_app(runtime=busy)) as c:
        with c.portal.wrap_async_context_manager(busy.admission.slot()):
            _assert_overloaded(c.get("/api/v1/shows"))
        assert busy.admission.statistics() == {"slots": 1, "free": 1, "waiting": 0}


def test_a_drained_connection_pool_answers_503_overloaded_not_500(rt: Runtime) -> None:
    # Given a pool of one connection, held by something outside admission (a job, a CLI)
    url = rt.settings.sqlalchemy_url
    sqlite = {"check_same_thread": False} if url.startswith("sqlite") else {}
    engine = create_engine(url, connect_args=sqlite, pool_size=1, max_overflow=0, pool_timeout=0.2)
    try:
        drained = _runtime(rt, engine)
        with TestClient(create_app(runtime=drained)) as c, engine.connect():
            # an admitted request finds no connection within the pool timeout: 503, not 500
            _assert_overloaded(c.get("/api/v1/products"))
        with TestClient(create_app(runtime=drained)) as c:
            assert c.get("/api/v1/products").status_code == 200
    finally:
        engine.dispose()


def test_a_page_refused_for_load_is_an_html_503_that_says_when_to_come_back(
    rt: Runtime,
) -> None:
    busy = _runtime(rt, db_concurrency=1, db_queue=0)
    with TestClient(create_app(runtime=busy)) as c:
        with c.portal.wrap_async_context_manager(busy.admission.slot()):
            r = c.get("/", headers={"Accept": "text/html"})
        assert r.status_code == 503, r.text
        assert r.headers["content-type"].startswith("text/html")
        assert r.headers["Retry-After"].isdigit() and int(r.headers["Retry-After"]) >= 1
