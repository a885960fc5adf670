"""Room figures on one node and across nodes (issue 13 items 6 and 11): the memory
counters and the Redis ones answer alike; on Redis a node's chat figures travel with its
next tick (no round trip per line), so another node sees them after that tick and never
before the lines were counted."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis

from livebase.rooms.counters import Counters, MemoryCounters, RedisCounters

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture(params=["memory", "redis"])
def nodes(request: pytest.FixtureRequest) -> Iterator[tuple[Counters, Counters]]:
    """Two nodes' counters over one store."""
    if request.param == "memory":
        shared = MemoryCounters()
        yield shared, shared
        return
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"lbtest:{uuid.uuid4().hex[:8]}:"
    yield RedisCounters(client, prefix), RedisCounters(client, prefix)
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)


def test_figures_add_up_across_nodes_after_their_ticks(nodes: tuple[Any, Any]) -> None:
    a, b = nodes
    room = "shw_" + uuid.uuid4().hex
    for _ in range(7):
        a.count(room, "chat_lines")
    b.count(room, "chat_lines", 3)
    a.count(room, "held_lines")
    b.count(room, "blocked_lines", 2)
    a.tick(room, "node-a", 10, 4, 0.1)
    b.tick(room, "node-b", 5, 1, 0.1)
    for reader in (a, b):
        fig = reader.figures(room)
        assert (fig.chat_lines, fig.held_lines, fig.blocked_lines) == (10, 1, 2)
        assert fig.likes == 5 and fig.peak_viewers == 15


def test_a_node_reading_its_figures_sends_what_it_counted(nodes: tuple[Any, Any]) -> None:
    a, b = nodes
    room = "shw_" + uuid.uuid4().hex
    a.count(room, "chat_lines", 4)
    assert a.figures(room).chat_lines == 4  # read on the counting node: no tick needed
    assert b.figures(room).chat_lines == 4
    assert a.figures(room).chat_lines == 4  # sent once, not again with each read


def test_a_failed_tick_keeps_the_counted_figures_for_the_next(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"lbtest:{uuid.uuid4().hex[:8]}:"
    node = RedisCounters(client, prefix)
    room = "shw_" + uuid.uuid4().hex
    node.count(room, "chat_lines", 6)
    real = node._tick

    def down(**_kw: Any) -> Any:
        raise redis.ConnectionError("Redis away")

    monkeypatch.setattr(node, "_tick", down)
    with pytest.raises(redis.ConnectionError):
        node.tick(room, "n", 1, 0, 0.1)
    monkeypatch.setattr(node, "_tick", real)
    node.tick(room, "n", 1, 0, 0.1)
    assert RedisCounters(client, prefix).figures(room).chat_lines == 6
    for key in client.scan_iter(match=prefix + "*"):
        client.delete(key)
