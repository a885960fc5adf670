"""The shows feature publishes typed events after its transitions commit: a plain
subscriber runs on the request's threadpool thread, a coroutine one on the app's loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from livebase.events import Event
from livebase.runtime import Runtime
from livebase.shows.events import ExplainingChanged, ShelfChanged, ShowEnded, ShowStarted
from tests.conftest import World
from tests.shows.test_api import _shelf, _show, _skus

WAIT = 10.0


class Seen:
    def __init__(self) -> None:
        self.events: list[Event] = []
        self.threads: list[int] = []
        self.loops: list[asyncio.AbstractEventLoop] = []
        self.async_done = threading.Event()

    def sync(self, event: Any) -> None:
        self.events.append(event)
        self.threads.append(threading.get_ident())

    async def on_loop(self, _event: Any) -> None:
        self.loops.append(asyncio.get_running_loop())
        self.threads.append(threading.get_ident())
        self.async_done.set()


@pytest.fixture
def seen(rt: Runtime) -> Iterator[Seen]:
    s = Seen()
    types = (ShowStarted, ShowEnded, ExplainingChanged, ShelfChanged)
    for t in types:
        rt.events.subscribe(t, s.sync)
    yield s
    for t in types:
        rt.events.unsubscribe(t, s.sync)


def test_start_shelf_explaining_and_end_publish_their_events_in_order(
    client: TestClient, world: World, seen: Seen
) -> None:
    auth = world["host_a1"].auth
    show = _show(client, world)
    url = f"/api/v1/shows/{show['id']}"
    skus = _skus(client, world)
    assert _shelf(client, world, show["id"], [{"sku_id": s} for s in skus]).status_code == 200
    assert client.post(f"{url}/explaining", json={"no": 2}, headers=auth).status_code == 200
    assert client.post(f"{url}/start", headers=auth).status_code == 200
    assert client.post(f"{url}/end", headers=auth).status_code == 200
    assert [e.type for e in seen.events] == [
        "show.shelf",
        "show.explaining",
        "show.started",
        "show.ended",
    ]
    shelf, explaining, started, ended = seen.events
    assert isinstance(shelf, ShelfChanged) and shelf.links == 2 and shelf.removed == ()
    assert [(i.no, i.sku_id) for i in shelf.items] == [(1, skus[0]), (2, skus[1])]
    assert isinstance(explaining, ExplainingChanged) and explaining.no == 2
    assert isinstance(started, ShowStarted) and started.base_id == world.base_a
    assert isinstance(ended, ShowEnded) and ended.show_id == show["id"]


def test_a_shelf_edit_publishes_what_changed_and_a_no_op_edit_nothing(
    client: TestClient, world: World, seen: Seen
) -> None:
    show = _show(client, world)
    a, b = _skus(client, world)
    assert _shelf(client, world, show["id"], [{"sku_id": a}, {"sku_id": b}]).status_code == 200
    seen.events.clear()
    same = [{"sku_id": a}, {"sku_id": b}]
    assert _shelf(client, world, show["id"], same).status_code == 200
    assert seen.events == []
    edit = [{"sku_id": b, "live_price_fen": 4900}]
    assert _shelf(client, world, show["id"], edit).status_code == 200
    (changed,) = seen.events
    assert isinstance(changed, ShelfChanged)
    assert changed.links == 1 and changed.removed == (a,)
    assert [(i.no, i.sku_id, i.live_price_fen) for i in changed.items] == [(1, b, 4900)]


def test_a_refused_transition_publishes_nothing(
    client: TestClient, world: World, seen: Seen
) -> None:
    auth = world["host_a1"].auth
    show = _show(client, world)
    url = f"/api/v1/shows/{show['id']}"
    assert client.post(f"{url}/end", headers=auth).status_code == 200
    seen.events.clear()
    assert client.post(f"{url}/start", headers=auth).status_code == 409
    assert client.post(f"{url}/explaining", json={"no": 1}, headers=auth).status_code == 409
    other = _show(client, world)
    seen.events.clear()
    refused = client.post(f"/api/v1/shows/{other['id']}/start", headers=world["host_ag"].auth)
    assert refused.status_code == 403  # a host of another organisation
    assert seen.events == []


def test_a_coroutine_subscriber_runs_on_the_app_loop_not_the_request_thread(
    client: TestClient, world: World, rt: Runtime, seen: Seen
) -> None:
    rt.events.subscribe(ShowStarted, seen.on_loop)
    try:
        show = _show(client, world)
        r = client.post(f"/api/v1/shows/{show['id']}/start", headers=world["host_a1"].auth)
        assert r.status_code == 200
        assert seen.async_done.wait(WAIT)
    finally:
        rt.events.unsubscribe(ShowStarted, seen.on_loop)
    request_thread, loop_thread = seen.threads
    assert request_thread != loop_thread  # sync on the threadpool, async on the loop
    assert seen.loops[0].is_running()
