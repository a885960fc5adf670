"""Batches of one sale in flight at once (``hotpath.DEPTH``): on PostgreSQL a second batch
is written while the first is still in its transaction; on SQLite (one writer) it waits.
Either way every order is written, and the owner's memory of ``remaining`` ends equal to
the database's."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from livebase.orders import hotpath
from livebase.runtime import Runtime
from tests.conftest import World
from tests.orders.flashkit import ledger, make_buyers, make_sale

# How long the first batch holds its thread waiting for a second to start.
HOLD_S = 1.0


def test_a_second_batch_is_written_while_the_first_is_in_flight_on_postgresql(
    rt: Runtime, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    sale = make_sale(rt, world, quantity=10, limit=1)
    buyers = make_buyers(rt, 6)
    first_in = threading.Event()
    second_in = threading.Event()
    overlapped: list[bool] = []
    real = hotpath.write_batch

    def held(rt_: Runtime, info: Any, batch: list[hotpath.Ask], **kw: Any) -> Any:
        if not first_in.is_set():
            first_in.set()
            overlapped.append(second_in.wait(HOLD_S))
        else:
            second_in.set()
        return real(rt_, info, batch, **kw)

    monkeypatch.setattr(hotpath, "write_batch", held)

    async def sell() -> tuple[list[Any], int, int]:
        owners = hotpath.FlashOwners(rt)
        try:
            owner = await owners.get(sale.id)
            assert owner is not None

            def ask(b: Any) -> Any:
                return owner.submit(b.id, "k", b"d" * 32, 1, b.address_id, None, b.id)

            futs = [ask(b) for b in buyers[:3]]
            loop = asyncio.get_running_loop()
            assert await loop.run_in_executor(None, first_in.wait, 5.0)
            futs += [ask(b) for b in buyers[3:]]
            answers = await asyncio.gather(*futs)
            return answers, owner.remaining, owner._in_flight
        finally:
            owners.executor.shutdown()

    answers, remembered, in_flight = asyncio.run(sell())
    assert [a[0] for a in answers] == [201] * 6
    assert overlapped == [rt.engine.dialect.name == "postgresql"]
    got = ledger(rt, sale)
    assert got.sold == 6 and got.remaining == 4 == remembered and in_flight == 0
    assert got.order_ids == {a[1]["id"] for a in answers}
