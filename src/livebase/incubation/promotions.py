"""The rule that promotes a host, and the recurring jobs that keep the figures current.

A host reaches a level when their whole record at the base (from the rollup: hours live,
GMV, shows) meets all three of its thresholds. The job raises a host to the highest level
they reach and records the promotion with the figures and thresholds that justified it.
It never lowers a level: figures that fall later (a refund) or thresholds an operator
raises leave the host where they are; an operator sees such hosts on the hosts page
("below their level's thresholds"), and nothing changes silently.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from livebase.accounts.actors import SYSTEM_JOBS, Actor, actor_name
from livebase.db import utcnow
from livebase.errors import ApiError
from livebase.incubation import figures
from livebase.incubation import service as incubation
from livebase.incubation.models import HostProfile, Promotion, ShowRollup
from livebase.logs import get_logger

log = get_logger("livebase.incubation")


def reached(levels: list[incubation.LevelSpec], row: figures.BoardRow | None) -> int:
    """The highest rank whose thresholds the record meets (ladders rise, so the first
    level it misses ends the climb)."""
    best = 0
    for level in levels:
        if row is None:
            break
        if (
            row.live_seconds >= level.min_hours * 3600
            and row.gmv_fen >= level.min_gmv_fen
            and row.shows >= level.min_shows
        ):
            best = level.rank
        else:
            break
    return best


def _why(level: incubation.LevelSpec, row: figures.BoardRow) -> str:
    return (
        f"hours {row.hours} >= {level.min_hours}; "
        f"gmv_fen {row.gmv_fen} >= {level.min_gmv_fen}; "
        f"shows {row.shows} >= {level.min_shows}"
    )


def _ensure_profiles(db: Session, actor: Actor, base_id: str) -> None:
    """Hosts who held shows at the base get a profile (empty) so the rule can see them."""
    pairs = db.execute(
        select(ShowRollup.org_id, ShowRollup.host_id)
        .where(ShowRollup.base_id == base_id)
        .distinct()
    ).all()
    for org_id, host_id in pairs:
        if incubation.find_profile(db, org_id, host_id) is None:
            try:
                with db.begin_nested():
                    incubation.do_create_profile(db, actor, base_id, org_id, host_id)
            except ApiError as exc:  # a host who left the organisation: no profile
                log.info("no profile for host", host_id=host_id, org_id=org_id, error=str(exc))


def do_promote_hosts(
    db: Session, actor: Actor, base_id: str, *, now: datetime | None = None
) -> list[Promotion]:
    """Promote every host of the base who now reaches a higher level; returns the
    promotions recorded."""
    now = now or utcnow()
    _ensure_profiles(db, actor, base_id)
    levels = incubation.levels_of(db, base_id)
    totals = figures.lifetime_totals(db, base_id)
    done: list[Promotion] = []
    for profile in db.scalars(select(HostProfile).where(HostProfile.base_id == base_id)):
        row = totals.get((profile.org_id, profile.user_id))
        rank = reached(levels, row)
        if rank <= profile.level_rank or row is None:
            continue
        old = incubation.level_at(levels, profile.level_rank)
        new = levels[rank]
        promo = Promotion(
            base_id=base_id,
            profile_id=profile.id,
            from_rank=profile.level_rank,
            to_rank=rank,
            from_name=old.name,
            to_name=new.name,
            reason=_why(new, row),
            actor=actor_name(actor),
            at=now,
        )
        db.add(promo)
        profile.level_rank, profile.level_since = rank, now
        done.append(promo)
    db.flush()
    return done


def promotions_of(db: Session, profile_id: str) -> list[Promotion]:
    return list(
        db.scalars(
            select(Promotion).where(Promotion.profile_id == profile_id).order_by(Promotion.at)
        )
    )


def below_level(
    levels: list[incubation.LevelSpec], profile: HostProfile, row: figures.BoardRow | None
) -> bool:
    """The host's record no longer meets their level (kept, never lowered: flagged)."""
    return reached(levels, row) < min(profile.level_rank, len(levels) - 1)


# --- job handlers -----------------------------------------------------------------------


def refresh_rollups(db: Session, payload: dict[str, Any]) -> None:
    """Recurring (2 min): the rollups of live shows, newly ended ones and the window's."""
    figures.do_refresh_rollups(db)


def promote_hosts(db: Session, payload: dict[str, Any]) -> None:
    """Recurring: run the promotion rule for every base that has rollups."""
    base_ids = db.scalars(select(ShowRollup.base_id).distinct()).all()
    for base_id in base_ids:
        do_promote_hosts(db, SYSTEM_JOBS, base_id)
