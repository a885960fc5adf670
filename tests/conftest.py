"""Shared fixtures: each test runs against SQLite (with the in-process rate limiter) and
against PostgreSQL (with the Redis one) — the embedded and the production configuration —
through the same code, parametrised.

Databases are migrated once per session with Alembic (so migrations are tested too) and
emptied after every test.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import text

from livebase.accounts.actors import SystemActor
from livebase.accounts.security import use_fast_hashing_for_tests
from livebase.accounts.service import do_grant, do_issue_token, do_register
from livebase.app import create_app
from livebase.bases import service as bases
from livebase.db import build_engine, build_sessionmaker
from livebase.features import install, load
from livebase.migrate import upgrade
from livebase.models import metadata
from livebase.ratelimit import MemoryRateLimiter, RedisRateLimiter
from livebase.runtime import Runtime
from livebase.settings import Settings

use_fast_hashing_for_tests()

PG_ADMIN = os.environ.get("LIVEBASE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("LIVEBASE_TEST_REDIS", "redis://127.0.0.1:6379/0")
BACKENDS = ["sqlite", "postgresql"]
# Fixtures act through the services like the CLI does: as a named system actor.
SYSTEM_TESTS = SystemActor("system:tests")


def _fresh_pg_database(name: str) -> str:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN.rsplit("/", 1)[0]
    return f"{base}/{name}".replace("postgresql://", "postgresql+psycopg://", 1)


def _drop_pg_database(name: str) -> None:
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session", params=BACKENDS)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runtime]:
    data_dir = tmp_path_factory.mktemp(f"data-{request.param}")
    if request.param == "postgresql":
        # One database per test process: several suites may run at once on one server.
        dbname = f"livebase_test_{os.getpid()}"
        url = _fresh_pg_database(dbname)
        client = redis.Redis.from_url(REDIS_URL)
        client.ping()
        prefix = f"livebase-test:{secrets.token_hex(4)}:"
        limiter: Any = RedisRateLimiter(client, prefix=prefix)
    else:
        url = f"sqlite:///{data_dir / 'test.db'}"
        client = None
        limiter = MemoryRateLimiter()
    upgrade(url)
    settings = Settings(
        demo=True,
        data_dir=data_dir,
        database_url=url,
        secret_key="x" * 40,
        run_jobs_in_process=False,
        log_json=True,
        log_level="WARNING",
    )
    engine = build_engine(settings.sqlalchemy_url)
    rt = Runtime(settings, engine, build_sessionmaker(engine), limiter, client)
    install(rt, load())  # the same feature registry as serve and worker
    yield rt
    if client is not None:
        for key in client.scan_iter(match=f"{limiter._prefix}*"):
            client.delete(key)
    rt.close()
    if request.param == "postgresql":
        _drop_pg_database(dbname)


def _empty(rt: Runtime) -> None:
    tables = [t.name for t in reversed(metadata.sorted_tables)]
    with rt.engine.begin() as conn:
        if rt.engine.dialect.name == "postgresql":
            # TRUNCATE of all 78 tables cost ~0.3 s a test (new files for every table and
            # index); a test fills a handful, so find those in one query and DELETE their
            # rows, foreign-key triggers off for the transaction so the order is free.
            probe = " UNION ALL ".join(
                f"SELECT '{t}' WHERE EXISTS (SELECT 1 FROM \"{t}\")" for t in tables
            )
            filled = list(conn.execute(text(probe)).scalars())
            if filled:
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                for t in filled:
                    conn.execute(text(f'DELETE FROM "{t}"'))
        else:
            for t in tables:
                conn.execute(text(f'DELETE FROM "{t}"'))
    limiter = rt.limiter
    if isinstance(limiter, MemoryRateLimiter):
        limiter._windows.clear()
    elif rt.redis is not None and isinstance(limiter, RedisRateLimiter):
        for key in rt.redis.scan_iter(match=f"{limiter._prefix}*"):
            rt.redis.delete(key)


@pytest.fixture
def rt(backend: Runtime) -> Iterator[Runtime]:
    yield backend
    _empty(backend)


@pytest.fixture
def client(rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=rt), client=("203.0.113.7", 5000)) as c:
        yield c


@dataclass
class Actor:
    id: str
    username: str
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@dataclass
class World:
    """Two bases. Base A: an operator, a moderator, brands A1 and A2 (a merchant each),
    an agency with its staff, a host of brand A1 and a host of the agency, a bonded
    warehouse. Base B: an operator and brand B1 with its merchant. Plus a plain viewer."""

    rt: Runtime
    base_a: str = ""
    base_b: str = ""
    brand_a1: str = ""
    brand_a2: str = ""
    agency_a: str = ""
    brand_b1: str = ""
    warehouse_a: str = ""
    actors: dict[str, Actor] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Actor:
        return self.actors[name]

    def add_user(
        self,
        username: str,
        role: str | None = None,
        *,
        base_id: str | None = None,
        org_id: str | None = None,
    ) -> Actor:
        with self.rt.sessions() as db, db.begin():
            user = do_register(db, username, "password-123", username)
            if role:
                do_grant(db, SYSTEM_TESTS, user, role, base_id=base_id, org_id=org_id)
            raw, _ = do_issue_token(db, user, kind="api", ttl_seconds=3600)
            actor = Actor(user.id, username, raw)
        self.actors[username] = actor
        return actor


@pytest.fixture
def world(rt: Runtime) -> World:
    return build_world(rt)


def build_world(rt: Runtime) -> World:
    """The World of the `world` fixture, for module-scoped fixtures that share one."""
    w = World(rt)
    with rt.sessions() as db, db.begin():
        a = bases.do_create_base(db, SYSTEM_TESTS, "朝阳基地", "朝阳区")
        b = bases.do_create_base(db, SYSTEM_TESTS, "顺义基地", "顺义区")
        w.base_a, w.base_b = a.id, b.id
        w.brand_a1 = bases.do_create_org(db, SYSTEM_TESTS, a.id, "brand", "品牌甲").id
        w.brand_a2 = bases.do_create_org(db, SYSTEM_TESTS, a.id, "brand", "品牌乙").id
        w.agency_a = bases.do_create_org(db, SYSTEM_TESTS, a.id, "agency", "机构丙").id
        w.brand_b1 = bases.do_create_org(db, SYSTEM_TESTS, b.id, "brand", "品牌丁").id
        wh = bases.do_create_warehouse(
            db, SYSTEM_TESTS, a.id, "保税仓", customs_code="0101", ems_no="T0101W000001"
        )
        w.warehouse_a = wh.id
    w.add_user("admin", "admin")
    w.add_user("op_a", "operator", base_id=w.base_a)
    w.add_user("mod_a", "moderator", base_id=w.base_a)
    w.add_user("op_b", "operator", base_id=w.base_b)
    w.add_user("merchant_a1", "merchant", base_id=w.base_a, org_id=w.brand_a1)
    w.add_user("merchant_a2", "merchant", base_id=w.base_a, org_id=w.brand_a2)
    w.add_user("merchant_b1", "merchant", base_id=w.base_b, org_id=w.brand_b1)
    w.add_user("agency_a", "agency", base_id=w.base_a, org_id=w.agency_a)
    w.add_user("host_a1", "host", base_id=w.base_a, org_id=w.brand_a1)
    w.add_user("host_ag", "host", base_id=w.base_a, org_id=w.agency_a)
    w.add_user("viewer")
    return w


def png_bytes(size: tuple[int, int] = (8, 8)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buf, format="PNG")
    return buf.getvalue()


@dataclass
class ApiEnv:
    """One world and one client shared by a whole module whose requests are refused (and
    so change nothing) or make what they change themselves."""

    rt: Runtime
    client: TestClient
    world: World
    ids: dict[str, str] = field(default_factory=dict)
    made: int = 0

    def auth(self, actor: str | None) -> dict[str, str]:
        return self.world[actor].auth if actor else {}


def product_body(org_id: str, **over: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "org_id": org_id,
        "title": "纯棉圆领T恤",
        "description": "240g 重磅面料，100%纯棉。",
        "skus": [
            {"attrs": {"颜色": "白", "尺码": "M"}, "price_fen": 9900, "stock": 10},
            {"attrs": {"颜色": "黑", "尺码": "L"}, "price_fen": 9900, "stock": 5},
        ],
    }
    body.update(over)
    return body


SCREENSHOTS = Path(os.environ.get("LIVEBASE_ARTIFACTS", "artifacts")) / "screenshots"
