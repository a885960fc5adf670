"""System actors: the demo, the CLI and the fixtures act through the services as a named
system actor (never a faked admin), and audit records say who did what."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from livebase.accounts.actors import SYSTEM_DEMO, SystemActor, actor_name, actor_user_id
from livebase.audit.models import AuditRecord
from livebase.audit.service import records_of
from livebase.demo import load_demo
from livebase.runtime import Runtime
from tests.conftest import World


def test_system_actors_are_named_system_something() -> None:
    assert actor_name(SYSTEM_DEMO) == "system:demo" and actor_user_id(SYSTEM_DEMO) is None
    for bad in ("demo", "system:" + "x" * 40):
        with pytest.raises(ValueError):
            SystemActor(bad)


def test_fixtures_create_the_warehouse_through_the_service(rt: Runtime, world: World) -> None:
    with rt.sessions() as db:
        [made] = records_of(db, "warehouse", world.warehouse_a)
    assert (made.action, made.actor) == ("create", "system:tests")


def _audit(rt: Runtime) -> list[tuple[str, str, str]]:
    with rt.sessions() as db:
        rows = db.scalars(select(AuditRecord).order_by(AuditRecord.id))
        return [(r.actor, r.action, r.subject_type) for r in rows]


def test_the_demo_acts_as_system_demo_and_adds_nothing_twice(rt: Runtime) -> None:
    with rt.sessions() as db, db.begin():
        load_demo(db)
    first = _audit(rt)
    assert {actor for actor, _, _ in first} == {"system:demo"}
    made = {(action, subject) for _, action, subject in first}
    for expected in (
        ("create", "warehouse"),
        ("create", "pickup_counter"),
        ("grant", "user"),
        ("create", "org"),
        ("set_incubated", "org"),
    ):
        assert expected in made
    with rt.sessions() as db, db.begin():
        load_demo(db)
    assert _audit(rt) == first


def test_an_application_decision_names_the_decider(client: TestClient, world: World) -> None:
    world.add_user("applicant")
    r = client.post(
        f"/api/v1/bases/{world.base_a}/applications",
        json={"org_kind": "brand", "name": "新锐美妆"},
        headers=world["applicant"].auth,
    )
    app_id = r.json()["id"]
    r = client.post(f"/api/v1/applications/{app_id}/approve", headers=world["op_a"].auth)
    assert r.status_code == 200
    with world.rt.sessions() as db:
        trail = [(a.action, a.actor) for a in records_of(db, "applications", app_id)]
        grants = db.scalar(
            select(func.count(AuditRecord.id)).where(
                AuditRecord.action == "grant", AuditRecord.subject_id == world["applicant"].id
            )
        )
    assert trail == [("approved", world["op_a"].id)] and grants == 1
