"""Follows (关注): a signed-in viewer follows a host; a host's follower count.

Following is idempotent: following twice keeps one row (a unique constraint, so two
taps racing on two nodes cannot make two either) and unfollowing what is not followed
changes nothing. The count is ``COUNT(*)`` over an index on ``host_id`` — exact, and an
index-only scan for a host with a hundred thousand followers — rather than a counter
row every follow would have to lock. The lucky bag's ``follow`` condition reads
:func:`followers_at`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from livebase.accounts.models import User
from livebase.accounts.service import Principal, get_user, grants_of
from livebase.db import new_id, utcnow
from livebase.errors import NotFound, ValidationFailed
from livebase.paging import keyset
from livebase.rooms.follows_models import Follow


@dataclass(frozen=True)
class HostView:
    id: str
    display_name: str
    followers_count: int
    followed_by_me: bool


def check_host(db: Session, user_id: str) -> User:
    """The user, when it is a host of some organisation (404 otherwise: following a
    plain viewer is not a thing, and which users exist is nobody's business)."""
    user = get_user(db, user_id)
    if (
        user is None
        or not user.is_active
        or not any(g.role == "host" for g in grants_of(db, user_id))
    ):
        raise NotFound(f"No host {user_id}.")
    return user


def followers_count(db: Session, host_id: str) -> int:
    return int(db.scalar(select(func.count()).where(Follow.host_id == host_id)) or 0)


def is_following(db: Session, follower_id: str, host_id: str) -> bool:
    q = select(Follow.id).where(Follow.follower_id == follower_id, Follow.host_id == host_id)
    return db.scalar(q) is not None


def host_view(db: Session, host: User, me: Principal | None) -> HostView:
    return HostView(
        host.id,
        host.display_name,
        followers_count(db, host.id),
        me is not None and is_following(db, me.id, host.id),
    )


def do_follow(db: Session, me: Principal, host: User) -> bool:
    """Follow ``host``; True when this call made the follow (False: it existed)."""
    if host.id == me.id:
        raise ValidationFailed("You cannot follow yourself.", loc="path.user_id")
    insert = pg_insert if db.get_bind().dialect.name == "postgresql" else sqlite_insert
    stmt = (
        insert(Follow)
        .values(id=new_id("fol"), follower_id=me.id, host_id=host.id, created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["follower_id", "host_id"])
        .returning(Follow.id)
    )
    # RETURNING, not rowcount: psycopg reports -1 for an INSERT … ON CONFLICT it skipped.
    return db.scalar(stmt) is not None


def do_unfollow(db: Session, me: Principal, host_id: str) -> bool:
    result = db.execute(
        delete(Follow).where(Follow.follower_id == me.id, Follow.host_id == host_id)
    )
    return bool(getattr(result, "rowcount", 0))


@dataclass(frozen=True)
class FollowView:
    id: str
    host_id: str
    display_name: str
    followed_at: datetime


def list_my_follows(
    db: Session, me: Principal, *, limit: int | None = None, cursor: str | None = None
) -> list[FollowView]:
    q = (
        select(Follow.id, Follow.host_id, User.display_name, Follow.created_at)
        .join(User, User.id == Follow.host_id)
        .where(Follow.follower_id == me.id)
    )
    rows = db.execute(keyset(q, Follow.id, limit=limit, cursor=cursor, newest_first=True))
    return [FollowView(*row) for row in rows.all()]


def followers_at(db: Session, host_id: str, at: datetime) -> list[tuple[str, datetime]]:
    """(follower id, followed at) of everyone following ``host_id`` at ``at``."""
    q = select(Follow.follower_id, Follow.created_at).where(
        Follow.host_id == host_id, Follow.created_at <= at
    )
    return [(uid, when) for uid, when in db.execute(q).all()]
