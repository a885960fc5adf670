"""The yearly quota of a person (by the ID number's keyed hash): reserved when an order is
paid, given back on cancel or return. Every change is one conditional statement — never
read-then-write — so two orders racing for the last of a quota cannot both pass, on
SQLite (one writer at a time) and PostgreSQL (the second UPDATE re-evaluates its WHERE on
the row the first committed)."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from livebase.bonded.models import Quota


def used_fen(db: Session, id_hash: str, year: int) -> int:
    value = db.scalar(select(Quota.used_fen).where(Quota.id_hash == id_hash, Quota.year == year))
    return int(value or 0)


def _add_within(db: Session, id_hash: str, year: int, amount: int, limit: int) -> bool:
    result = db.execute(
        update(Quota)
        .where(Quota.id_hash == id_hash, Quota.year == year, Quota.used_fen + amount <= limit)
        .values(used_fen=Quota.used_fen + amount)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0) == 1


def do_reserve(db: Session, id_hash: str, year: int, amount: int, limit: int) -> bool:
    """Take ``amount`` of the year's ``limit``; whether it fitted. The conditional UPDATE
    runs first (it is the statement a race decides on); a person's first order of the year
    inserts the row (ON CONFLICT DO NOTHING), and one that lost that insert to a
    concurrent first order retries the UPDATE."""
    if amount > limit:
        return False
    if _add_within(db, id_hash, year, amount, limit):
        return True
    if db.scalar(select(Quota.year).where(Quota.id_hash == id_hash, Quota.year == year)):
        return False
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(Quota)
        .values(id_hash=id_hash, year=year, used_fen=amount)
        .on_conflict_do_nothing()
        .returning(Quota.year)
    )
    if db.execute(stmt).first() is not None:
        return True
    return _add_within(db, id_hash, year, amount, limit)


def do_release(db: Session, id_hash: str, year: int, amount: int) -> None:
    db.execute(
        update(Quota)
        .where(Quota.id_hash == id_hash, Quota.year == year, Quota.used_fen >= amount)
        .values(used_fen=Quota.used_fen - amount)
        .execution_options(synchronize_session=False)
    )
