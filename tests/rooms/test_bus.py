"""The rooms.Bus seam: the in-process and the Redis implementation pass the same tests
(parametrised), and room frames leave only after the transaction that caused them
commits."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator

import pytest
import redis

from livebase.rooms.bus import Bus, Frame, MemoryBus, RedisBus
from livebase.rooms.parts import BUS, ROOM_KIT
from livebase.runtime import Runtime
from tests.conftest import REDIS_URL, World

WAIT_SECONDS = 10


@pytest.fixture(params=["memory", "redis"])
def bus(request: pytest.FixtureRequest) -> Iterator[Bus]:
    if request.param == "memory":
        b: Bus = MemoryBus(history=3)
        yield b
        b.close()
        return
    client = redis.Redis.from_url(REDIS_URL)
    prefix = f"livebase-test:{secrets.token_hex(4)}:"
    b = RedisBus(client, history=3, prefix=prefix)
    yield b
    b.close()
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)
    client.close()


class Inbox:
    """Frames a listener received, with a bounded wait for a count."""

    def __init__(self) -> None:
        self.frames: list[tuple[str, Frame]] = []
        self._cond = threading.Condition()

    def __call__(self, room: str, frame: Frame) -> None:
        with self._cond:
            self.frames.append((room, frame))
            self._cond.notify_all()

    def wait_for(self, n: int) -> list[Frame]:
        with self._cond:
            ok = self._cond.wait_for(lambda: len(self.frames) >= n, WAIT_SECONDS)
        assert ok, f"got {len(self.frames)} frames, wanted {n}"
        return [f for _, f in self.frames]


def test_critical_frames_raise_seq_and_others_carry_it(bus: Bus) -> None:
    inbox = Inbox()
    bus.subscribe("show_1", inbox)
    bus.publish("show_1", "stock", {"sku_1": 9})
    bus.publish("show_1", "sale_open", {"id": "fs_1"})
    bus.publish("show_1", "purchase", {"items": []})
    bus.publish("show_1", "sold_out", {"id": "fs_1"})
    got = inbox.wait_for(4)
    assert [(f.t, f.seq) for f in got] == [
        ("stock", 0),
        ("sale_open", 1),
        ("purchase", 1),
        ("sold_out", 2),
    ]
    assert got[1].d == {"id": "fs_1"} and got[0].ts > 0
    assert bus.seq("show_1") == 2


def test_rooms_are_apart(bus: Bus) -> None:
    a, b = Inbox(), Inbox()
    bus.subscribe("show_a", a)
    bus.subscribe("show_b", b)
    bus.publish("show_b", "notice", {"text": "b"})
    bus.publish("show_a", "notice", {"text": "a"})
    assert [f.d["text"] for f in a.wait_for(1)] == ["a"]
    assert [f.d["text"] for f in b.wait_for(1)] == ["b"]
    assert bus.seq("show_a") == bus.seq("show_b") == 1


def test_since_gives_the_missed_critical_frames_or_none_past_the_history(bus: Bus) -> None:
    for i in range(5):
        bus.publish("show_r", "notice", {"i": i})
        bus.publish("show_r", "stock", {"sku": i})  # not kept
    missed = bus.since("show_r", 3)
    assert missed is not None and [(f.seq, f.d["i"]) for f in missed] == [(4, 3), (5, 4)]
    assert bus.since("show_r", 5) == []
    # History keeps 3 critical frames (3, 4, 5): a client at 1 missed frame 2 for good.
    assert bus.since("show_r", 1) is None
    assert bus.since("show_r", 9) is None


def test_an_unsubscribed_listener_hears_nothing_more(bus: Bus) -> None:
    gone, stays = Inbox(), Inbox()
    unsubscribe = bus.subscribe("show_u", gone)
    bus.subscribe("show_u", stays)
    bus.publish("show_u", "notice", {"n": 1})
    gone.wait_for(1)
    unsubscribe()
    bus.publish("show_u", "notice", {"n": 2})
    assert [f.d["n"] for f in stays.wait_for(2)] == [1, 2]
    assert [f.d["n"] for _, f in gone.frames] == [1]


def test_an_accepted_order_reaches_its_room_as_purchase_and_stock_after_commit_only(
    rt: Runtime, world: World
) -> None:
    from tests.orders.helpers import STOCK, make_shop

    shop = make_shop(rt, world)
    inbox = Inbox()
    unsubscribe = rt.part(BUS).subscribe(shop.show, inbox)
    try:
        # Rolled back: the order, its units and its frames are gone.
        with rt.sessions() as db:
            me = shop.principal(db)
            from livebase.orders import service as orders

            orders.do_checkout(
                db,
                me,
                show_id=shop.show,
                lines=[orders.LineSpec(shop.sku, 2)],
                destination=orders.check_destination(db, me, shop.address, None),
            )
            db.rollback()
        assert inbox.frames == []
        assert shop.stock() == STOCK
        shop.place(2)
        got = inbox.wait_for(2)
        assert [f.t for f in got] == ["purchase", "stock"]
        assert got[0].d == {
            "items": [{"sku_id": shop.sku, "title": "纯棉圆领T恤", "quantity": 2, "buyer": "v**"}]
        }
        assert got[1].d == {shop.sku: STOCK - 2}
    finally:
        unsubscribe()


def test_units_coming_back_reach_the_room_as_a_stock_frame(rt: Runtime, world: World) -> None:
    from livebase.orders import service as orders
    from tests.orders.helpers import STOCK, make_shop

    shop = make_shop(rt, world)
    order_id = shop.place(3)
    rt.part(ROOM_KIT).batcher.flush()  # the order's own frames leave before we listen
    inbox = Inbox()
    unsubscribe = rt.part(BUS).subscribe(shop.show, inbox)
    try:
        with rt.sessions() as db, db.begin():
            orders.do_cancel(db, shop.principal(db), orders.get_order(db, order_id))
        got = inbox.wait_for(1)
        # (A purchase frame of the order may still have been on its way; the stock is last.)
        assert [(f.t, f.d) for f in got if f.t == "stock"][-1] == ("stock", {shop.sku: STOCK})
    finally:
        unsubscribe()
