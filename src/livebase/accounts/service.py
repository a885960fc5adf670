"""Accounts: registration, sign-in with throttling, tokens and sessions, roles.

Functions take a SQLAlchemy session and plain values and know nothing of HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import NamedTuple

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from livebase.accounts.actors import Actor
from livebase.accounts.models import ROLES, AuthToken, RoleGrant, User
from livebase.accounts.security import hash_password, new_token, token_digest, verify_password
from livebase.audit.service import do_record
from livebase.db import utcnow
from livebase.errors import ApiError, BadCredentials, Code, Forbidden, RateLimited, ValidationFailed
from livebase.paging import keyset
from livebase.ratelimit import RateLimiter
from livebase.settings import Settings

# fullmatch, not match: `$` would accept a trailing newline ("alice\n").
USERNAME_RE = re.compile(r"[a-z0-9_]{3,32}")
PASSWORD_MIN, PASSWORD_MAX = 8, 128
# The per-address limit is this many times the per-account one (DESIGN §1).
ADDRESS_FACTOR = 4


@dataclass(frozen=True)
class Grant:
    role: str
    base_id: str | None = None
    org_id: str | None = None
    counter_id: str | None = None


@dataclass
class Principal:
    """The signed-in user and what they may do. Any principal is a viewer and buyer."""

    user: User
    grants: list[Grant] = field(default_factory=list)
    token_id: str | None = None
    session_token: str | None = None  # set for cookie sessions (CSRF is bound to it)

    @property
    def id(self) -> str:
        return self.user.id

    @property
    def is_admin(self) -> bool:
        return any(g.role == "admin" for g in self.grants)

    def has(self, role: str, *, base_id: str | None = None, org_id: str | None = None) -> bool:
        if self.is_admin:
            return True
        return any(
            g.role == role
            and (base_id is None or g.base_id == base_id)
            and (org_id is None or g.org_id == org_id)
            for g in self.grants
        )

    def org_ids(self, *roles: str) -> set[str]:
        return {g.org_id for g in self.grants if g.role in roles and g.org_id}

    def base_ids(self, *roles: str) -> set[str]:
        return {g.base_id for g in self.grants if g.role in roles and g.base_id}


def check_username(username: str) -> None:
    if not USERNAME_RE.fullmatch(username):
        raise ValidationFailed(
            "Username must be 3–32 characters of a–z, 0–9 and _.", loc="body.username"
        )


def check_password(password: str) -> None:
    if not PASSWORD_MIN <= len(password) <= PASSWORD_MAX:
        raise ValidationFailed(
            f"Password must be {PASSWORD_MIN}–{PASSWORD_MAX} characters.", loc="body.password"
        )


def check_signup_rate(limiter: RateLimiter, settings: Settings, address: str) -> None:
    n, ttl = limiter.count(f"signup:{address}")
    if n >= settings.signups_per_hour:
        raise RateLimited("Too many accounts created from this address.", retry_after=ttl)


def do_register(db: Session, username: str, password: str, display_name: str | None = None) -> User:
    check_username(username)
    check_password(password)
    if db.scalar(select(User.id).where(User.username == username)):
        raise ApiError("That username is taken.", code=Code.USERNAME_TAKEN)
    user = User(
        username=username,
        display_name=(display_name or username).strip()[:64] or username,
        password_hash=hash_password(password),
    )
    db.add(user)
    try:
        db.flush()
    except IntegrityError as exc:  # a concurrent registration won the race
        raise ApiError("That username is taken.", code=Code.USERNAME_TAKEN) from exc
    return user


def note_signup(limiter: RateLimiter, address: str) -> None:
    limiter.hit(f"signup:{address}", 3600)


def _check_login_rate(
    limiter: RateLimiter, settings: Settings, username: str, address: str
) -> None:
    per_account, ttl_a = limiter.count(f"login:user:{username}")
    per_address, ttl_b = limiter.count(f"login:addr:{address}")
    if per_account >= settings.login_max_failures:
        raise RateLimited("Too many failed sign-ins for this account.", retry_after=ttl_a)
    if per_address >= settings.login_max_failures * ADDRESS_FACTOR:
        raise RateLimited("Too many failed sign-ins from this address.", retry_after=ttl_b)


def do_authenticate(
    db: Session,
    limiter: RateLimiter,
    settings: Settings,
    username: str,
    password: str,
    address: str,
) -> User:
    """Check a password, counting failures per account and per address."""
    _check_login_rate(limiter, settings, username, address)
    user = db.scalar(select(User).where(User.username == username))
    ok = verify_password(user.password_hash if user else None, password)
    if not ok or user is None or not user.is_active:
        window = settings.login_window_seconds
        limiter.hit(f"login:user:{username}", window)
        limiter.hit(f"login:addr:{address}", window)
        raise BadCredentials("Wrong username or password.")
    limiter.reset(f"login:user:{username}")
    return user


def do_issue_token(
    db: Session, user: User, *, kind: str, ttl_seconds: int
) -> tuple[str, AuthToken]:
    raw = new_token()
    row = AuthToken(
        user_id=user.id,
        token_hash=token_digest(raw),
        kind=kind,
        expires_at=utcnow() + timedelta(seconds=ttl_seconds),
    )
    db.add(row)
    db.flush()
    return raw, row


def do_revoke_token(db: Session, token_id: str) -> None:
    db.execute(update(AuthToken).where(AuthToken.id == token_id).values(revoked_at=utcnow()))


def do_purge_expired_tokens(db: Session) -> int:
    """Timed job: forget tokens past expiry (revoked ones included)."""
    result = db.execute(delete(AuthToken).where(AuthToken.expires_at < utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def grants_of(db: Session, user_id: str) -> list[Grant]:
    rows = db.scalars(select(RoleGrant).where(RoleGrant.user_id == user_id)).all()
    return [Grant(r.role, r.base_id, r.org_id, r.counter_id) for r in rows]


def resolve_token(db: Session, raw: str, *, kind: str) -> Principal | None:
    row = db.scalar(select(AuthToken).where(AuthToken.token_hash == token_digest(raw)))
    if row is None or row.kind != kind or row.revoked_at is not None:
        return None
    if row.expires_at <= utcnow():
        return None
    user = db.get(User, row.user_id)
    if user is None or not user.is_active:
        return None
    return Principal(
        user,
        grants_of(db, user.id),
        token_id=row.id,
        session_token=raw if kind == "session" else None,
    )


class TokenUser(NamedTuple):
    """Who a bearer token belongs to, as the flash-sale hot path needs it: any signed-in
    user may buy, so no roles travel; a plain tuple, because a burst resolves thousands."""

    id: str
    display_name: str
    token_id: str


def resolve_token_users(db: Session, raws: Iterable[str], *, kind: str) -> dict[str, TokenUser]:
    """Several tokens at once, in one query of columns (the flash-sale token cache
    resolves a burst of first-seen buyers together); invalid ones and the tokens of
    closed accounts are left out."""
    by_hash = {token_digest(raw): raw for raw in raws}
    if not by_hash:
        return {}
    q = (
        select(AuthToken.token_hash, User.id, User.display_name, AuthToken.id)
        .join(User, User.id == AuthToken.user_id)
        .where(
            AuthToken.token_hash.in_(by_hash),
            AuthToken.kind == kind,
            AuthToken.revoked_at.is_(None),
            AuthToken.expires_at > utcnow(),
            User.is_active.is_(True),
        )
    )
    return {by_hash[h]: TokenUser(uid, name, tid) for h, uid, name, tid in db.execute(q)}


def revoked_since(db: Session, since: datetime) -> list[str]:
    """Digests of the tokens revoked at or after ``since`` (caches drop them)."""
    return list(db.scalars(select(AuthToken.token_hash).where(AuthToken.revoked_at >= since)))


def do_grant(
    db: Session,
    actor: Actor,
    user: User,
    role: str,
    *,
    base_id: str | None = None,
    org_id: str | None = None,
    counter_id: str | None = None,
) -> RoleGrant:
    """Give a role in its scope. Scope rules: operator/moderator need a base; merchant,
    agency, host and assistant (场控) an organisation; clerk a counter."""
    if role not in ROLES:
        raise ValidationFailed(f"Unknown role {role!r}; one of {', '.join(ROLES)}.", loc="role")
    if role in ("operator", "moderator") and not base_id:
        raise ValidationFailed(f"Role {role} needs a base.", loc="base_id")
    if role in ("merchant", "agency", "host", "assistant") and not org_id:
        raise ValidationFailed(f"Role {role} needs an organisation.", loc="org_id")
    if role == "clerk" and not counter_id:
        raise ValidationFailed("Role clerk needs a pickup counter.", loc="counter_id")
    existing = db.scalar(
        select(RoleGrant).where(
            RoleGrant.user_id == user.id,
            RoleGrant.role == role,
            RoleGrant.base_id.is_(base_id) if base_id is None else RoleGrant.base_id == base_id,
            RoleGrant.org_id.is_(org_id) if org_id is None else RoleGrant.org_id == org_id,
            RoleGrant.counter_id.is_(counter_id)
            if counter_id is None
            else RoleGrant.counter_id == counter_id,
        )
    )
    if existing is not None:
        return existing
    grant = RoleGrant(
        user_id=user.id, role=role, base_id=base_id, org_id=org_id, counter_id=counter_id
    )
    db.add(grant)
    do_record(
        db,
        actor,
        "grant",
        "user",
        user.id,
        role=role,
        base_id=base_id,
        org_id=org_id,
        counter_id=counter_id,
    )
    db.flush()
    return grant


def user_by_username(db: Session, username: str) -> User | None:
    return db.scalar(select(User).where(User.username == username))


def get_user(db: Session, user_id: str) -> User | None:
    return db.get(User, user_id)


def org_members(
    db: Session, org_id: str, *, limit: int | None = None, cursor: str | None = None
) -> list[tuple[str, str, User]]:
    """(grant id, role, user) for every grant scoped to the organisation, in the order
    they were given; pages by grant id."""
    q = (
        select(RoleGrant.id, RoleGrant.role, User)
        .join(User, User.id == RoleGrant.user_id)
        .where(RoleGrant.org_id == org_id)
    )
    rows = db.execute(keyset(q, RoleGrant.id, limit=limit, cursor=cursor, newest_first=False))
    return [(grant_id, role, user) for grant_id, role, user in rows.all()]


def check_staff(principal: Principal, *roles: str) -> None:
    if principal.is_admin or any(g.role in roles for g in principal.grants):
        return
    raise Forbidden("This needs a staff role: " + ", ".join(roles) + ".")
