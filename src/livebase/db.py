"""Engine, sessions, metadata and the column types every feature shares.

The engine is built in the app's lifespan (or by the CLI), never at import, so tests and
several app instances in one process can point at different databases.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, DateTime, Engine, MetaData, String, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker
from sqlalchemy.types import TypeDecorator

# Constraint names are fixed so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def new_id(prefix: str) -> str:
    """An opaque id that sorts by creation time: prefix, 48-bit ms clock, 80 random bits.

    Time order lets list endpoints page by id (``id < cursor``) without an extra index.
    """
    value = (int(time.time() * 1000) << 80) | secrets.randbits(80)
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return f"{prefix}_{''.join(reversed(chars))}"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite keeps no offset)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; livebase stores aware UTC times")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# The column type of money: integer fen (分), never floats. (Request bodies use schemas.Fen.)
FenColumn = BigInteger


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON,
        str: String(255),
    }


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def id_column(prefix: str) -> Mapped[str]:
    return mapped_column(String(40), primary_key=True, default=lambda: new_id(prefix))


# Connections beyond the admitted requests' (docs/http.md "Under load"): the in-process
# job runner, the word-list sync thread, /readyz and a CLI command run beside requests.
POOL_RESERVE = 4
# A checkout that waits this long means the reserve is exhausted by something outside
# admission; the request is answered 503 overloaded instead of hanging for SQLAlchemy's
# default 30 s.
POOL_TIMEOUT_S = 5.0
DEFAULT_CONCURRENCY = 16


def build_engine(url: str, *, echo: bool = False, concurrency: int = DEFAULT_CONCURRENCY) -> Engine:
    """An engine whose pool holds a connection for each admitted request plus a reserve.

    The pool is a QueuePool on both backends (SQLite in WAL mode reads concurrently; one
    connection per admitted request, reused, keeps its page cache warm). Connections
    never time out within an admitted request: admission (livebase.admission) never lets
    more requests hold a session than there are pooled connections.
    """
    pool = {"pool_size": concurrency, "max_overflow": POOL_RESERVE, "pool_timeout": POOL_TIMEOUT_S}
    if url.startswith("sqlite"):
        path = url.removeprefix("sqlite:///")
        memory = not path or path == ":memory:"
        if not memory:
            os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": 30},
            # An in-memory database lives in one connection: keep SQLAlchemy's own pool.
            **({} if memory else pool),
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True, **pool)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    # WAL lets readers go on while one writer commits; foreign keys are off by default.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def build_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    with factory() as session, session.begin():
        yield session
