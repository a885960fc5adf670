"""The no-overlap rule exists however the schema is built: Alembic (what the suite and
`livebase migrate` use) and `metadata.create_all` (the table's DDL events)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, insert, text
from sqlalchemy.exc import IntegrityError

from livebase.db import build_engine, utcnow
from livebase.models import metadata
from livebase.runtime import Runtime
from tests.studios.helpers import local, tomorrow

TABLES = ["users", "bases", "organisations", "shows", "studios", "studio_bookings"]


@pytest.fixture
def created(rt: Runtime, tmp_path: Path) -> Iterator[Engine]:
    """A schema of only the tables bookings need, made by create_all: a fresh SQLite file,
    or a fresh PostgreSQL schema in the test database."""
    if rt.engine.dialect.name == "sqlite":
        engine = build_engine(f"sqlite:///{tmp_path / 'create_all.db'}")
        metadata.create_all(engine, tables=[metadata.tables[t] for t in TABLES])
        yield engine
        engine.dispose()
        return
    schema = f"studios_create_all_{os.getpid()}"
    with rt.engine.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_engine(
        rt.engine.url, connect_args={"options": f"-csearch_path={schema},public"}
    )
    try:
        metadata.create_all(engine, tables=[metadata.tables[t] for t in TABLES], checkfirst=False)
        yield engine
    finally:
        engine.dispose()
        with rt.engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))


def _row(start: object, end: object, n: int) -> dict[str, object]:
    return {
        "id": f"bkg_{n}",
        "studio_id": "std_1",
        "base_id": "base_1",
        "org_id": "org_1",
        "booked_by": "system:tests",
        "starts_at": start,
        "ends_at": end,
        "status": "active",
        "note": "",
        "created_at": utcnow(),
    }


def test_create_all_builds_the_same_no_overlap_rule(created: Engine) -> None:
    t = metadata.tables
    with created.begin() as conn:
        conn.execute(
            insert(t["bases"]).values(
                id="base_1", name="b", district="d", description="", created_at=utcnow()
            )
        )
        conn.execute(
            insert(t["organisations"]).values(
                id="org_1", base_id="base_1", kind="brand", name="o", description="",
                incubated=False, created_at=utcnow(),
            )
        )  # fmt: skip
        conn.execute(
            insert(t["studios"]).values(
                id="std_1", base_id="base_1", name="s", description="", equipment=[],
                capacity=1, opening_hours={}, active=True, created_at=utcnow(),
            )
        )  # fmt: skip
    day = tomorrow()
    with created.begin() as conn:
        conn.execute(insert(t["studio_bookings"]).values(_row(local(day, 9), local(day, 11), 1)))
    with pytest.raises(IntegrityError), created.begin() as conn:
        conn.execute(insert(t["studio_bookings"]).values(_row(local(day, 10), local(day, 12), 2)))
    with created.begin() as conn:  # touching, not overlapping
        conn.execute(
            insert(t["studio_bookings"]).values(
                _row(local(day, 11), local(day, 11) + timedelta(minutes=30), 3)
            )
        )
