"""No double booking under concurrency, on SQLite and PostgreSQL: real threads with their
own sessions, and the database's own rule (exclusion constraint, triggers) as a backstop."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, OperationalError

from livebase.db import new_id, utcnow
from livebase.errors import ApiError
from livebase.runtime import Runtime
from livebase.studios import service as studios
from livebase.studios.models import Booking
from tests.conftest import SYSTEM_TESTS, World
from tests.race import interleave
from tests.studios.helpers import local, make_studio, tomorrow

# Threads racing for overlapping slots of one studio; each has its own connection.
RACERS = 8
JOIN_SECONDS = 60


def _race(rt: Runtime, studio_id: str, org_ids: list[str]) -> list[str]:
    day = tomorrow()
    barrier = threading.Barrier(RACERS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def run(i: int) -> None:
        # Every slot overlaps every other: they all cover 14:00–14:30.
        start = local(day, 13, 30) + timedelta(minutes=0 if i % 2 else 30)
        end = local(day, 14, 30) + timedelta(minutes=30 * (i % 3))
        with rt.sessions() as db:
            studio = studios.get_studio(db, studio_id)
            db.rollback()  # the guarded insert is the transaction's first statement
            barrier.wait(JOIN_SECONDS)
            try:
                studios.do_book(db, SYSTEM_TESTS, studio, org_ids[i % len(org_ids)], start, end)
                db.commit()
                result = "won"
            except ApiError as exc:
                db.rollback()
                result = str(exc.code)
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_SECONDS)
    assert not any(t.is_alive() for t in threads)
    return outcomes


def test_concurrent_overlapping_bookings_exactly_one_wins_the_rest_slot_taken(
    rt: Runtime, world: World
) -> None:
    studio_id = make_studio(rt, world.base_a)
    outcomes = _race(rt, studio_id, [world.brand_a1, world.brand_a2, world.agency_a])
    assert sorted(outcomes) == ["slot_taken"] * (RACERS - 1) + ["won"]
    with rt.sessions() as db:
        rows = db.scalars(select(Booking).where(Booking.studio_id == studio_id)).all()
    assert len(rows) == 1 and rows[0].status == "active"


def test_concurrent_bookings_through_the_api_one_201_the_rest_409_slot_taken(
    rt: Runtime, world: World
) -> None:
    from fastapi.testclient import TestClient

    from livebase.app import create_app
    from tests.studios.helpers import iso

    studio_id = make_studio(rt, world.base_a)
    day = tomorrow()
    who = ["merchant_a1", "merchant_a2", "agency_a"]
    barrier = threading.Barrier(6)
    codes: list[tuple[int, str | None]] = []
    with TestClient(create_app(runtime=rt)) as client:

        def run(i: int) -> None:
            body = {"starts_at": iso(local(day, 10)), "ends_at": iso(local(day, 11 + i % 2))}
            barrier.wait(JOIN_SECONDS)
            r = client.post(
                f"/api/v1/studios/{studio_id}/bookings",
                json=body,
                headers=world[who[i % 3]].auth,
            )
            codes.append((r.status_code, r.json().get("error")))

        threads = [threading.Thread(target=run, args=(i,)) for i in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(JOIN_SECONDS)
    assert sorted(codes, key=lambda c: c[0]) == [(201, None)] + [(409, "slot_taken")] * 5


def _first_guarded_statement(rt: Runtime) -> str:
    # PostgreSQL: the studio's row lock comes first (the studio itself is loaded before);
    # SQLite: the guarded insert is the first statement.
    if rt.engine.dialect.name == "postgresql":
        return "SELECT studios.id"
    return "INSERT INTO studio_bookings"


def test_a_booking_committed_just_before_the_guarded_insert_makes_it_slot_taken(
    rt: Runtime, world: World
) -> None:
    studio_id = make_studio(rt, world.base_a)
    day = tomorrow()

    def rival() -> None:
        with rt.sessions() as db, db.begin():
            studio = studios.get_studio(db, studio_id)
            studios.do_book(db, SYSTEM_TESTS, studio, world.brand_a2, local(day, 9), local(day, 10))

    with rt.sessions() as db:
        studio = studios.get_studio(db, studio_id)
        with (
            interleave(rt.engine, _first_guarded_statement(rt), rival),
            pytest.raises(studios.SlotTaken),
        ):
            studios.do_book(
                db, SYSTEM_TESTS, studio, world.brand_a1, local(day, 9, 30), local(day, 11)
            )
        db.rollback()
    with rt.sessions() as db:
        rows = db.scalars(select(Booking.org_id).where(Booking.studio_id == studio_id)).all()
    assert rows == [world.brand_a2]


def _raw_insert(
    rt: Runtime, studio_id: str, base_id: str, org_id: str, start: object, end: object
) -> str:
    booking_id = new_id("bkg")
    with rt.engine.begin() as conn:
        conn.execute(
            Booking.__table__.insert().values(
                id=booking_id,
                studio_id=studio_id,
                base_id=base_id,
                org_id=org_id,
                booked_by="system:tests",
                starts_at=start,
                ends_at=end,
                status="active",
                note="",
                created_at=utcnow(),
            )
        )
    return booking_id


def test_the_database_itself_refuses_an_overlapping_row_the_service_did_not_write(
    rt: Runtime, world: World
) -> None:
    studio_id = make_studio(rt, world.base_a)
    day = tomorrow()
    first = _raw_insert(rt, studio_id, world.base_a, world.brand_a1, local(day, 9), local(day, 12))
    with pytest.raises(IntegrityError):
        _raw_insert(rt, studio_id, world.base_a, world.brand_a2, local(day, 11), local(day, 13))
    # Touching ends are not an overlap (half-open slots); another studio is independent.
    _raw_insert(rt, studio_id, world.base_a, world.brand_a2, local(day, 12), local(day, 13))
    other = make_studio(rt, world.base_a, "二号直播间")
    _raw_insert(rt, other, world.base_a, world.brand_a2, local(day, 9), local(day, 12))
    # A cancelled booking frees its slot; re-activating it over a taken slot is refused.
    set_status = text("UPDATE studio_bookings SET status = :s WHERE id = :id")
    with rt.engine.begin() as conn:
        conn.execute(set_status, {"s": "cancelled", "id": first})
    _raw_insert(rt, studio_id, world.base_a, world.brand_a2, local(day, 10), local(day, 11))
    with pytest.raises(IntegrityError), rt.engine.begin() as conn:
        conn.execute(set_status, {"s": "active", "id": first})
    with rt.sessions() as db:
        active = db.scalars(select(Booking).where(Booking.status == "active")).all()
    assert len(active) == 3


def test_racing_writers_that_skip_the_service_are_held_by_the_database_alone(
    rt: Runtime, world: World
) -> None:
    """No studio lock, no NOT EXISTS: plain INSERTs of overlapping rows from threads. The
    exclusion constraint (PostgreSQL: 23P01, or 40P01 when two in-flight rows wait for
    each other) and the triggers (SQLite) let exactly one in."""
    studio_id = make_studio(rt, world.base_a)
    day = tomorrow()
    barrier = threading.Barrier(RACERS)
    results: list[str] = []

    def run(i: int) -> None:
        barrier.wait(JOIN_SECONDS)
        start = local(day, 15) + timedelta(minutes=30 * (i % 2))
        try:
            _raw_insert(rt, studio_id, world.base_a, world.brand_a1, start, local(day, 17))
            results.append("in")
        except (IntegrityError, OperationalError) as exc:
            code = getattr(exc.orig, "sqlstate", None)
            assert code in (None, "23P01", "40P01"), exc
            results.append("refused")

    threads = [threading.Thread(target=run, args=(i,)) for i in range(RACERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(JOIN_SECONDS)
    assert sorted(results) == ["in"] + ["refused"] * (RACERS - 1)
