"""Production runs several app nodes behind a load balancer with no sticky sessions: what
one node counts or revokes, every node must see. Two apps, each with its own runtime
(engine, Redis client, limiter), share one PostgreSQL and one Redis."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis
from fastapi.testclient import TestClient

from livebase.app import create_app
from livebase.db import build_engine, build_sessionmaker
from livebase.ratelimit import RedisRateLimiter
from livebase.runtime import Runtime
from tests.conftest import REDIS_URL


@pytest.fixture
def two_nodes(rt: Runtime) -> Iterator[tuple[TestClient, TestClient]]:
    assert rt.redis is not None and isinstance(rt.limiter, RedisRateLimiter)
    engine = build_engine(rt.settings.sqlalchemy_url)
    client = redis.Redis.from_url(REDIS_URL)  # the second node's own connection
    other = Runtime(
        rt.settings,
        engine,
        build_sessionmaker(engine),
        RedisRateLimiter(client, prefix=rt.limiter._prefix),
        client,
    )
    with (
        TestClient(create_app(runtime=rt), client=("198.51.100.1", 1)) as a,
        TestClient(create_app(runtime=other), client=("198.51.100.1", 2)) as b,
    ):
        yield a, b
    other.close()


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_failed_sign_ins_on_one_node_lock_the_account_on_the_other(
    two_nodes: tuple[TestClient, TestClient], rt: Runtime
) -> None:
    a, b = two_nodes
    assert (
        a.post("/api/v1/accounts", json={"username": "alice", "password": "right-pass"}).status_code
        == 201
    )
    for i in range(rt.settings.login_max_failures):
        node = a if i % 2 else b  # the balancer spreads attempts over both nodes
        r = node.post("/api/v1/auth/tokens", json={"username": "alice", "password": "wrong"})
        assert r.status_code == 401
    r = a.post("/api/v1/auth/tokens", json={"username": "alice", "password": "right-pass"})
    assert r.status_code == 429
    r = b.post("/api/v1/auth/tokens", json={"username": "alice", "password": "right-pass"})
    assert r.status_code == 429


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)
def test_a_token_revoked_on_one_node_stops_working_on_the_other(
    two_nodes: tuple[TestClient, TestClient],
) -> None:
    a, b = two_nodes
    a.post("/api/v1/accounts", json={"username": "bob_b", "password": "right-pass"})
    tok = b.post(
        "/api/v1/auth/tokens", json={"username": "bob_b", "password": "right-pass"}
    ).json()["access_token"]
    auth = {"Authorization": f"Bearer {tok}"}
    assert a.get("/api/v1/me", headers=auth).status_code == 200
    assert b.delete("/api/v1/auth/tokens/current", headers=auth).status_code == 204
    assert a.get("/api/v1/me", headers=auth).status_code == 401
