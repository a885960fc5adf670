"""The one "pending → decided" transition (applications, the moderation queue): a row is
decided exactly once even when two people decide it at the same instant."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select, update

from livebase.accounts.models import User
from livebase.bases import service as bases
from livebase.bases.models import Organisation
from livebase.compliance import service as moderation
from livebase.runtime import Runtime
from tests.compliance.test_queue_api import _held_product
from tests.conftest import SYSTEM_TESTS, World
from tests.race import interleave


def _application(client: TestClient, world: World, name: str = "新锐美妆") -> str:
    world.add_user("applicant")
    r = client.post(
        f"/api/v1/bases/{world.base_a}/applications",
        json={"org_kind": "brand", "name": name},
        headers=world["applicant"].auth,
    )
    assert r.status_code == 201
    app_id: str = r.json()["id"]
    return app_id


def _reject_elsewhere(rt: Runtime, app_id: str) -> None:
    with rt.sessions() as db, db.begin():
        app = db.get(bases.Application, app_id)
        assert app is not None
        bases.do_decide(db, SYSTEM_TESTS, app, approve=False, reason="重复申请")


def test_a_rejection_landing_before_an_approval_wins(
    rt: Runtime, client: TestClient, world: World
) -> None:
    """Two operators decide at once: the approval read the application as pending, the
    rejection commits first; the approval gets 409 and founds no organisation."""
    app_id = _application(client, world)
    with interleave(rt.engine, "UPDATE applications", lambda: _reject_elsewhere(rt, app_id)):
        r = client.post(f"/api/v1/applications/{app_id}/approve", headers=world["op_a"].auth)
    assert r.status_code == 409 and r.json()["error"] == "conflict"
    assert "rejected" in r.json()["detail"]
    with rt.sessions() as db:
        app = db.get(bases.Application, app_id)
        assert app is not None and app.status == "rejected" and app.decided_by == "system:tests"
        assert db.scalar(select(Organisation).where(Organisation.name == "新锐美妆")) is None


def test_a_second_moderator_decision_landing_first_wins(
    rt: Runtime, client: TestClient, world: World
) -> None:
    product = _held_product(client, world)
    mod = world["mod_a"].auth
    [item] = client.get("/api/v1/moderation/queue", headers=mod).json()["items"]

    def approve_elsewhere() -> None:
        with rt.sessions() as db, db.begin():
            row = db.get(moderation.ModerationItem, item["id"])
            moderation.do_decide(db, SYSTEM_TESTS, row, approve=True)

    with interleave(rt.engine, "UPDATE moderation_items", approve_elsewhere):
        r = client.post(
            f"/api/v1/moderation/items/{item['id']}/reject", headers=mod, json={"reason": "违规"}
        )
    assert r.status_code == 409 and "approved" in r.json()["detail"]
    assert client.get(f"/api/v1/products/{product['id']}").json()["status"] == "active"


def test_approving_for_a_closed_account_is_refused_and_changes_nothing(
    rt: Runtime, client: TestClient, world: World
) -> None:
    """The check that replaced `assert applicant is not None`: no organisation is handed
    to an account that can no longer sign in."""
    app_id = _application(client, world)
    with rt.sessions() as db, db.begin():
        db.execute(update(User).where(User.id == world["applicant"].id).values(is_active=False))
    r = client.post(f"/api/v1/applications/{app_id}/approve", headers=world["op_a"].auth)
    assert r.status_code == 409
    with rt.sessions() as db:
        app = db.get(bases.Application, app_id)
        assert app is not None and app.status == "pending"
