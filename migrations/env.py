"""Alembic environment: the URL comes from LIVEBASE_* settings (or the caller's config)."""

from __future__ import annotations

from alembic import context

from livebase.db import build_engine
from livebase.models import metadata
from livebase.settings import Settings

config = context.config
url = config.attributes.get("url") or Settings().sqlalchemy_url


def run_migrations_offline() -> None:
    context.configure(
        url=url,
        target_metadata=metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = build_engine(url)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection: object) -> None:
    context.configure(
        connection=connection, target_metadata=metadata, render_as_batch=url.startswith("sqlite")
    )  # SQLite ALTERs via batch
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
