"""Run Alembic migrations from code (``livebase migrate``, tests, ``make run``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parents[2] / "migrations"


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["url"] = url
    return cfg


def upgrade(url: str) -> None:
    # "heads": feature branches of the migration tree all apply (see docs/architecture.md).
    command.upgrade(alembic_config(url), "heads")
