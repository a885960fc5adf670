"""Lucky bags (福袋): a host (or its organisation's staff or room assistants) opens a bag
on a scheduled or live show; viewers enter by chatting a phrase during the bag or by
following the host; at ``ends_at`` (a timed job) or on an early draw the winners are
drawn verifiably (:mod:`livebase.rooms.luckybag_draw`, docs/luckybag.md).

Order of a draw, in one transaction: the conditional ``open → drawn`` update (only one
drawer wins: the job and the host's button cannot both draw), the entrants fixed
(``eligible``), the winners drawn from the stored seed, the ``bag_draw`` frame queued for
after the commit.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from livebase.accounts.actors import SYSTEM_JOBS, Actor, actor_name
from livebase.accounts.service import Principal, get_user, org_members
from livebase.audit.service import do_record
from livebase.compliance import CheckContext, check
from livebase.db import utcnow
from livebase.errors import ApiError, Code, Conflict, Forbidden, NotFound, ValidationFailed
from livebase.jobs.service import do_schedule
from livebase.paging import keyset
from livebase.rooms import follows, frames
from livebase.rooms import luckybag_draw as drawing
from livebase.rooms.luckybag_models import LuckyBag, LuckyBagEntry, LuckyBagWinner
from livebase.schemas import rfc3339
from livebase.shows import service as shows
from livebase.shows.models import Show

DRAW_JOB = "luckybag.draw"
# Bags last 30 s to 30 min: shorter gives viewers no time to type the phrase, longer is
# not a lucky bag but a giveaway campaign.
MIN_DURATION_S, MAX_DURATION_S = 30, 30 * 60
MAX_WINNERS = 100
# The timed draw runs this long after ends_at, so the chat lines every node accepted
# before ends_at have been written by its entry writer (it flushes within ~0.2 s; 2 s
# covers a loaded node). Only lines accepted up to ends_at count, whenever they land.
DRAW_GRACE = timedelta(seconds=2)
# Roles of an organisation's members who may not win its bags (they run the room).
STAFF_ROLES = ("merchant", "agency", "host", "assistant")
CONDITIONS = ("chat", "follow")


@dataclass(frozen=True)
class BagSpec:
    prize: str
    winners_count: int
    condition: str
    duration_s: int
    phrase: str | None = None


def normalise(text: str) -> str:
    """What phrase matching compares: NFKC (full-width → half-width), case-folded, with
    all white space removed, so "我要 福袋！" matches the phrase "我要福袋!"."""
    return "".join(unicodedata.normalize("NFKC", text).casefold().split())


def matches(phrase: str, text: str) -> bool:
    want = normalise(phrase)
    return bool(want) and want in normalise(text)


# -- reading ----------------------------------------------------------------------------


def get_bag(db: Session, bag_id: str) -> LuckyBag:
    bag = db.get(LuckyBag, bag_id)
    if bag is None:
        raise NotFound(f"No lucky bag {bag_id}.")
    return bag


def may_manage(principal: Principal, show: Show) -> bool:
    """The show's host, its organisation's staff, or its room assistants (场控)."""
    return shows.can_manage(principal, show) or show.org_id in principal.org_ids("assistant")


def check_manage_show(db: Session, principal: Principal, show_id: str) -> Show:
    show = shows.get_show(db, show_id)
    if not may_manage(principal, show):
        raise Forbidden("Only the show's host, its organisation's staff or its assistants may.")
    return show


def check_manage_bag(db: Session, principal: Principal, bag_id: str) -> LuckyBag:
    bag = get_bag(db, bag_id)
    check_manage_show(db, principal, bag.show_id)
    return bag


def winners_of(db: Session, bag: LuckyBag) -> list[frames.BagWinner]:
    rows = db.execute(
        select(LuckyBagWinner.user_id, LuckyBagWinner.name)
        .where(LuckyBagWinner.bag_id == bag.id)
        .order_by(LuckyBagWinner.rank)
    ).all()
    return [frames.BagWinner(user_id=user_id, name=name) for user_id, name in rows]


def bag_view(db: Session, bag: LuckyBag) -> dict[str, Any]:
    """The public shape of a bag; ``seed`` and ``winners`` only once drawn."""
    drawn = bag.status == "drawn"
    return {
        "id": bag.id,
        "show_id": bag.show_id,
        "host_id": bag.host_id,
        "status": bag.status,
        "prize": bag.prize,
        "winners_count": bag.winners_count,
        "condition": bag.condition,
        "phrase": bag.phrase,
        "duration_s": bag.duration_s,
        "starts_at": rfc3339(bag.starts_at),
        "ends_at": rfc3339(bag.ends_at),
        "seed_hash": bag.seed_hash,
        "seed": bag.seed if drawn else None,
        "drawn_at": rfc3339(bag.drawn_at),
        "cutoff_at": rfc3339(bag.cutoff_at),
        "entrants_count": bag.entrants_count,
        "entrants_digest": bag.entrants_digest,
        "winners": [w.model_dump() for w in winners_of(db, bag)] if drawn else [],
        "created_at": rfc3339(bag.created_at),
    }


def list_show_bags(
    db: Session, show_id: str, *, limit: int | None = None, cursor: str | None = None
) -> list[LuckyBag]:
    shows.get_show(db, show_id)  # 404 for no such show
    q = select(LuckyBag).where(LuckyBag.show_id == show_id)
    return list(db.scalars(keyset(q, LuckyBag.id, limit=limit, cursor=cursor, newest_first=True)))


def entrants(db: Session, bag: LuckyBag) -> list[str]:
    """The sorted ids drawn over (public once drawn: anyone may recompute the draw)."""
    if bag.status != "drawn":
        raise Conflict("The entrants are published with the draw; this bag is still open.")
    ids = db.scalars(
        select(LuckyBagEntry.user_id).where(
            LuckyBagEntry.bag_id == bag.id, LuckyBagEntry.eligible.is_(True)
        )
    ).all()
    return drawing.sort_entrants(list(ids))


@dataclass(frozen=True)
class Prize:
    bag_id: str
    show_id: str
    prize: str
    rank: int
    drawn_at: datetime | None


def my_prizes(
    db: Session, me: Principal, *, limit: int | None = None, cursor: str | None = None
) -> list[Prize]:
    q = (
        select(
            LuckyBag.id, LuckyBag.show_id, LuckyBag.prize, LuckyBagWinner.rank, LuckyBag.drawn_at
        )
        .join(LuckyBagWinner, LuckyBagWinner.bag_id == LuckyBag.id)
        .where(LuckyBagWinner.user_id == me.id)
    )
    rows = db.execute(keyset(q, LuckyBag.id, limit=limit, cursor=cursor, newest_first=True))
    return [Prize(*row) for row in rows.all()]


# -- opening ----------------------------------------------------------------------------


def _check_text(kind: str, text: str, show: Show, loc: str) -> None:
    """A prize is published like a listing (ad-law words, contact details); a phrase is
    what viewers will chat, so it must pass as a chat line. Anything but ``allow`` is
    refused: a bag lasts minutes, it cannot wait for a moderator."""
    verdict = check(kind, text, CheckContext(base_id=show.base_id, show_id=show.id))
    if verdict.allowed:
        return
    labels = ", ".join(verdict.labels) or verdict.verdict
    raise ApiError(
        f"The {loc.rsplit('.', 1)[-1]} did not pass the compliance check ({labels}).",
        code=Code.VALIDATION_FAILED,
        fields=[{"loc": loc, "msg": f"compliance: {verdict.verdict} ({labels})"}],
        extra={"moderation": verdict.to_dict()},
    )


def _check_spec(spec: BagSpec, show: Show) -> None:
    if spec.condition not in CONDITIONS:
        raise ValidationFailed("condition is chat or follow.", loc="body.condition")
    if not MIN_DURATION_S <= spec.duration_s <= MAX_DURATION_S:
        raise ValidationFailed(
            f"duration_s is {MIN_DURATION_S}–{MAX_DURATION_S} seconds.", loc="body.duration_s"
        )
    if not 1 <= spec.winners_count <= MAX_WINNERS:
        raise ValidationFailed(f"winners_count is 1–{MAX_WINNERS}.", loc="body.winners_count")
    if spec.condition == "chat":
        if spec.phrase is None or not normalise(spec.phrase):
            raise ValidationFailed("A chat bag needs the phrase viewers send.", loc="body.phrase")
    elif spec.phrase is not None:
        raise ValidationFailed("A follow bag takes no phrase.", loc="body.phrase")
    _check_text("listing", spec.prize, show, "body.prize")
    if spec.phrase is not None:
        _check_text("chat", spec.phrase, show, "body.phrase")


def do_create_bag(db: Session, actor: Actor, show: Show, spec: BagSpec) -> LuckyBag:
    """Open a bag now until now + duration; 409 ``show_ended`` on an ended show, 409
    ``conflict`` while the show has another open bag."""
    if show.status == "ended":
        raise shows.ShowEnded("The show has ended.")
    _check_spec(spec, show)
    now = utcnow()
    seed = drawing.new_seed()
    bag = LuckyBag(
        show_id=show.id,
        org_id=show.org_id,
        base_id=show.base_id,
        host_id=show.host_id,
        prize=spec.prize,
        winners_count=spec.winners_count,
        condition=spec.condition,
        phrase=spec.phrase,
        duration_s=spec.duration_s,
        starts_at=now,
        ends_at=now + timedelta(seconds=spec.duration_s),
        status="open",
        seed=seed.hex(),
        seed_hash=drawing.seed_hash(seed),
        created_by=actor_name(actor),
    )
    try:
        with db.begin_nested():
            db.add(bag)
    except IntegrityError:
        open_id = db.scalar(
            select(LuckyBag.id).where(LuckyBag.show_id == show.id, LuckyBag.status == "open")
        )
        raise Conflict(
            "The show already has an open lucky bag; draw it first.", extra={"open_bag_id": open_id}
        ) from None
    do_schedule(db, DRAW_JOB, bag.ends_at + DRAW_GRACE, {"bag_id": bag.id}, f"{DRAW_JOB}:{bag.id}")
    do_record(db, actor, "create", "lucky_bag", bag.id, condition=spec.condition)
    frames.notify(
        db,
        frames.BagStart(
            show_id=show.id,
            id=bag.id,
            prize=bag.prize,
            winners_count=bag.winners_count,
            condition=bag.condition,
            phrase=bag.phrase,
            host_id=bag.host_id,
            ends_at=bag.ends_at,
            seed_hash=bag.seed_hash,
        ),
    )
    return bag


# -- entries ----------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenChatBag:
    id: str
    show_id: str
    phrase: str
    starts_at: datetime
    ends_at: datetime


def open_chat_bags(db: Session, show_ids: list[str]) -> list[OpenChatBag]:
    q = select(
        LuckyBag.id, LuckyBag.show_id, LuckyBag.phrase, LuckyBag.starts_at, LuckyBag.ends_at
    ).where(LuckyBag.show_id.in_(show_ids), LuckyBag.status == "open", LuckyBag.condition == "chat")
    return [OpenChatBag(i, s, p or "", a, e) for i, s, p, a, e in db.execute(q).all()]


def _insert(db: Session) -> Any:
    return pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert


def do_record_entries(db: Session, rows: list[tuple[str, str, datetime]]) -> int:
    """(bag, user, at) entries; a user's first qualifying line counts, repeats change
    nothing. Returns how many were new."""
    if not rows:
        return 0
    stmt = (
        _insert(db)(LuckyBagEntry)
        .values([{"bag_id": b, "user_id": u, "at": at} for b, u, at in rows])
        .on_conflict_do_nothing(index_elements=["bag_id", "user_id"])
        .returning(LuckyBagEntry.user_id)
    )
    return len(db.scalars(stmt).all())


# -- drawing ----------------------------------------------------------------------------


def _staff_ids(db: Session, bag: LuckyBag) -> set[str]:
    members = {user.id for _gid, role, user in org_members(db, bag.org_id) if role in STAFF_ROLES}
    return members | {bag.host_id}


def do_draw(db: Session, actor: Actor, bag: LuckyBag, cutoff: datetime) -> bool:
    """Draw the bag with entries up to ``cutoff``; False when it was drawn already."""
    now = utcnow()
    cutoff = min(cutoff, bag.ends_at, now)
    result = db.execute(
        update(LuckyBag)
        .where(LuckyBag.id == bag.id, LuckyBag.status == "open")
        .values(status="drawn", drawn_at=now, cutoff_at=cutoff)
        .execution_options(synchronize_session=False)
    )
    if getattr(result, "rowcount", 0) != 1:
        db.refresh(bag)
        return False
    if bag.condition == "follow":
        followers = follows.followers_at(db, bag.host_id, cutoff)
        for start in range(0, len(followers), 1000):
            do_record_entries(
                db, [(bag.id, uid, at) for uid, at in followers[start : start + 1000]]
            )
    staff = _staff_ids(db, bag)
    in_window = and_(LuckyBagEntry.at >= bag.starts_at, LuckyBagEntry.at <= cutoff)
    if bag.condition == "follow":
        in_window = LuckyBagEntry.at <= cutoff
    of_bag = LuckyBagEntry.bag_id == bag.id
    db.execute(
        update(LuckyBagEntry)
        .where(of_bag, LuckyBagEntry.user_id.in_(staff))
        .values(eligible=False)
        .execution_options(synchronize_session=False)
    )
    db.execute(
        update(LuckyBagEntry)
        .where(of_bag, LuckyBagEntry.user_id.not_in(staff), in_window)
        .values(eligible=True)
        .execution_options(synchronize_session=False)
    )
    db.refresh(bag)
    ids = entrants(db, bag)
    seed = bytes.fromhex(bag.seed)
    picked = drawing.draw(seed, ids, bag.winners_count)
    for rank, user_id in enumerate(picked, start=1):
        user = get_user(db, user_id)
        name = frames.mask_name(user.display_name if user is not None else "")
        db.add(LuckyBagWinner(bag_id=bag.id, rank=rank, user_id=user_id, name=name))
    bag.entrants_count = len(ids)
    bag.entrants_digest = drawing.entrants_digest(ids)
    db.flush()
    do_record(db, actor, "draw", "lucky_bag", bag.id, entrants=len(ids), winners=len(picked))
    frames.notify(
        db,
        frames.BagDraw(
            show_id=bag.show_id,
            id=bag.id,
            prize=bag.prize,
            winners=winners_of(db, bag),
            seed=bag.seed,
            seed_hash=bag.seed_hash,
            entrants_count=len(ids),
            entrants_digest=bag.entrants_digest,
        ),
    )
    return True


def draw_due(db: Session, payload: dict[str, Any]) -> None:
    """Job: draw the bag at ``ends_at`` (plus the grace) unless it was drawn early."""
    bag = db.get(LuckyBag, payload["bag_id"])
    if bag is not None and bag.status == "open":
        do_draw(db, SYSTEM_JOBS, bag, bag.ends_at)
