"""Show state changes are conditional updates, and shelf edits are keyed updates with a
diff: proved by injecting the concurrent change between a caller's read and its write."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from livebase.accounts.actors import SYSTEM_MEDIA
from livebase.audit.service import records_of
from livebase.runtime import Runtime
from livebase.shows import service as shows
from livebase.shows.models import ShelfItem
from tests.conftest import SYSTEM_TESTS, World
from tests.race import interleave
from tests.web.conftest import make_product


def _show(world: World, sku_ids: list[str] | None = None) -> str:
    with world.rt.sessions() as db, db.begin():
        show = shows.do_create_show(
            db,
            SYSTEM_TESTS,
            world.brand_a1,
            "冬季专场",
            datetime.now(UTC) + timedelta(days=1),
            world["host_a1"].id,
        )
        if sku_ids:
            shows.do_set_shelf(db, SYSTEM_TESTS, show, [shows.ShelfSpec(s, None) for s in sku_ids])
        return show.id


def _status(rt: Runtime, show_id: str) -> str:
    with rt.sessions() as db:
        return shows.get_show(db, show_id).status


def _end_elsewhere(rt: Runtime, show_id: str) -> None:
    with rt.sessions() as db, db.begin():
        shows.do_end(db, SYSTEM_TESTS, shows.get_show(db, show_id))


def test_an_end_landing_between_starts_read_and_write_wins(rt: Runtime, world: World) -> None:
    """A reconnecting encoder's publish (system:media) reads the show as scheduled; the
    host ends it before the start writes: the show stays ended and the start says so."""
    show_id = _show(world)
    with rt.sessions() as db:
        show = shows.get_show(db, show_id)  # the start's read: scheduled
        assert show.status == "scheduled"
        with (
            interleave(rt.engine, "UPDATE shows", lambda: _end_elsewhere(rt, show_id)),
            pytest.raises(shows.ShowEnded),
        ):
            shows.do_start(db, SYSTEM_MEDIA, show)
        db.rollback()
    assert _status(rt, show_id) == "ended"


def test_a_start_after_the_end_never_revives_the_show(rt: Runtime, world: World) -> None:
    show_id = _show(world)
    _end_elsewhere(rt, show_id)
    with rt.sessions() as db, db.begin(), pytest.raises(shows.ShowEnded):
        shows.do_start(db, SYSTEM_MEDIA, shows.get_show(db, show_id))
    assert _status(rt, show_id) == "ended"


def test_start_and_end_return_whether_they_happened_and_name_the_actor(
    rt: Runtime, world: World, client: TestClient
) -> None:
    show_id = _show(world)
    with rt.sessions() as db, db.begin():
        assert shows.do_start(db, SYSTEM_MEDIA, shows.get_show(db, show_id)) is True
        # A second publish of the same stream (the encoder reconnects): nothing happens.
        assert shows.do_start(db, SYSTEM_MEDIA, shows.get_show(db, show_id)) is False
    r = client.post(f"/api/v1/shows/{show_id}/end", headers=world["host_a1"].auth)
    assert r.status_code == 200 and r.json()["status"] == "ended"
    with rt.sessions() as db:
        trail = [(a.action, a.actor) for a in records_of(db, "show", show_id)]
    assert trail == [("start", "system:media"), ("end", world["host_a1"].id)]


def _rows(rt: Runtime, show_id: str) -> dict[str, tuple[str, int, int | None]]:
    with rt.sessions() as db:
        items = db.scalars(select(ShelfItem).where(ShelfItem.show_id == show_id))
        return {i.sku_id: (i.id, i.no, i.live_price_fen) for i in items}


def _skus(world: World, n: int) -> list[str]:
    from livebase.catalog import service as catalog

    out: list[str] = []
    while len(out) < n:
        pid = make_product(world, world.brand_a1, title=f"商品{len(out)}")
        with world.rt.sessions() as db:
            out += [s.id for s in catalog.get_product(db, None, pid).skus]
    return out[:n]


def test_shelf_edits_keep_row_ids_and_return_the_diff(rt: Runtime, world: World) -> None:
    a, b, c, d = _skus(world, 4)
    show_id = _show(world, [a, b, c])
    before = _rows(rt, show_id)
    with rt.sessions() as db, db.begin():
        show = shows.get_show(db, show_id)
        diff = shows.do_set_shelf(
            db,
            SYSTEM_TESTS,
            show,
            [shows.ShelfSpec(c, None), shows.ShelfSpec(a, 8800), shows.ShelfSpec(d, None)],
        )
    after = _rows(rt, show_id)
    # Kept SKUs keep their rows; only numbers and prices moved.
    assert after[a][0] == before[a][0] and after[c][0] == before[c][0]
    assert (after[c][1], after[a][1], after[d][1]) == (1, 2, 3) and b not in after
    assert [e.sku_id for e in diff.added] == [d]
    assert [e.sku_id for e in diff.removed] == [b]
    assert [(e.sku_id, e.live_price_fen) for e in diff.repriced] == [(a, 8800)]
    assert sorted((e.sku_id, e.no) for e in diff.renumbered) == sorted([(c, 1), (a, 2)])
    assert diff.price_frame() == {
        "items": [
            {"no": 1, "sku_id": c, "live_price_fen": None},
            {"no": 2, "sku_id": a, "live_price_fen": 8800},
            {"no": 3, "sku_id": d, "live_price_fen": None},
        ],
        "removed": [b],
    }


def test_an_unchanged_shelf_is_an_empty_diff(rt: Runtime, world: World) -> None:
    a, b = _skus(world, 2)
    show_id = _show(world, [a, b])
    with rt.sessions() as db, db.begin():
        show = shows.get_show(db, show_id)
        diff = shows.do_set_shelf(
            db, SYSTEM_TESTS, show, [shows.ShelfSpec(a, None), shows.ShelfSpec(b, None)]
        )
    assert not diff.changed


def test_page_moves_reprice_and_remove_are_service_calls(rt: Runtime, world: World) -> None:
    a, b, c = _skus(world, 3)
    show_id = _show(world, [a, b, c])
    with rt.sessions() as db, db.begin():
        show = shows.get_show(db, show_id)
        shows.do_set_explaining(db, SYSTEM_TESTS, show, 3)
        moved = shows.do_shelf_move(db, SYSTEM_TESTS, show, 3, up=True)
        assert sorted((e.sku_id, e.no) for e in moved.renumbered) == sorted([(c, 2), (b, 3)])
        assert show.explaining_no == 2  # still explaining c, now link 2
        assert not shows.do_shelf_move(
            db, SYSTEM_TESTS, shows.get_show(db, show_id), 1, up=True
        ).changed
        priced = shows.do_shelf_reprice(db, SYSTEM_TESTS, shows.get_show(db, show_id), 1, 5000)
        assert [(e.sku_id, e.live_price_fen) for e in priced.repriced] == [(a, 5000)]
        gone = shows.do_shelf_remove(db, SYSTEM_TESTS, shows.get_show(db, show_id), 1)
        assert [e.sku_id for e in gone.removed] == [a]
    assert {k: v[1] for k, v in _rows(rt, show_id).items()} == {c: 1, b: 2}


def test_a_concurrent_shelf_edit_is_not_lost_by_row_churn(rt: Runtime, world: World) -> None:
    """Another editor reprices link 1 just before this edit adds a link: this edit reads
    the shelf as it is when it writes, so the reprice survives."""
    a, b, c = _skus(world, 3)
    show_id = _show(world, [a, b])

    def reprice_elsewhere() -> None:
        with rt.sessions() as db, db.begin():
            shows.do_shelf_reprice(db, SYSTEM_TESTS, shows.get_show(db, show_id), 1, 4200)

    with rt.sessions() as db:
        show = shows.get_show(db, show_id)
        _ = show.shelf  # the page's read of the shelf, before the other editor writes
        with interleave(rt.engine, "SELECT shows.status", reprice_elsewhere):
            shows.do_shelf_add(db, SYSTEM_TESTS, show, c, None)
        db.commit()
    rows = _rows(rt, show_id)
    assert rows[a][1:] == (1, 4200) and rows[c][1] == 3


def test_a_shelf_edit_after_the_show_ended_elsewhere_is_refused(rt: Runtime, world: World) -> None:
    a, b = _skus(world, 2)
    show_id = _show(world, [a])
    with rt.sessions() as db:
        show = shows.get_show(db, show_id)  # read while still scheduled
        with (
            interleave(rt.engine, "SELECT shows.status", lambda: _end_elsewhere(rt, show_id)),
            pytest.raises(shows.ShowEnded),
        ):
            shows.do_shelf_add(db, SYSTEM_TESTS, show, b, None)
        db.rollback()
    assert list(_rows(rt, show_id)) == [a]
