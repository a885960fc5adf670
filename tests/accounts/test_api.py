from __future__ import annotations

from fastapi.testclient import TestClient

from livebase.runtime import Runtime
from tests.conftest import World


def _register(client: TestClient, username: str = "alice", password: str = "correct-horse"):
    return client.post("/api/v1/accounts", json={"username": username, "password": password})


def test_register_returns_the_new_account_without_secrets(client: TestClient) -> None:
    r = _register(client)
    assert r.status_code == 201
    body = r.json()
    assert body["username"] == "alice" and body["display_name"] == "alice"
    assert body["id"].startswith("usr_") and body["created_at"].endswith("Z")
    assert "password" not in str(body) and "hash" not in str(body)


def test_register_twice_is_username_taken(client: TestClient) -> None:
    assert _register(client).status_code == 201
    r = _register(client)
    assert r.status_code == 409 and r.json()["error"] == "username_taken"


def test_register_refuses_bad_usernames_and_passwords(client: TestClient) -> None:
    for username, password in [
        ("Al", "longenough"),
        ("has space", "longenough"),
        ("UPPER", "longenough"),
        ("ok_name", "short"),
        ("ok_name", "x" * 129),
    ]:
        r = _register(client, username, password)
        assert r.status_code == 422, (username, password)
        assert r.json()["error"] == "validation_failed"
        assert r.json()["fields"]
    assert (
        client.post(
            "/api/v1/auth/tokens", json={"username": "ok_name", "password": "longenough"}
        ).status_code
        == 401
    )


def test_token_signs_in_and_logout_revokes_it_at_once(client: TestClient) -> None:
    _register(client)
    r = client.post("/api/v1/auth/tokens", json={"username": "alice", "password": "correct-horse"})
    assert r.status_code == 201
    tok = r.json()
    assert tok["token_type"] == "bearer" and tok["expires_at"].endswith("Z")
    auth = {"Authorization": f"Bearer {tok['access_token']}"}
    me = client.get("/api/v1/me", headers=auth)
    assert me.status_code == 200 and me.json()["username"] == "alice"
    assert me.json()["roles"] == []
    assert client.delete("/api/v1/auth/tokens/current", headers=auth).status_code == 204
    r = client.get("/api/v1/me", headers=auth)
    assert r.status_code == 401 and r.json()["error"] == "unauthenticated"


def test_wrong_password_is_bad_credentials_and_unknown_user_looks_the_same(
    client: TestClient,
) -> None:
    _register(client)
    wrong = client.post("/api/v1/auth/tokens", json={"username": "alice", "password": "nope-nope"})
    ghost = client.post("/api/v1/auth/tokens", json={"username": "bob", "password": "nope-nope"})
    assert wrong.status_code == ghost.status_code == 401
    assert wrong.json() == ghost.json()
    assert wrong.json()["error"] == "bad_credentials"


def test_repeated_failures_lock_the_account_with_retry_after(
    client: TestClient, rt: Runtime
) -> None:
    _register(client)
    limit = rt.settings.login_max_failures
    for _ in range(limit):
        r = client.post("/api/v1/auth/tokens", json={"username": "alice", "password": "wrong-pw"})
        assert r.status_code == 401
    r = client.post("/api/v1/auth/tokens", json={"username": "alice", "password": "correct-horse"})
    assert r.status_code == 429 and r.json()["error"] == "rate_limited"
    assert int(r.headers["Retry-After"]) > 0


def test_failures_from_one_address_across_accounts_are_limited(
    client: TestClient, rt: Runtime
) -> None:
    per_address = rt.settings.login_max_failures * 4
    for i in range(per_address):
        r = client.post(
            "/api/v1/auth/tokens", json={"username": f"user{i}", "password": "wrong-pw"}
        )
        assert r.status_code == 401
    r = client.post("/api/v1/auth/tokens", json={"username": "someone", "password": "wrong-pw"})
    assert r.status_code == 429


def test_signups_are_limited_per_address(client: TestClient, rt: Runtime) -> None:
    for i in range(rt.settings.signups_per_hour):
        assert _register(client, f"user_{i}").status_code == 201
    r = _register(client, "one_more")
    assert r.status_code == 429 and r.json()["error"] == "rate_limited"


def test_garbage_and_expired_tokens_are_unauthenticated(
    client: TestClient, world: World, rt: Runtime
) -> None:
    r = client.get("/api/v1/me", headers={"Authorization": "Bearer not-a-token"})
    assert r.status_code == 401
    r = client.get("/api/v1/me", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401
    from sqlalchemy import update

    from livebase.accounts.models import AuthToken
    from livebase.db import utcnow

    with rt.sessions() as db, db.begin():
        db.execute(update(AuthToken).values(expires_at=utcnow()))
    assert client.get("/api/v1/me", headers=world["viewer"].auth).status_code == 401


def test_me_lists_roles_with_their_scope(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/me", headers=world["merchant_a1"].auth)
    assert r.json()["roles"] == [
        {"role": "merchant", "base_id": world.base_a, "org_id": world.brand_a1}
    ]


def test_passwords_are_stored_as_argon2id(client: TestClient, rt: Runtime) -> None:
    _register(client)
    from sqlalchemy import select

    from livebase.accounts.models import AuthToken, User

    with rt.sessions() as db:
        user = db.scalar(select(User).where(User.username == "alice"))
        assert user is not None and user.password_hash.startswith("$argon2id$")
    tok = client.post(
        "/api/v1/auth/tokens", json={"username": "alice", "password": "correct-horse"}
    ).json()
    with rt.sessions() as db:
        hashes = db.scalars(select(AuthToken.token_hash)).all()
    assert tok["access_token"] not in hashes and len(hashes[0]) == 64
